// The sock_diag reply parser on replies captured from this kernel (test/fixtures/netlink/,
// made by capture.mjs): every attribute it reads, the listener backlog, the unix peer and
// name, and broken input: truncated records, an attribute longer than its message, a bad
// message length, unknown attribute types, DUMP_INTR, NLMSG_ERROR.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES, type ProcTable } from '../../src/sockets/filters.js';
import { endsDump, newDumpStatus, parseInetRecord, parseNetlinkRecord, parsePacketRecord, parseUnixRecord, walkReplies, type DumpStatus } from '../../src/sockets/netlink/sock-diag-records.js';
import { SocketRows, toEntries } from '../../src/sockets/socket-rows.js';
import type { ListSocketsOptions, SocketEntry } from '../../src/sockets/types.js';

const dir = join(import.meta.dirname, '../fixtures/netlink');
const meta = JSON.parse(readFileSync(join(dir, 'sockets.json'), 'utf8')) as {
  seq: Record<string, number>;
  sockets: {
    listener: { port: number; backlog: number };
    client: { localPort: number; remotePort: number };
    listener6: { port: number; backlog: number };
    udp: { port: number };
    unixPath: string;
    unixServerInode: number;
    unixClientInode: number;
    abstractName: string;
    packet: { inode: number; ifindex: number; protocol: number };
    netlinkSocketInode: number;
  };
};
const table = (file: string): ProcTable => PROC_TABLES.find((t) => t.file === file)!;

interface Parsed {
  entries: SocketEntry[];
  status: DumpStatus;
}

function parse(bytes: Buffer, seq: number, t: ProcTable, options: ListSocketsOptions = {}, extras = { tcpInfo: true, memory: true }): Parsed {
  const filter = compileFilter(options);
  const addresses = new AddressBook();
  const rows = new SocketRows(t, 4);
  rows.withNetlink();
  const status = newDumpStatus();
  const inet = { filter, addresses, rows, status, tcpInfo: extras.tcpInfo, memory: extras.memory, keepIds: true, attributes: true };
  const unix = { filter, rows, status, memory: extras.memory };
  const other = { filter, rows, status, memory: extras.memory, interfaceName: (i: number) => (i === meta.sockets.packet.ifindex ? 'lo' : null) };
  walkReplies(bytes, bytes.length, seq, status, (buf, start, end) => {
    if (t.family === 'unix') parseUnixRecord(buf, start, end, unix);
    else if (t.family === 'packet') parsePacketRecord(buf, start, end, other);
    else if (t.family === 'netlink') parseNetlinkRecord(buf, start, end, other);
    else parseInetRecord(buf, start, end, inet);
  });
  return { entries: toEntries(rows, { addresses, users: new Map([[0, 'root']]), services: [], owners: null }), status };
}

const fixture = (name: string): Buffer => readFileSync(join(dir, `${name}.bin`));

describe('inet records', () => {
  const { entries, status } = parse(fixture('tcp4-info'), meta.seq['tcp4-info']!, table('tcp'));

  it('reads the whole dump to NLMSG_DONE without errors', () => {
    expect(status).toEqual({ done: true, errno: 0, interrupted: false, malformed: 0 });
  });

  it('gives a listener its backlog as the send queue, like ss', () => {
    const l = entries.find((s) => s.state === 'LISTEN' && s.localPort === meta.sockets.listener.port)!;
    expect(l).toMatchObject({ protocol: 'tcp', family: 'inet', localAddress: '127.0.0.1', remoteAddress: '0.0.0.0', remotePort: 0, sendQueue: meta.sockets.listener.backlog, recvQueue: 0 });
    expect(l.inode).toBeGreaterThan(0);
    expect(l.cookie).toBeGreaterThan(0);
    expect(l.shutdown).toBe(0);
    expect(l.tos).toBe(0);
    expect(l.memory).toMatchObject({ rcvbuf: expect.any(Number), sndbuf: expect.any(Number), drops: 0 });
  });

  it('reads tcp_info and the congestion algorithm of a connection with traffic', () => {
    const c = entries.find((s) => s.state === 'ESTABLISHED' && s.localPort === meta.sockets.client.localPort)!;
    expect(c.remotePort).toBe(meta.sockets.client.remotePort);
    const info = c.tcpInfo!;
    expect(info.congestion).toMatch(/^[a-z0-9_]+$/);
    expect(info.rtt).toBeGreaterThan(0);
    expect(info.cwnd).toBeGreaterThanOrEqual(1);
    expect(info.bytesAcked).toBeGreaterThanOrEqual(20_000);
    expect(info.segsOut).toBeGreaterThan(0);
    expect(info.minRtt).toBeGreaterThan(0);
    expect(info.pmtu).toBeGreaterThan(0);
  });

  it('leaves tcp_info and memory null when they were not asked for', () => {
    const plain = parse(fixture('tcp4-info'), meta.seq['tcp4-info']!, table('tcp'), {}, { tcpInfo: false, memory: false });
    expect(plain.entries.every((s) => s.tcpInfo === null && s.memory === null)).toBe(true);
  });

  it('reads IPv6 sockets and their traffic class', () => {
    const six = parse(fixture('tcp6'), meta.seq.tcp6!, table('tcp6')).entries;
    const l = six.find((s) => s.localPort === meta.sockets.listener6.port)!;
    expect(l).toMatchObject({ family: 'inet6', state: 'LISTEN', localAddress: '::1', sendQueue: meta.sockets.listener6.backlog, tos: 0 });
  });

  it('reads UDP sockets as UNCONN', () => {
    const udp = parse(fixture('udp4'), meta.seq.udp4!, table('udp')).entries;
    expect(udp.find((s) => s.localPort === meta.sockets.udp.port)).toMatchObject({ protocol: 'udp', type: 'dgram', state: 'UNCONN', localAddress: '127.0.0.1' });
  });

  it('filters on state, port and address before building anything', () => {
    const only = parse(fixture('tcp4-info'), meta.seq['tcp4-info']!, table('tcp'), { states: ['established'], localPort: meta.sockets.client.localPort, remoteAddress: '127.0.0.0/8' }).entries;
    expect(only).toHaveLength(1);
    expect(parse(fixture('tcp4-info'), meta.seq['tcp4-info']!, table('tcp'), { localAddress: '10.0.0.0/8' }).entries).toHaveLength(0);
  });

  it('skips messages of another request', () => {
    const other = parse(fixture('tcp4-info'), meta.seq['tcp4-info']! + 77, table('tcp'));
    expect(other.entries).toHaveLength(0);
    expect(other.status.done).toBe(false);
  });
});

describe('unix records', () => {
  const { entries, status } = parse(fixture('unix'), meta.seq.unix!, table('unix'));

  it('reads names, peers, queues and uids', () => {
    expect(status.errno).toBe(0);
    const server = entries.find((s) => s.inode === meta.sockets.unixServerInode)!;
    expect(server).toMatchObject({ state: 'LISTEN', type: 'stream', path: meta.sockets.unixPath, sendQueue: 5, uid: 0, user: 'root', peerInode: null });
    const client = entries.find((s) => s.inode === meta.sockets.unixClientInode)!;
    expect(client.state).toBe('ESTABLISHED');
    expect(client.path).toBeNull();
    // the accepted end is the client's peer, and names the client back
    const accepted = entries.find((s) => s.inode === client.peerInode)!;
    expect(accepted.peerInode).toBe(client.inode);
    expect(accepted.path).toBe(meta.sockets.unixPath);
  });

  it('prints abstract names with @ for the NULs, as /proc does', () => {
    // Node binds the whole sun_path: the name's NUL and the padding NULs all print as '@'
    const a = entries.find((s) => s.path?.startsWith(meta.sockets.abstractName) && s.state === 'LISTEN')!;
    expect(a.path!.slice(meta.sockets.abstractName.length)).toMatch(/^@+$/);
  });
});

describe('packet and netlink records', () => {
  it('reads a packet socket: ethertype, interface, uid', () => {
    const { entries, status } = parse(fixture('packet'), meta.seq.packet!, table('packet'));
    expect(status.errno).toBe(0);
    const p = entries.find((s) => s.inode === meta.sockets.packet.inode)!;
    expect(p).toMatchObject({ protocol: 'packet', family: 'packet', type: 'raw', state: 'UNCONN', localAddress: 'lo', localPort: meta.sockets.packet.protocol, uid: 0, remoteAddress: null });
    expect(p.memory).toMatchObject({ rcvbuf: expect.any(Number) });
  });

  it('reads netlink sockets: the kernel side of each protocol and the dumping socket itself', () => {
    const { entries, status } = parse(fixture('netlink'), meta.seq.netlink!, table('netlink'));
    expect(status.errno).toBe(0);
    expect(entries.some((s) => s.localAddress === 'rtnl' && s.localPort === 0)).toBe(true);
    const self = entries.find((s) => s.inode === meta.sockets.netlinkSocketInode)!;
    expect(self).toMatchObject({ protocol: 'netlink', family: 'netlink', type: 'raw', localAddress: 'tcpdiag', state: 'UNCONN' });
    expect(self.localPort).toBeGreaterThan(0);
  });
});

describe('broken input', () => {
  const bytes = fixture('tcp4-info');
  const seq = meta.seq['tcp4-info']!;
  const first = bytes.readUInt32LE(0);

  it('stops at a message whose length runs past the buffer, with EBADMSG', () => {
    const cut = Buffer.from(bytes.subarray(0, first - 10));
    const r = parse(cut, seq, table('tcp'));
    expect(r.entries).toHaveLength(0);
    expect(r.status).toMatchObject({ done: true, errno: 74, malformed: 1 });
  });

  it('skips a record shorter than inet_diag_msg', () => {
    const b = Buffer.from(bytes);
    b.writeUInt32LE(16 + 40, 0); // the first message now holds 40 bytes of record
    // the rest of the chain can no longer be followed from a wrong length: take one message
    const one = Buffer.concat([b.subarray(0, 16 + 40), doneMessage(seq)]);
    const r = parse(one, seq, table('tcp'));
    expect(r.entries).toHaveLength(0);
    expect(r.status).toMatchObject({ done: true, errno: 0, malformed: 1 });
  });

  it('keeps the record but stops at an attribute longer than its message', () => {
    const msg = Buffer.from(bytes.subarray(0, first));
    msg.writeUInt16LE(0x7000, 16 + 72); // first attribute's length
    const r = parse(Buffer.concat([msg, doneMessage(seq)]), seq, table('tcp'));
    expect(r.entries).toHaveLength(1);
    expect(r.status.malformed).toBe(1);
  });

  it('skips unknown attribute types', () => {
    const msg = Buffer.from(bytes.subarray(0, first));
    for (let a = 16 + 72; a + 4 <= msg.length; a += (msg.readUInt16LE(a) + 3) & ~3) {
      if (msg.readUInt16LE(a + 2) === 8) msg.writeUInt16LE(0x3ff0, a + 2); // SHUTDOWN becomes unknown
    }
    const r = parse(Buffer.concat([msg, doneMessage(seq)]), seq, table('tcp'));
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]!.shutdown).toBeNull();
    expect(r.status.malformed).toBe(0);
  });

  it('notes NLM_F_DUMP_INTR and NLMSG_ERROR', () => {
    const msg = Buffer.from(bytes.subarray(0, first));
    msg.writeUInt16LE(msg.readUInt16LE(6) | 0x10, 6);
    expect(parse(Buffer.concat([msg, doneMessage(seq)]), seq, table('tcp')).status.interrupted).toBe(true);
    const err = Buffer.alloc(36);
    err.writeUInt32LE(36, 0);
    err.writeUInt16LE(2, 4);
    err.writeUInt32LE(seq, 8);
    err.writeInt32LE(-2, 16);
    expect(parse(err, seq, table('tcp')).status).toMatchObject({ done: true, errno: 2 });
  });

  it('survives every truncation of a real dump without throwing', () => {
    for (let n = 0; n <= bytes.length; n += 7) {
      expect(() => parse(Buffer.from(bytes.subarray(0, n)), seq, table('tcp'))).not.toThrow();
    }
  });
});

function doneMessage(seq: number): Buffer {
  const d = Buffer.alloc(20);
  d.writeUInt32LE(20, 0);
  d.writeUInt16LE(3, 4);
  d.writeUInt16LE(2, 6);
  d.writeUInt32LE(seq, 8);
  return d;
}

describe('endsDump (whether another receive is needed)', () => {
  const whole = fixture('tcp4-info');
  const seq = meta.seq['tcp4-info']!;
  // the offset of the last message (the capture ends with the dump's NLMSG_DONE)
  let last = 0;
  for (let p = 0; p < whole.length; p += (whole.readUInt32LE(p) + 3) & ~3) last = p;

  it('ends where walkReplies ends: NLMSG_DONE of this dump', () => {
    expect(whole.readUInt16LE(last + 4)).toBe(3);
    expect(endsDump(whole, whole.length, seq)).toBe(true);
    const status = newDumpStatus();
    walkReplies(whole, whole.length, seq, status, () => {});
    expect(status.done).toBe(true);
  });

  it('goes on before the NLMSG_DONE, and past the end of another dump', () => {
    expect(endsDump(whole, last, seq)).toBe(false);
    expect(endsDump(whole, whole.length, seq + 1)).toBe(false);
  });

  it('ends at an NLMSG_ERROR of this dump and at a length the chain cannot follow', () => {
    const error = Buffer.from(whole.subarray(last));
    error.writeUInt16LE(2, 4);
    expect(endsDump(error, error.length, seq)).toBe(true);
    const broken = Buffer.from(whole.subarray(0, last));
    broken.writeUInt32LE(8, 0);
    expect(endsDump(broken, broken.length, seq)).toBe(true);
  });
});
