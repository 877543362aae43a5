// A reusable batch of outgoing datagrams for the native sendBatchIn: fixed slots in one
// Buffer, a descriptor per message, and the send time the addon records for each. The four
// arrays share one ArrayBuffer, so the addon's registered area of them (ioArea, kept in
// `area` by the socket that first sends the batch) has one piece of memory to watch.
import { SEND_DESC_STRIDE, SEND_OUT_STRIDE, type IoArea } from '../native.js';

export class SendBatch {
  readonly data: Buffer;
  readonly desc: Int32Array;
  readonly addrs: Buffer;
  readonly out: Float64Array;
  count = 0;
  /** the addon's registration of the four arrays (made by the first socket that sends it) */
  area: IoArea | null = null;

  constructor(readonly capacity: number, readonly slotSize: number) {
    // out (8-byte elements) first, then desc (4-byte), then the byte arrays
    const outBytes = capacity * SEND_OUT_STRIDE * 8, descBytes = capacity * SEND_DESC_STRIDE * 4, addrBytes = capacity * 16;
    const memory = new ArrayBuffer(outBytes + descBytes + addrBytes + capacity * slotSize);
    this.out = new Float64Array(memory, 0, capacity * SEND_OUT_STRIDE);
    this.desc = new Int32Array(memory, outBytes, capacity * SEND_DESC_STRIDE);
    this.addrs = Buffer.from(memory, outBytes + descBytes, addrBytes);
    this.data = Buffer.from(memory, outBytes + descBytes + addrBytes, capacity * slotSize);
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Offset in data where the next message must be written. */
  nextOffset(): number {
    return this.count * this.slotSize;
  }

  /**
   * Adds the message already written at nextOffset(); dest is 16 address bytes (see
   * address-bytes.ts) or null for a connected socket; flowLabel (IPv6) needs the socket's
   * lease on it (flow-label-leases.ts). Returns its index.
   */
  push(length: number, family: 4 | 6 | 0, dest: Buffer | null, destOffset = 0, port = 0, ttl = -1, tos = -1, scopeId = 0, flowLabel = 0): number {
    const i = this.count++;
    const d = i * SEND_DESC_STRIDE;
    this.desc[d] = i * this.slotSize;
    this.desc[d + 1] = length;
    this.desc[d + 2] = family;
    this.desc[d + 3] = port;
    this.desc[d + 4] = ttl;
    this.desc[d + 5] = tos;
    this.desc[d + 6] = scopeId;
    this.desc[d + 7] = flowLabel;
    if (dest) {
      // 16 bytes: a loop is cheaper than Buffer#copy's checks at this size
      const addrs = this.addrs, to = i * 16;
      for (let k = 0; k < 16; k++) addrs[to + k] = dest[destOffset + k]!;
    }
    return i;
  }

  sentSec(i: number): number {
    return this.out[i * SEND_OUT_STRIDE]!;
  }
  sentNsec(i: number): number {
    return this.out[i * SEND_OUT_STRIDE + 1]!;
  }
  /** errno of message i (0 when it was sent) */
  errno(i: number): number {
    return this.out[i * SEND_OUT_STRIDE + 2]!;
  }

  /** Drops the first n messages (sent), keeping the rest for a later attempt. */
  shift(n: number): void {
    if (n <= 0) return;
    const rest = this.count - n;
    for (let j = 0; j < rest; j++) {
      const from = (j + n) * SEND_DESC_STRIDE, to = j * SEND_DESC_STRIDE;
      this.data.copy(this.data, j * this.slotSize, (j + n) * this.slotSize, (j + n + 1) * this.slotSize);
      for (let k = 0; k < SEND_DESC_STRIDE; k++) this.desc[to + k] = this.desc[from + k]!;
      this.desc[to] = j * this.slotSize;
      this.addrs.copy(this.addrs, j * 16, (j + n) * 16, (j + n + 1) * 16);
    }
    this.count = rest;
  }

  clear(): void {
    this.count = 0;
  }
}
