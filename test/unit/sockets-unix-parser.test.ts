// The /proc/net/unix parser on fixtures: stream, dgram and seqpacket sockets, listeners,
// abstract names, paths with spaces, unbound and embryonic sockets, malformed lines.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFilter, PROC_TABLES } from '../../src/sockets/filters.js';
import { listSockets } from '../../src/sockets/index.js';
import { SocketRows, toEntries } from '../../src/sockets/socket-rows.js';
import { AddressBook } from '../../src/sockets/address-book.js';
import { parseUnixLines } from '../../src/sockets/unix-parser.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');

async function unixSockets() {
  return (await listSockets({ procRoot, protocols: ['unix'] })).sockets;
}

describe('unix sockets', () => {
  it('reads every socket type and state, skipping what is not a unix socket line', async () => {
    const rows = (await unixSockets()).map((s) => [s.inode, s.type, s.state, s.path]);
    expect(rows).toEqual([
      [5001, 'stream', 'LISTEN', '/run/sshd.sock'],
      [5002, 'stream', 'ESTABLISHED', null],
      [5003, 'stream', 'LISTEN', '@/tmp/.X11-unix/X0'],
      [5004, 'dgram', 'UNCONN', '@netdiag@with@nuls'],
      [5005, 'stream', 'LISTEN', '/tmp/my socket dir/app sock'],
      [5006, 'dgram', 'UNCONN', '/run/systemd/notify'],
      [5007, 'dgram', 'ESTABLISHED', null],
      [5008, 'seqpacket', 'LISTEN', '/run/seq.sock'],
      [5009, 'seqpacket', 'ESTABLISHED', null],
      // not accepted yet: no inode, connecting (as ss maps St 2)
      [null, 'stream', 'SYN_SENT', '/run/sshd.sock'],
      [5011, 'stream', 'CLOSING', null],
      [4294967295, 'dgram', 'UNCONN', null],
    ]);
  });

  it('gives unix sockets null addresses, ports, queues, uid and timer', async () => {
    const s = (await unixSockets())[0]!;
    expect(s).toEqual({
      protocol: 'unix',
      family: 'unix',
      type: 'stream',
      state: 'LISTEN',
      localAddress: null,
      localPort: null,
      remoteAddress: null,
      remotePort: null,
      mapped: false,
      recvQueue: null,
      sendQueue: null,
      inode: 5001,
      uid: null,
      user: null,
      service: null,
      owners: null,
      path: '/run/sshd.sock',
      timer: null,
    });
  });

  it('filters by state while parsing', async () => {
    const listening = (await listSockets({ procRoot, protocols: ['unix'], states: ['listening'] })).sockets;
    expect(listening.map((s) => s.inode)).toEqual([5001, 5003, 5005, 5008]);
  });

  it('keeps a path that is much longer than the read buffer line', () => {
    const table = PROC_TABLES.find((t) => t.file === 'unix')!;
    const long = '/tmp/' + 'x'.repeat(5000) + ' with space';
    const text = `0000000000000000: 00000002 00000000 00010000 0001 01  42 ${long}\n`;
    const rows = new SocketRows(table, 1);
    parseUnixLines(Buffer.from(text), 0, text.length, compileFilter({}), rows);
    const [entry] = toEntries(rows, { addresses: new AddressBook(), users: new Map(), services: [], owners: null });
    expect(entry!.path).toBe(long);
  });

  it('decodes UTF-8 paths', () => {
    const table = PROC_TABLES.find((t) => t.file === 'unix')!;
    const text = '0000000000000000: 00000002 00000000 00000000 0002 01  43 /run/ünïcødé.sock\n';
    const buf = Buffer.from(text);
    const rows = new SocketRows(table, 1);
    parseUnixLines(buf, 0, buf.length, compileFilter({}), rows);
    expect(rows.path[0]).toBe('/run/ünïcødé.sock');
  });
});
