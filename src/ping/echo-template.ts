// Echo requests written from a per-socket template: the header with our identifier, the
// payload's cookie and fill are laid out once; each probe copies the template, sets its two
// sequence numbers and adjusts the ICMPv4 checksum for just those words (the kernel computes
// ICMPv6 checksums). Ten thousand probes then cost ten thousand small copies.

import { foldChecksum, internetChecksum, onesComplementSum } from '../packet/checksum.js';
import { writeEcho } from '../packet/icmp.js';
import { PAYLOAD_HEAD_BYTES, type PayloadLayout } from './payload.js';

export class EchoTemplate {
  private readonly packet: Buffer;
  /** ones' complement sum of the template with checksum and sequences zero */
  private readonly baseSum: number;
  readonly length: number;

  constructor(
    private readonly family: 4 | 6,
    identifier: number,
    private readonly payload: PayloadLayout,
  ) {
    this.length = 8 + payload.size;
    this.packet = Buffer.alloc(this.length);
    payload.write(this.packet, 8, 0);
    writeEcho(this.packet, 0, { family, id: identifier, seq: 0, payloadLength: payload.size });
    this.packet.writeUInt16BE(0, 2);
    this.baseSum = onesComplementSum(this.packet, 0, this.length);
  }

  /**
   * Copies the template into `count` slots of `slotSize` bytes, so that write() with
   * `prefilled` need only set the sequence numbers and the checksum there.
   */
  prefill(buf: Buffer, slotSize: number, count: number): void {
    for (let i = 0; i < count; i++) buf.set(this.packet, i * slotSize);
  }

  /**
   * Writes the echo request carrying seq32 (wire sequence: its low 16 bits) at buf[off];
   * prefilled: the template is already there (see prefill()).
   */
  write(buf: Buffer, off: number, seq32: number, prefilled = false): number {
    const len = this.length;
    const wire = seq32 & 0xffff;
    if (this.payload.size < PAYLOAD_HEAD_BYTES) {
      // a short payload holds part of the head: write it out plainly
      buf.set(this.packet, off);
      this.payload.write(buf, off + 8, seq32);
      buf[off + 6] = wire >>> 8;
      buf[off + 7] = wire & 0xff;
      if (this.family === 4) {
        buf[off + 2] = 0;
        buf[off + 3] = 0;
        const c = internetChecksum(buf, off, len);
        buf[off + 2] = c >>> 8;
        buf[off + 3] = c & 0xff;
      }
      return len;
    }
    if (!prefilled) buf.set(this.packet, off);
    buf[off + 6] = wire >>> 8;
    buf[off + 7] = wire & 0xff;
    const hi = seq32 >>> 16;
    buf[off + 8] = hi >>> 8;
    buf[off + 9] = hi & 0xff;
    buf[off + 10] = wire >>> 8;
    buf[off + 11] = wire & 0xff;
    if (this.family === 4) {
      // the sequence words are all that changed: the wire sequence twice, the high half once
      const c = ~foldChecksum(this.baseSum + wire + hi + wire) & 0xffff;
      buf[off + 2] = c >>> 8;
      buf[off + 3] = c & 0xff;
    }
    return len;
  }
}
