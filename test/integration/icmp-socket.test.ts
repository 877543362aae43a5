// The shared ICMP socket against loopback: raw IPv4/IPv6 echo with kernel timestamps, the
// identifier filter, and the error queue for local errors.
import { afterEach, expect, it } from 'vitest';
import { IcmpSocket, type IcmpMessage } from '../../src/icmp/icmp-socket.js';
import { SendBatch } from '../../src/icmp/send-batch.js';
import { writeAddress } from '../../src/icmp/address-bytes.js';
import { describeWith } from '../helpers/requirements.js';

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
