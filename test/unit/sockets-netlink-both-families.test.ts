// The TCP dump of both families in one request (TCPDIAG_GETSOCK): its request layout, and
// that its records, IPv6 and IPv4 interleaved as the kernel's hash walk gives them, come
// out as the same rows as two SOCK_DIAG_BY_FAMILY dumps (fixtures captured from the kernel,
// their messages retyped as the kernel types a TCPDIAG_GETSOCK answer).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../src/sockets/filters.js';
import { compileInetBytecode } from '../../src/sockets/netlink/inet-diag-bytecode.js';
import { dumpTable, dumpTcpBothFamilies, type SockDiagSocket } from '../../src/sockets/netlink/sock-diag-reader.js';
import { INET_DIAG_REQ_LEN, NLMSG_DONE, NLMSG_HDRLEN, SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK, tcpBothFamiliesDumpRequest } from '../../src/sockets/netlink/sock-diag-messages.js';
import { walkReplies, type DumpStatus } from '../../src/sockets/netlink/sock-diag-records.js';
import { toEntries, type SocketRows } from '../../src/sockets/socket-rows.js';
import type { ListSocketsOptions } from '../../src/sockets/types.js';

const dir = join(import.meta.dirname, '../fixtures/netlink');
const meta = JSON.parse(readFileSync(join(dir, 'sockets.json'), 'utf8')) as { seq: Record<string, number> };
const tcp = PROC_TABLES.find((t) => t.file === 'tcp')!;
const tcp6 = PROC_TABLES.find((t) => t.file === 'tcp6')!;
const SEQ = 4242;

/** The record messages of a captured dump (its DONE left out). */
function recordMessages(file: string): Buffer[] {
  const bytes = readFileSync(join(dir, file));
  const out: Buffer[] = [];
  for (let p = 0; p + NLMSG_HDRLEN <= bytes.length; ) {
    const len = bytes.readUInt32LE(p);
    if (bytes.readUInt16LE(p + 4) === SOCK_DIAG_BY_FAMILY) out.push(Buffer.from(bytes.subarray(p, p + len)));
    p += (len + 3) & ~3;
  }
  return out;
}

/** What the kernel sends for TCPDIAG_GETSOCK: the records retyped, IPv6 and IPv4 interleaved, then DONE. */
function bothFamiliesReply(): Buffer {
  const v4 = recordMessages('tcp4-info.bin');
  const v6 = recordMessages('tcp6.bin');
  const mixed: Buffer[] = [];
  for (let i = 0; i < Math.max(v4.length, v6.length); i++) {
    if (v6[i]) mixed.push(v6[i]!);
    if (v4[i]) mixed.push(v4[i]!);
  }
  const done = Buffer.alloc(NLMSG_HDRLEN + 4);
  done.writeUInt32LE(done.length, 0);
  done.writeUInt16LE(NLMSG_DONE, 4);
  for (const m of mixed) {
    m.writeUInt16LE(TCPDIAG_GETSOCK, 4);
    m.writeUInt32LE(SEQ, 8);
  }
  done.writeUInt32LE(SEQ, 8);
  return Buffer.concat([...mixed.map((m) => Buffer.concat([m, Buffer.alloc(((m.length + 3) & ~3) - m.length)])), done]);
}

/** A socket that answers every dump with `reply` (sequence `seq`), in receive buffers of `chunk` bytes. */
function replaying(reply: Buffer, seq: number, requests: Buffer[], chunk = reply.length): SockDiagSocket {
  return {
    dump(request: (seq: number) => Buffer, sink: (b: Buffer, s: number, e: number) => void, begin: (n: number) => void, _what: string, status: DumpStatus) {
      requests.push(request(seq));
      // whole messages per receive buffer, as the kernel sends them
      let from = 0;
      while (from < reply.length) {
        let to = from;
        while (to < reply.length && (to === from || to - from + reply.readUInt32LE(to) <= chunk)) to += (reply.readUInt32LE(to) + 3) & ~3;
        const bytes = Buffer.from(reply.subarray(from, to));
        begin(bytes.length);
        walkReplies(bytes, bytes.length, seq, status, sink);
        from = to;
      }
    },
  } as unknown as SockDiagSocket;
}

function options(filter: ListSocketsOptions = {}) {
  return { filter: compileFilter(filter), addresses: new AddressBook(), tcpInfo: true, memory: true, keepIds: false, bytecode: true, attributes: true, warn: () => {} };
}

const entries = (chunks: SocketRows[], addresses: AddressBook) => chunks.flatMap((rows) => toEntries(rows, { addresses, users: new Map(), services: [], owners: null }));

describe('TCP of both families in one dump', () => {
  it('asks with struct inet_diag_req: TCPDIAG_GETSOCK, states, extensions and the bytecode after 60 bytes', async () => {
    const bytecode = compileInetBytecode(compileFilter({ remotePort: 443 }));
    expect(bytecode).not.toBeNull();
    const req = tcpBothFamiliesDumpRequest({ states: 0x0abc, extensions: 0x42, bytecode, seq: 77 });
    expect(req.readUInt32LE(0)).toBe(req.length);
    expect(req.readUInt16LE(4)).toBe(TCPDIAG_GETSOCK);
    expect(req.readUInt16LE(6)).toBe(0x301); // NLM_F_REQUEST | NLM_F_DUMP
    expect(req.readUInt32LE(8)).toBe(77);
    expect(req[NLMSG_HDRLEN + 3]).toBe(0x42);
    expect(req.readUInt32LE(NLMSG_HDRLEN + 52)).toBe(0x0abc);
    const a = NLMSG_HDRLEN + INET_DIAG_REQ_LEN;
    expect(req.readUInt16LE(a)).toBe(4 + bytecode!.length);
    expect(req.readUInt16LE(a + 2)).toBe(1); // INET_DIAG_REQ_BYTECODE
    expect(req.subarray(a + 4, a + 4 + bytecode!.length)).toEqual(bytecode);
    expect(tcpBothFamiliesDumpRequest({ states: 1, extensions: 0, bytecode: null, seq: 1 }).length).toBe(NLMSG_HDRLEN + INET_DIAG_REQ_LEN);
  });

  for (const chunk of [1 << 20, 600]) {
    it(`gives the rows two per-family dumps give, each family apart (receive buffers of ${chunk} bytes)`, async () => {
      const requests: Buffer[] = [];
      const both = options();
      const [v4, v6] = await dumpTcpBothFamilies(replaying(bothFamiliesReply(), SEQ, requests, chunk), tcp, tcp6, both);
      expect(requests.map((r) => r.readUInt16LE(4))).toEqual([TCPDIAG_GETSOCK]);

      const alone = options();
      const v4Alone = await dumpTable(replaying(readFileSync(join(dir, 'tcp4-info.bin')), meta.seq['tcp4-info']!, []), tcp, alone);
      const v6Alone = await dumpTable(replaying(readFileSync(join(dir, 'tcp6.bin')), meta.seq['tcp6']!, []), tcp6, alone);
      const got4 = entries(v4, both.addresses);
      const got6 = entries(v6, both.addresses);
      expect(got4.length).toBeGreaterThan(0);
      expect(got6.length).toBeGreaterThan(0);
      expect(got4.every((e) => e.family === 'inet')).toBe(true);
      expect(got6.every((e) => e.family === 'inet6')).toBe(true);
      expect(got4).toEqual(entries(v4Alone, alone.addresses));
      expect(got6).toEqual(entries(v6Alone, alone.addresses));
    });
  }

  it('filters in user space too: a port no record has gives no rows', async () => {
    const [v4, v6] = await dumpTcpBothFamilies(replaying(bothFamiliesReply(), SEQ, []), tcp, tcp6, options({ localPort: 1 }));
    expect(v4.length + v6.length).toBe(0);
  });
});
