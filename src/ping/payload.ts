// The echo payload: a 32-bit sequence number (the probe's number on its socket, wider than the
// 16-bit wire sequence), an 8-byte random cookie of this run, then a fill pattern (iputils'
// byte-index fill, or the -p pattern repeated). A payload shorter than 12 bytes carries as
// much of the head as fits; matching then checks only what is there.

import { randomBytesSync } from '../socket/random.js';

export const PAYLOAD_SEQ_BYTES = 4;
export const PAYLOAD_COOKIE_BYTES = 8;
export const PAYLOAD_HEAD_BYTES = PAYLOAD_SEQ_BYTES + PAYLOAD_COOKIE_BYTES;

export class PayloadLayout {
  /** payload bytes after the ICMP header */
  readonly size: number;
  readonly cookie: Buffer;
  /** the bytes after the head, as sent */
  private readonly fill: Buffer;

  constructor(size: number, pattern: Uint8Array | null, cookie: Buffer = randomBytesSync(PAYLOAD_COOKIE_BYTES)) {
    this.size = size;
    this.cookie = cookie;
    this.fill = Buffer.alloc(Math.max(0, size - PAYLOAD_HEAD_BYTES));
    for (let i = PAYLOAD_HEAD_BYTES; i < size; i++) {
      // byte i of the payload, like iputils: its index, or the pattern repeated from the start
      this.fill[i - PAYLOAD_HEAD_BYTES] = pattern && pattern.length > 0 ? pattern[i % pattern.length]! : i & 0xff;
    }
  }

  /** Writes the payload for sequence seq32 at buf[off..off+size). */
  write(buf: Buffer, off: number, seq32: number): void {
    const size = this.size;
    if (size >= PAYLOAD_HEAD_BYTES) {
      buf.writeUInt32BE(seq32 >>> 0, off);
      this.cookie.copy(buf, off + PAYLOAD_SEQ_BYTES);
      this.fill.copy(buf, off + PAYLOAD_HEAD_BYTES);
      return;
    }
    const head = Buffer.allocUnsafe(PAYLOAD_HEAD_BYTES);
    head.writeUInt32BE(seq32 >>> 0, 0);
    this.cookie.copy(head, PAYLOAD_SEQ_BYTES);
    head.copy(buf, off, 0, size);
  }

  /** The 32-bit sequence in a received payload, or -1 when fewer than 4 bytes came back. */
  readSeq(buf: Buffer, off: number, length: number): number {
    // by hand: readUInt32BE checks its argument on every reply
    return length >= PAYLOAD_SEQ_BYTES ? ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0 : -1;
  }

  /** True when the cookie bytes present in a received payload (a partial one for short payloads) are ours. */
  cookieMatches(buf: Buffer, off: number, length: number): boolean {
    const have = Math.min(length, PAYLOAD_HEAD_BYTES, this.size) - PAYLOAD_SEQ_BYTES;
    for (let i = 0; i < have; i++) if (buf[off + PAYLOAD_SEQ_BYTES + i] !== this.cookie[i]) return false;
    return true;
  }

  /**
   * Index in the payload of the first fill byte that differs from what was sent, the received
   * length when the reply is shorter than the payload, or -1 when it is all there and right.
   */
  firstBadByte(buf: Buffer, off: number, length: number): number {
    const end = Math.min(length, this.size);
    const fill = this.fill;
    // a plain loop: for tens of bytes it beats Buffer#compare's argument checks and native call
    for (let i = PAYLOAD_HEAD_BYTES; i < end; i++) {
      if (buf[off + i] !== fill[i - PAYLOAD_HEAD_BYTES]) return i;
    }
    return length < this.size ? length : -1;
  }

  /** What byte i of the payload should be (for iputils' "wrong data byte" report). */
  expectedByte(i: number, seq32: number): number {
    if (i >= PAYLOAD_HEAD_BYTES) return this.fill[i - PAYLOAD_HEAD_BYTES]!;
    if (i < PAYLOAD_SEQ_BYTES) return (seq32 >>> (8 * (3 - i))) & 0xff;
    return this.cookie[i - PAYLOAD_SEQ_BYTES]!;
  }
}

/**
 * Parses ping -p's hex pattern as iputils does: pairs of hex digits from the start, a lone last
 * digit is a byte of its own ("abc" = ab 0c), at most 16 bytes. Null when not hex.
 */
export function parsePattern(text: string): Buffer | null {
  if (!/^[0-9a-fA-F]+$/.test(text)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < text.length && bytes.length < 16; i += 2) bytes.push(parseInt(text.slice(i, i + 2), 16));
  return Buffer.from(bytes);
}
