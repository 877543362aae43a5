// The shared ICMP socket against loopback: raw IPv4/IPv6 echo with kernel timestamps, the
// identifier filter, the error queue for local errors, and the batched send-then-read.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IcmpSocket, type IcmpMessage } from '../../src/socket/icmp-socket.js';
import { SendBatch } from '../../src/socket/send-batch.js';
import { writeAddress } from '../../src/socket/address-bytes.js';
import { native, SEND_DESC_STRIDE } from '../../src/native.js';
import { describeWith } from '../helpers/requirements.js';
import { repoRoot } from '../helpers/built-package.js';
import { functionScript } from '../../src/testing/function-script.js';

function echo(buf: Buffer, off: number, family: 4 | 6, id: number, seq: number, payload: number): number {
  buf[off] = family === 4 ? 8 : 128;
  buf[off + 1] = 0;
  buf.writeUInt16BE(0, off + 2);
  buf.writeUInt16BE(id, off + 4);
  buf.writeUInt16BE(seq, off + 6);
  for (let i = 0; i < payload; i++) buf[off + 8 + i] = i & 0xff;
  const len = 8 + payload;
  if (family === 4) {
    let sum = 0;
    for (let i = 0; i < len; i += 2) sum += (buf[off + i]! << 8) + (i + 1 < len ? buf[off + i + 1]! : 0);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    buf.writeUInt16BE(~sum & 0xffff, off + 2);
  }
  return len;
}

function waitFor(sock: IcmpSocket, want: (m: IcmpMessage) => boolean, ms = 2000): Promise<IcmpMessage & { data: Buffer }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching ICMP message')), ms);
    sock.start((readable, errq) => {
      const take = (m: IcmpMessage): void => {
        if (want(m)) {
          clearTimeout(timer);
          resolve({ ...m, data: Buffer.from(m.buf.subarray(m.offset, m.offset + m.length)) });
        }
      };
      if (errq) sock.drain(true, take);
      if (readable) sock.drain(false, take);
    });
  });
}

/** Calls read() until `done` says so (or two seconds pass: the caller's expectations then fail). */
async function readUntil(sock: IcmpSocket, take: (m: IcmpMessage) => void, done: () => boolean): Promise<void> {
  const until = Date.now() + 2000;
  while (!done() && Date.now() < until) {
    sock.read(false, take);
    if (!done()) await new Promise((r) => setTimeout(r, 5));
  }
}

const open: IcmpSocket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describeWith(['net_raw'], 'raw ICMP socket on loopback', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family}: echo reply with kernel timestamp, TTL and our identifier`, async () => {
      const sock = new IcmpSocket({ family, mode: 'raw' });
      open.push(sock);
      const batch = new SendBatch(4, 256);
      const dest = Buffer.alloc(16);
      writeAddress(family === 4 ? '127.0.0.1' : '::1', dest, 0);
      const len = echo(batch.data, batch.nextOffset(), family, sock.identifier, 7, 56);
      batch.push(len, family, dest);
      const reply = waitFor(sock, (m) => m.buf[m.offset] === (family === 4 ? 0 : 129));
      expect(sock.send(batch)).toBe(1);
      expect(batch.errno(0)).toBe(0);
      const m = await reply;
      expect(m.data.readUInt16BE(4)).toBe(sock.identifier);
      expect(m.data.readUInt16BE(6)).toBe(7);
      expect(m.length).toBe(64);
      expect(m.from).toBe(family === 4 ? '127.0.0.1' : '::1');
      expect(m.ttl).toBe(family === 4 ? 64 : 64);
      expect(m.rxSec).toBeGreaterThan(0);
      const rtt = (m.rxSec - batch.sentSec(0)) * 1e3 + (m.rxNsec - batch.sentNsec(0)) / 1e6;
      expect(rtt).toBeGreaterThan(0);
      expect(rtt).toBeLessThan(1000);
    });

    it(`IPv${family}: the BPF filter drops replies to another identifier`, async () => {
      const mine = new IcmpSocket({ family, mode: 'raw' });
      const other = new IcmpSocket({ family, mode: 'raw', identifier: (mine.identifier + 1) & 0xffff || 1 });
      open.push(mine, other);
      const seen: number[] = [];
      mine.start((readable) => {
        if (readable) mine.drain(false, (m) => seen.push(m.buf.readUInt16BE(m.offset + 4)));
      });
      const batch = new SendBatch(2, 128);
      const dest = Buffer.alloc(16);
      writeAddress(family === 4 ? '127.0.0.1' : '::1', dest, 0);
      batch.push(echo(batch.data, batch.nextOffset(), family, other.identifier, 1, 16), family, dest);
      const got = waitFor(other, (m) => m.buf[m.offset] === (family === 4 ? 0 : 129));
      other.send(batch);
      await got;
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([]);
    });
  }
});

describeWith(['net_raw'], 'sendAndReceive and read on loopback', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family}: replies read in the sending call come out of read(), through one reused message`, async () => {
      const sock = new IcmpSocket({ family, mode: 'raw' });
      open.push(sock);
      const loopback = family === 4 ? '127.0.0.1' : '::1';
      const dest = Buffer.alloc(16);
      writeAddress(loopback, dest, 0);
      const batch = new SendBatch(8, 128);
      for (let seq = 1; seq <= 4; seq++) batch.push(echo(batch.data, batch.nextOffset(), family, sock.identifier, seq, 56), family, dest);
      expect(sock.sendAndReceive(batch)).toBe(4);
      for (let i = 0; i < 4; i++) expect(batch.errno(i)).toBe(0);
      const seqs: number[] = [];
      const messages = new Set<IcmpMessage>();
      const other = Buffer.alloc(16);
      writeAddress(family === 4 ? '127.0.0.2' : '::2', other, 0);
      await readUntil(sock, (m) => {
        messages.add(m);
        if (m.buf[m.offset] !== (family === 4 ? 0 : 129)) return;
        seqs.push(m.buf.readUInt16BE(m.offset + 6));
        expect(m.from).toBe(loopback);
        expect(m.sourceEquals!(dest, 0)).toBe(true);
        expect(m.sourceEquals!(other, 0)).toBe(false);
        expect(m.rxSec).toBeGreaterThan(0);
      }, () => seqs.length >= 4);
      expect(seqs.sort()).toEqual([1, 2, 3, 4]);
      expect(messages.size).toBe(1);
      // nothing is handed out twice
      let more = 0;
      sock.read(false, (m) => void (m.buf[m.offset] === (family === 4 ? 0 : 129) && more++));
      expect(more).toBe(0);
    });
  }

  it('drain() hands out what sendAndReceive read as messages of their own, and a small budget leaves the rest', async () => {
    const sock = new IcmpSocket({ family: 4, mode: 'raw' });
    open.push(sock);
    const dest = Buffer.alloc(16);
    writeAddress('127.0.0.1', dest, 0);
    const batch = new SendBatch(4, 128);
    for (let seq = 1; seq <= 3; seq++) batch.push(echo(batch.data, batch.nextOffset(), 4, sock.identifier, seq, 16), 4, dest);
    expect(sock.sendAndReceive(batch)).toBe(3);
    const got: Array<IcmpMessage & { seq: number }> = [];
    const take = (m: IcmpMessage): void => {
      if (m.buf[m.offset] === 0) got.push({ ...m, seq: m.buf.readUInt16BE(m.offset + 6) });
    };
    expect(sock.drain(false, take, 1)).toBeLessThanOrEqual(1);
    const until = Date.now() + 2000;
    while (got.length < 3 && Date.now() < until) {
      sock.drain(false, take, 1);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(got.map((m) => m.seq).sort()).toEqual([1, 2, 3]);
    expect(new Set(got.map((m) => m.from))).toEqual(new Set(['127.0.0.1']));
  });
});

describe('sendRecvBatchIn arguments', () => {
  it('checks every argument before sending, and survives hostile ones', () => {
    const n = native();
    const [a, b] = n.socketpair(n.constants.SOCK_DGRAM);
    try {
      const desc = new Int32Array(SEND_DESC_STRIDE);
      desc.set([0, 5, 0, 0, -1, -1, 0, 0]);
      const sendArea = n.ioArea(Buffer.from('hello'), desc, Buffer.alloc(16), new Float64Array(3));
      const buf = Buffer.alloc(256), meta = new Float64Array(16), addrs = Buffer.alloc(32), counts = new Int32Array(2);
      const recvArea = n.ioArea(buf, meta, addrs, counts);
      // a receive side that holds no message, a zero slot size, or a bad counts array: nothing goes out
      expect(() => n.sendRecvBatchIn(a, sendArea, 1, n.ioArea(Buffer.alloc(0), meta, addrs, counts), 64, 1)).toThrow(RangeError);
      expect(() => n.sendRecvBatchIn(a, sendArea, 1, recvArea, 0, 1)).toThrow(RangeError);
      expect(() => n.sendRecvBatchIn(a, sendArea, 1, n.ioArea(buf, meta, addrs, new Int32Array(1)), 256, 1)).toThrow(TypeError);
      expect(() => n.sendRecvBatchIn(a, sendArea, 1, n.ioArea(buf, meta, addrs, new Float64Array(2)), 256, 1)).toThrow(TypeError);
      expect(n.recvBatchIn(b, recvArea, 256, 1, false)).toBe(0);
      // a good call sends, then reads its own socket's queue (empty here: the datagram went to b)
      expect(n.sendRecvBatchIn(a, sendArea, 1, recvArea, 256, 1)).toBe(1);
      expect([...counts]).toEqual([1, 0]);
      expect(n.recvBatchIn(b, recvArea, 256, 1, false)).toBe(1);
      expect(buf.subarray(0, 5).toString()).toBe('hello');
      // on the real socket, every mix of hostile values and misplaced areas throws (no value is a valid count)
      const values: unknown[] = [undefined, null, -1, 2 ** 31, 1.5, NaN, 'x', {}, [], Buffer.alloc(0), Buffer.alloc(3), new Float64Array(1), new Int32Array(1), () => 0, 10n, sendArea, recvArea];
      let threw = 0;
      for (let round = 0; round < 400; round++) {
        const args = [a, ...Array.from({ length: 5 }, (_, i) => values[(round * 7 + i * 3 + (round >> 3)) % values.length])];
        try {
          (n.sendRecvBatchIn as (...x: unknown[]) => unknown)(...args);
        } catch {
          threw++;
        }
      }
      expect(threw).toBe(400);
    } finally {
      n.close(a);
      n.close(b);
    }
  });
});

/**
 * Runs in a network namespace of its own (every raw ICMP socket gets the errors it forges, so
 * they must not reach other tests' sockets): 20 ICMP host-unreachables from 127.0.0.1 quoting
 * an echo request 127.0.0.1 -> 127.0.0.2, then one echo request. The kernel hands each error to
 * every raw ICMP socket and, with IP_RECVERR on, leaves a pending error (EHOSTUNREACH) that
 * fails the socket's next read. Reports what a reader opened with and without
 * readPastPendingErrors saw.
 */
async function pendingErrorsChild(dist: string): Promise<{ plain: string; unreachables: number; echoes: number }> {
  const { IcmpSocket } = await import(`${dist}/socket/icmp-socket.js`);
  const { SendBatch } = await import(`${dist}/socket/send-batch.js`);
  const { writeAddress } = await import(`${dist}/socket/address-bytes.js`);
  const { internetChecksum } = await import(`${dist}/packet/checksum.js`);
  const checksum = (b: Buffer, off: number, len: number): void => void b.writeUInt16BE(internetChecksum(b, off, len), off + 2);
  const plain = new IcmpSocket({ family: 4, mode: 'raw', filterIdentifier: false });
  const past = new IcmpSocket({ family: 4, mode: 'raw', filterIdentifier: false, readPastPendingErrors: true });
  const sender = new IcmpSocket({ family: 4, mode: 'raw' });
  const dest = Buffer.alloc(16);
  writeAddress('127.0.0.1', dest, 0);
  const batch = new SendBatch(21, 128);
  for (let i = 0; i < 20; i++) {
    const off = batch.nextOffset();
    batch.data.fill(0, off, off + 36);
    batch.data.set([3, 1], off);
    batch.data.set([0x45, 0, 0, 84, 0, 1, 0x40, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2, 8, 0, 0, 0, 0x12, 0x34, 0, 1], off + 8);
    checksum(batch.data, off, 36);
    batch.push(36, 4, dest);
  }
  const off = batch.nextOffset();
  batch.data.fill(0, off, off + 16);
  batch.data.set([8, 0, 0, 0], off);
  batch.data.writeUInt16BE(sender.identifier, off + 4);
  batch.data.writeUInt16BE(9, off + 6);
  checksum(batch.data, off, 16);
  batch.push(16, 4, dest);
  sender.send(batch);
  await new Promise((r) => setTimeout(r, 100));
  let plainOutcome = 'read';
  try {
    plain.drain(false, () => {});
  } catch (e) {
    plainOutcome = (e as { code?: string }).code ?? String(e);
  }
  let unreachables = 0, echoes = 0;
  past.drain(false, (m: { buf: Buffer; offset: number }) => {
    if (m.buf[m.offset] === 3) unreachables++;
    if (m.buf[m.offset] === 8 && m.buf.readUInt16BE(m.offset + 6) === 9) echoes++;
  });
  for (const s of [plain, past, sender]) s.close();
  return { plain: plainOutcome, unreachables, echoes };
}

describeWith(['root', 'tool:unshare', 'tool:ip'], 'pending errors on a raw ICMP socket (own network namespace)', () => {
  it('a plain read fails with the pending error; readPastPendingErrors steps over it and delivers what follows', () => {
    const marker = '__pending_errors__';
    const script = functionScript(pendingErrorsChild.toString(), marker);
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, JSON.stringify(join(repoRoot, 'dist'))], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.slice(r.stdout.lastIndexOf(marker) + marker.length))).toEqual({ plain: 'EHOSTUNREACH', unreachables: 20, echoes: 1 });
  });
});
