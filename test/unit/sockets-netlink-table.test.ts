// The ss-style table of sockets read over sock_diag (captured fixtures): a listener's backlog
// in Send-Q, the unix peer column, packet and netlink rows as ss prints them, -i on a second
// line in ss's order, -m, and -e with the cookie as sk:HEX and the shutdown state; printf's %g.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteText, formatG } from '../../src/cli/sockets/byte-text.js';
import { SsTableWriter, type SsTableOptions } from '../../src/cli/sockets/ss-table.js';
import { AddressBook } from '../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../src/sockets/filters.js';
import { newDumpStatus, parseInetRecord, parseNetlinkRecord, parsePacketRecord, parseUnixRecord, walkReplies } from '../../src/sockets/netlink/sock-diag-records.js';
import { SocketRows } from '../../src/sockets/socket-rows.js';

const dir = join(import.meta.dirname, '../fixtures/netlink');
const meta = JSON.parse(readFileSync(join(dir, 'sockets.json'), 'utf8')) as {
  seq: Record<string, number>;
  sockets: { listener: { port: number; backlog: number }; listener6: { port: number }; client: { localPort: number }; unixClientInode: number; packet: { ifindex: number } };
};

function render(name: string, file: string, options: Partial<SsTableOptions> = {}): string[] {
  const table = PROC_TABLES.find((t) => t.file === file)!;
  const bytes = readFileSync(join(dir, `${name}.bin`));
  const addresses = new AddressBook();
  const rows = new SocketRows(table, 4);
  rows.withNetlink();
  const status = newDumpStatus();
  const filter = compileFilter({});
  const inet = { filter, addresses, rows, status, tcpInfo: true, memory: true, keepIds: false, attributes: true };
  const other = { filter, rows, status, memory: true, interfaceName: (i: number) => (i === meta.sockets.packet.ifindex ? 'lo' : null) };
  walkReplies(bytes, bytes.length, meta.seq[name]!, status, (buf, s, e) => {
    if (file === 'unix') parseUnixRecord(buf, s, e, other);
    else if (file === 'packet') parsePacketRecord(buf, s, e, other);
    else if (file === 'netlink') parseNetlinkRecord(buf, s, e, other);
    else parseInetRecord(buf, s, e, inet);
  });
  let out = '';
  const writer = new SsTableWriter(
    { numeric: true, processes: false, extended: false, timers: false, header: false, showNetid: true, showState: true, screenWidth: null, ...options },
    { addresses, owners: null },
    (b) => (out += b.toString()),
  );
  writer.add(rows);
  writer.end();
  return out.split('\n').filter((l) => l !== '');
}

describe('the ss table of sock_diag rows', () => {
  it('shows a listener backlog as Send-Q', () => {
    const line = render('tcp4-info', 'tcp').find((l) => l.includes(`127.0.0.1:${meta.sockets.listener.port} `) && l.includes('LISTEN'))!;
    expect(line).toMatch(new RegExp(`^tcp\\s+LISTEN\\s+0\\s+${meta.sockets.listener.backlog}\\s+127\\.0\\.0\\.1:${meta.sockets.listener.port}\\s+0\\.0\\.0\\.0:\\*$`));
  });

  it('puts -i and -m on a second line after a tab, and -e adds sk:COOKIE', () => {
    const lines = render('tcp4-info', 'tcp', { tcpInfo: true, memory: true, extended: true });
    const at = lines.findIndex((l) => l.includes(`127.0.0.1:${meta.sockets.client.localPort} `));
    // ss -e ends with the shutdown state: '<->' while both directions are open
    expect(lines[at]).toMatch(/ ino:\d+ sk:[0-9a-f]+( cgroup:\S+)? <->$/);
    expect(lines[at + 1]).toMatch(/^\t skmem:\(r\d+,rb\d+,t\d+,tb\d+,f\d+,w\d+,o\d+,bl\d+,d\d+\) .*\b(cubic|bbr|reno)\b.* rtt:[\d.]+\/[\d.]+ .*cwnd:\d+/);
  });

  it('prints ss -e\'s shutdown state and v6only, and a v6only wildcard as [::] (ss\'s inet_addr_print)', () => {
    const six = render('tcp6', 'tcp6', { extended: true });
    const listener = six.find((l) => l.includes(`:${meta.sockets.listener6.port} `))!;
    expect(listener).toMatch(/ v6only:[01] <->$/);
    // the fixture's IPv6 listener is bound to ::1: v6only (the kernel sets it for a bound address)
    expect(listener).toMatch(/\[::1\]:\d+\s+\[::\]:\*/);
  });

  it('spreads a column wider than the terminal over a line of its own instead of looping', () => {
    // the fixture's abstract unix name is some 100 characters: wider than a 40-column screen
    const lines = render('unix', 'unix', { screenWidth: 40 });
    expect(lines.some((l) => l.includes('@netdiag-fixture@x'))).toBe(true);
  });

  it('gives unix sockets their peer inode', () => {
    const line = render('unix', 'unix').find((l) => new RegExp(`\\* ${meta.sockets.unixClientInode}\\s`).test(l))!;
    expect(line).toMatch(/^u_str\s+ESTAB\s+0\s+0\s+\* \d+\s+\* [1-9]\d*$/);
  });

  it('prints packet and netlink sockets as ss does', () => {
    expect(render('packet', 'packet')).toContainEqual(expect.stringMatching(/^p_raw\s+UNCONN\s+\d+\s+0\s+2048:lo\s+\*$/));
    expect(render('packet', 'packet', { numeric: false })).toContainEqual(expect.stringMatching(/^p_raw\s+UNCONN\s+\d+\s+0\s+ip:lo\s+\*$/));
    expect(render('netlink', 'netlink', { numeric: false })).toContainEqual(expect.stringMatching(/^nl\s+UNCONN\s+0\s+0\s+rtnl:kernel\s+\*$/));
  });
});

describe('formatG (printf %g, as ss prints times and gains)', () => {
  it('matches printf on the values ss prints', () => {
    // expected strings from C printf("%g")
    const cases: [number, string][] = [[0.463, '0.463'], [204, '204'], [2.88671875, '2.88672'], [1234.5678, '1234.57'], [123456789, '1.23457e+08'], [0.00001234, '1.234e-05'], [100000, '100000'], [1e6, '1e+06'], [0.0001, '0.0001'], [0.026, '0.026'], [3, '3'], [0.1 + 0.2, '0.3']];
    for (const [x, want] of cases) {
      expect(formatG(x)).toBe(want);
      const w = new ByteText();
      w.g(x).g(x);
      expect(w.buf.toString('latin1', 0, w.length)).toBe(want + want);
    }
  });
});
