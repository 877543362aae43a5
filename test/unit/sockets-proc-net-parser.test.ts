// The /proc/net/{tcp,udp,raw}{,6} parser on fixtures: every TCP state, IPv4, IPv6,
// IPv4-mapped, the largest values, timers, names, and malformed lines that are skipped.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../src/sockets/filters.js';
import { listSockets } from '../../src/sockets/index.js';
import { parseInetLines } from '../../src/sockets/proc-net-parser.js';
import { SocketRows, toEntries } from '../../src/sockets/socket-rows.js';
import type { SocketEntry } from '../../src/sockets/types.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');
const files = { procRoot, passwdFile: join(procRoot, 'etc/passwd'), servicesFile: join(procRoot, 'etc/services') };

async function list(protocols: SocketEntry['protocol'][]): Promise<SocketEntry[]> {
  return (await listSockets({ ...files, protocols })).sockets;
}

function byInode(sockets: SocketEntry[], inode: number): SocketEntry {
  const s = sockets.find((x) => x.inode === inode);
  if (!s) throw new Error(`no socket with inode ${inode}`);
  return s;
}

describe('TCP over IPv4', () => {
  it('reads every well-formed line and skips the malformed ones', async () => {
    const tcp = (await list(['tcp'])).filter((s) => s.family === 'inet');
    expect(tcp).toHaveLength(15);
    expect(tcp.map((s) => s.inode)).not.toContain(1098); // not hex
    expect(tcp.map((s) => s.inode)).not.toContain(1097); // state 0x20
    expect(tcp.map((s) => s.inode)).not.toContain(1096); // bad separator
    expect(tcp.map((s) => s.inode)).not.toContain(1095); // uid not a number
    // the line after the garbage is still read
    expect(byInode(tcp, 1014)).toMatchObject({ state: 'LISTEN', localAddress: '127.0.0.1', localPort: 631, service: 'ipp' });
  });

  it('gives every field of a listener', async () => {
    expect(byInode(await list(['tcp']), 1001)).toEqual({
      protocol: 'tcp',
      family: 'inet',
      type: 'stream',
      state: 'LISTEN',
      localAddress: '0.0.0.0',
      localPort: 22,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      mapped: false,
      recvQueue: 0,
      sendQueue: 0,
      inode: 1001,
      uid: 0,
      user: 'root',
      service: 'ssh',
      owners: null,
      path: null,
      timer: null,
    });
  });

  it('names every TCP state as the kernel does', async () => {
    const tcp = await list(['tcp']);
    const states = tcp.filter((s) => s.family === 'inet').map((s) => s.state);
    for (const st of ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV']) {
      expect(states).toContain(st);
    }
    expect(states).not.toContain('UNCONN');
  });

  it('reads queues and timers like ss -o', async () => {
    const tcp = await list(['tcp']);
    expect(byInode(tcp, 1002)).toMatchObject({ recvQueue: 3, user: 'postgres', service: 'postgresql' });
    expect(byInode(tcp, 1003)).toMatchObject({
      state: 'ESTABLISHED',
      localAddress: '10.0.0.5',
      remoteAddress: '10.0.0.9',
      remotePort: 51000,
      sendQueue: 16,
      recvQueue: 5,
      timer: { kind: 'keepalive', expires: 1_125_000, retransmits: 0, probes: 0 },
    });
    expect(byInode(tcp, 1004)).toMatchObject({
      state: 'SYN_SENT',
      remoteAddress: '93.184.216.34',
      timer: { kind: 'on', expires: 1000, retransmits: 2, probes: 0 },
      user: 'alice',
    });
    expect(byInode(tcp, 1006).timer).toEqual({ kind: 'on', expires: 300, retransmits: 1, probes: 0 });
  });

  it('gives sockets without an inode (TIME_WAIT, request sockets) null inode, and TIME_WAIT null uid', async () => {
    const tcp = await list(['tcp']);
    const tw = tcp.find((s) => s.state === 'TIME_WAIT')!;
    expect(tw).toMatchObject({ inode: null, uid: null, user: null, localPort: 41000, remotePort: 5432, timer: { kind: 'timewait', expires: 60_000 } });
    const fw2 = tcp.find((s) => s.state === 'FIN_WAIT2')!;
    expect(fw2).toMatchObject({ inode: null, uid: null, timer: { kind: 'timewait', expires: 30_000 } });
    const synRecv = tcp.find((s) => s.state === 'SYN_RECV')!;
    // a request socket reports its listener's uid
    expect(synRecv).toMatchObject({ inode: null, uid: 0, user: 'root', timer: { kind: 'on', expires: 600 } });
  });

  it('holds the largest value of every column', async () => {
    expect(byInode(await list(['tcp']), 4294967295)).toMatchObject({
      localAddress: '255.255.255.255',
      localPort: 65535,
      remoteAddress: '255.255.255.255',
      remotePort: 65535,
      sendQueue: 4294967295,
      recvQueue: 4294967295,
      uid: 4294967294,
      user: null,
      // tm->when printed as a negative long: the persist timer is overdue
      timer: { kind: 'persist', expires: -1000, retransmits: 4294967295, probes: 255 },
    });
  });

  it('names the service of the local port, else of the remote one, never of an ephemeral port', async () => {
    const tcp = await list(['tcp']);
    // 40000/tcp is "socks" in the fixture's services, but it is in 32768-60999
    expect(byInode(tcp, 1004).service).toBe('https');
    expect(tcp.find((s) => s.state === 'TIME_WAIT')!.service).toBe('postgresql');
    expect(byInode(tcp, 1009).service).toBeNull();
  });
});

describe('TCP over IPv6', () => {
  it('decodes the four host-endian words of each address', async () => {
    const tcp6 = (await list(['tcp'])).filter((s) => s.family === 'inet6');
    expect(tcp6.map((s) => [s.inode, s.localAddress, s.localPort, s.remoteAddress, s.remotePort])).toEqual([
      [2001, '::', 22, '::', 0],
      [2002, '::ffff:127.0.0.1', 5432, '::ffff:127.0.0.1', 50412],
      [2003, '::1', 38690, '::1', 5432],
      [2004, '2001:db8::1', 443, '2001:db8::2', 60000],
      [2005, 'fe80::1', 22, '::', 0],
    ]);
  });

  it('keeps IPv4-mapped addresses as ::ffff:a.b.c.d and flags them', async () => {
    const tcp = await list(['tcp']);
    expect(byInode(tcp, 2002)).toMatchObject({ family: 'inet6', mapped: true, service: 'postgresql', user: 'postgres' });
    expect(byInode(tcp, 2003).mapped).toBe(false);
    expect(byInode(tcp, 2004)).toMatchObject({ sendQueue: 1460, uid: 33, user: null, timer: { kind: 'on', expires: 500, retransmits: 3 } });
  });
});

describe('UDP and raw', () => {
  it('calls an unconnected datagram socket UNCONN and a connected one ESTABLISHED', async () => {
    const udp = await list(['udp']);
    expect(byInode(udp, 3001)).toMatchObject({ protocol: 'udp', type: 'dgram', state: 'UNCONN', localPort: 53, service: 'domain', user: 'bind', timer: null });
    expect(byInode(udp, 3002)).toMatchObject({ state: 'ESTABLISHED', localPort: 40000, remotePort: 53, recvQueue: 832, service: 'domain' });
    expect(byInode(udp, 3003).service).toBeNull();
    expect(byInode(udp, 3004)).toMatchObject({ family: 'inet6', localAddress: '::', localPort: 5353, service: 'mdns' });
  });

  it('reads raw sockets with the protocol number as their port', async () => {
    const raw = await list(['raw']);
    expect(raw.map((s) => [s.family, s.type, s.state, s.localPort, s.service])).toEqual([
      ['inet', 'raw', 'UNCONN', 1, null],
      ['inet6', 'raw', 'UNCONN', 58, null],
    ]);
  });

  it('reads an empty table (udplite: header only)', async () => {
    expect(await list(['udplite'])).toEqual([]);
  });
});

describe('parseInetLines on raw bytes', () => {
  const table = PROC_TABLES.find((t) => t.file === 'tcp')!;
  const parse = (text: string, options = {}): SocketEntry[] => {
    const rows = new SocketRows(table, 1);
    const addresses = new AddressBook();
    parseInetLines(Buffer.from(text), 0, Buffer.byteLength(text), { filter: compileFilter(options), addresses, v6: false }, rows);
    return toEntries(rows, { addresses, users: new Map(), services: new Array(65536).fill(null), owners: null });
  };
  const line = '   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0';

  it('reads a last line without a newline', () => {
    expect(parse(line)).toHaveLength(1);
  });

  it('never reads past the end it is given', () => {
    // a truncated line followed by nothing: no crash, no row from stale bytes
    expect(parse(line.slice(0, 60))).toEqual([]);
    expect(parse(line.slice(0, line.indexOf(' 77 ')))).toEqual([]);
    // everything after the inode is optional
    expect(parse(line.slice(0, line.indexOf(' 77 ') + 3))).toHaveLength(1);
  });

  it('survives arbitrary garbage', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 500; i++) {
      const chars = [...line];
      for (let k = 0; k < 4; k++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
      const rows = parse(chars.join('') + '\n' + line + '\n');
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows.length).toBeLessThanOrEqual(2);
    }
  });

  it('grows its columns past their first size', () => {
    const text = Array.from({ length: 100 }, () => line).join('\n') + '\n';
    expect(parse(text)).toHaveLength(100);
  });
});
