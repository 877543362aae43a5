// Registered areas (native ioArea): a send batch's and a receive area's typed arrays read once
// by the addon, then used by sendBatchIn / recvBatchIn / sendRecvBatchIn. Over loopback UDP
// (no privilege): the same datagrams, metadata and send times as the per-call functions, and a
// TypeError, never a crash, when an area's memory was detached or the handle is not an area.
import { afterEach, describe, expect, it } from 'vitest';
import { native, RECV_META_STRIDE, RecvMeta } from '../../src/native.js';
import { BATCH, ReceiveArea, SLOT } from '../../src/socket/receive-area.js';
import { SendBatch } from '../../src/socket/send-batch.js';
import { writeAddress } from '../../src/socket/address-bytes.js';

const n = native();
const C = n.constants;
const open: number[] = [];

function udpSocket(): { fd: number; port: number } {
  const fd = n.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP);
  open.push(fd);
  n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
  n.bind(fd, 4, '127.0.0.1', 0);
  return { fd, port: n.getsockname(fd).port! };
}

/** A batch of `count` datagrams to 127.0.0.1:port, the i-th carrying the byte i + 1 three times. */
function batchTo(port: number, count: number): SendBatch {
  const b = new SendBatch(count, 8);
  const dest = Buffer.alloc(16);
  writeAddress('127.0.0.1', dest, 0);
  for (let i = 0; i < count; i++) {
    b.data.fill(i + 1, b.nextOffset(), b.nextOffset() + 3);
    b.push(3, 4, dest, 0, port);
  }
  return b;
}

afterEach(() => {
  for (const fd of open.splice(0)) n.close(fd);
});

describe('registered areas', () => {
  it('send and receive what the per-call functions do, the areas registered once', () => {
    const rx = udpSocket();
    const tx = udpSocket();
    const batch = batchTo(rx.port, 3);
    const sendArea = n.ioArea(batch.data, batch.desc, batch.addrs, batch.out);
    const area = new ReceiveArea();
    const recvArea = n.ioArea(area.buf, area.meta, area.addrs, area.counts);
    for (let round = 0; round < 2; round++) {
      expect(n.sendBatchIn(tx.fd, sendArea, batch.count)).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(batch.errno(i)).toBe(0);
        expect(batch.sentSec(i)).toBeGreaterThan(0);
      }
      expect(n.recvBatchIn(rx.fd, recvArea, SLOT, BATCH, false)).toBe(3);
      for (let i = 0; i < 3; i++) {
        const m = i * RECV_META_STRIDE;
        expect(area.meta[m + RecvMeta.length]).toBe(3);
        expect([...area.buf.subarray(i * SLOT, i * SLOT + 3)]).toEqual([i + 1, i + 1, i + 1]);
        expect(area.meta[m + RecvMeta.port]).toBe(tx.port);
        expect(area.meta[m + RecvMeta.tsSec]).toBeGreaterThan(0);
      }
      // empty now: 0, not an error
      expect(n.recvBatchIn(rx.fd, recvArea, SLOT, BATCH, false)).toBe(0);
    }
  });

  it('send then read in one call, the counts in the receive area', () => {
    const s = udpSocket();
    const batch = batchTo(s.port, 2);
    const area = new ReceiveArea();
    const sent = n.sendRecvBatchIn(s.fd, n.ioArea(batch.data, batch.desc, batch.addrs, batch.out), 2, n.ioArea(area.buf, area.meta, area.addrs, area.counts), SLOT, BATCH);
    expect(sent).toBe(2);
    expect([...area.counts]).toEqual([2, 2]);
    expect(area.buf[SLOT]).toBe(2);
  });

  it('check the count and every descriptor against the registered arrays before sending', () => {
    const s = udpSocket();
    const batch = batchTo(s.port, 2);
    const sendArea = n.ioArea(batch.data, batch.desc, batch.addrs, batch.out);
    expect(() => n.sendBatchIn(s.fd, sendArea, 3)).toThrow(RangeError);
    batch.desc[8 + 1] = batch.data.length; // message 1 reaches past the data
    expect(() => n.sendBatchIn(s.fd, sendArea, 2)).toThrow(/message 1 lies outside the data buffer/);
    // nothing of the half-bad batch went out
    const area = new ReceiveArea();
    expect(n.recvBatchIn(s.fd, n.ioArea(area.buf, area.meta, area.addrs, area.counts), SLOT, BATCH, false)).toBe(0);
  });

  it('refuse a handle that is no area, or an area of the other kind', () => {
    const s = udpSocket();
    const batch = batchTo(s.port, 1);
    const area = new ReceiveArea();
    const sendArea = n.ioArea(batch.data, batch.desc, batch.addrs, batch.out);
    const recvArea = n.ioArea(area.buf, area.meta, area.addrs, area.counts);
    const hostile: unknown[] = [undefined, null, 1, {}, batch.data, recvArea];
    hostile.forEach((h, i) => expect(() => n.sendBatchIn(s.fd, h as typeof sendArea, 1), `hostile[${i}]`).toThrow(TypeError));
    expect(() => n.recvBatchIn(s.fd, sendArea, SLOT, BATCH, false)).toThrow(TypeError);
    expect(() => n.ioArea(batch.data, {} as Buffer, batch.addrs, batch.out)).toThrow(TypeError);
  });

  it('throw, never touch freed memory, once an area\'s memory was transferred', () => {
    const s = udpSocket();
    const batch = batchTo(s.port, 1);
    const sendArea = n.ioArea(batch.data, batch.desc, batch.addrs, batch.out);
    expect(n.sendBatchIn(s.fd, sendArea, 1)).toBe(1);
    // the batch's arrays share one ArrayBuffer: transferring it detaches them all
    const memory = batch.data.buffer as ArrayBuffer;
    structuredClone(memory, { transfer: [memory] });
    expect(() => n.sendBatchIn(s.fd, sendArea, 1)).toThrow(/detached/);
    const area = new ReceiveArea();
    const recvArea = n.ioArea(area.buf, area.meta, area.addrs, area.counts);
    const areaMemory = area.meta.buffer as ArrayBuffer;
    structuredClone(areaMemory, { transfer: [areaMemory] });
    expect(() => n.recvBatchIn(s.fd, recvArea, SLOT, BATCH, false)).toThrow(/detached/);
  });
});
