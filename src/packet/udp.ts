// UDP header codec with the pseudo-header checksum, for raw-socket UDP probes and the TUN simulator.

import { toAddressBytes } from './address.js';
import { available, checkInt, checkRoom, readU16, writeU16 } from './bytes.js';
import { foldChecksum, forceChecksum, internetChecksum, onesComplementSum, pseudoHeaderSum, verifyChecksum } from './checksum.js';
import { IP_PROTOCOL } from './ip-protocol.js';

export const UDP_HEADER_LENGTH = 8;

export interface UdpFields {
  srcPort: number;
  dstPort: number;
  /** Copied to `off + 8`. Omit it when the payload is already in place and give `payloadLength`. */
  payload?: Uint8Array;
  payloadLength?: number;
  /**
   * Both addresses (IPv4 or IPv6) to compute the checksum. Without them it is left 0: "no
   * checksum" on IPv4; on IPv6 (where 0 is invalid) only a socket with IPV6_CHECKSUM may send that.
   */
  src?: string | Uint8Array;
  dst?: string | Uint8Array;
}

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

function writeUdpBody(buf: Uint8Array, off: number, f: UdpFields): number {
  checkInt('srcPort', f.srcPort, 0, 0xffff);
  checkInt('dstPort', f.dstPort, 0, 0xffff);
  const payloadLength = f.payload ? f.payload.length : (f.payloadLength ?? 0);
  checkInt('payloadLength', payloadLength, 0, 0xffff - UDP_HEADER_LENGTH);
  const len = UDP_HEADER_LENGTH + payloadLength;
  checkRoom(buf, off, len);
  writeU16(buf, off, f.srcPort);
  writeU16(buf, off + 2, f.dstPort);
  writeU16(buf, off + 4, len);
  buf[off + 6] = 0; buf[off + 7] = 0;
  if (f.payload && !(f.payload.buffer === buf.buffer && f.payload.byteOffset === buf.byteOffset + off + UDP_HEADER_LENGTH)) {
    buf.set(f.payload, off + UDP_HEADER_LENGTH);
  }
  return len;
}

function pseudoSum(src: string | Uint8Array, dst: string | Uint8Array, len: number): number {
  const s = toAddressBytes(src), d = toAddressBytes(dst, s.length === 4 ? 4 : 6);
  return pseudoHeaderSum(s, d, IP_PROTOCOL.UDP, len);
}

/** Writes a UDP header (and payload) at `off`; returns the datagram length. Throws RangeError/TypeError on bad fields. */
export function writeUdp(buf: Uint8Array, off: number, f: UdpFields): number {
  const len = writeUdpBody(buf, off, f);
  if (f.src !== undefined && f.dst !== undefined) {
    // A computed 0 is sent as 0xffff: 0 means "no checksum".
    writeU16(buf, off + 6, internetChecksum(buf, off, len, pseudoSum(f.src, f.dst, len)) || 0xffff);
  }
  return len;
}

/**
 * Paris/trippy-style UDP probe: the checksum field is the chosen `checksum` (e.g. the probe's
 * sequence, with ports held constant for the flow) and the two payload bytes at `fixOffset`
 * (even, relative to the payload) compensate. Needs `src`, `dst` and a payload of at least
 * `fixOffset + 2` bytes; `checksum` must not be 0 ("no checksum"). Returns the length.
 */
export function writeUdpWithChecksum(buf: Uint8Array, off: number, f: UdpFields, checksum: number, fixOffset = 0): number {
  checkInt('checksum', checksum, 1, 0xffff);
  if (f.src === undefined || f.dst === undefined) throw new TypeError('a UDP probe with a fixed checksum needs src and dst (the checksum covers the pseudo header)');
  const payloadLength = f.payload ? f.payload.length : (f.payloadLength ?? 0);
  if (!Number.isInteger(fixOffset) || (fixOffset & 1) !== 0 || fixOffset < 0 || fixOffset + 2 > payloadLength) {
    throw new RangeError(`fixOffset must be even and leave 2 payload bytes (payload is ${payloadLength} bytes), got ${String(fixOffset)}`);
  }
  const len = writeUdpBody(buf, off, f);
  forceChecksum(buf, off, len, off + 6, off + UDP_HEADER_LENGTH + fixOffset, checksum, pseudoSum(f.src, f.dst, len));
  return len;
}

/** Decodes the UDP header at `off` (into `out` when given), or null when shorter than 8 bytes. Never throws. */
export function parseUdpHeader(buf: Uint8Array, off: number, len?: number, out?: UdpHeader): UdpHeader | null {
  if (available(buf, off, len) < UDP_HEADER_LENGTH) return null;
  const h = out ?? ({} as UdpHeader);
  h.srcPort = readU16(buf, off);
  h.dstPort = readU16(buf, off + 2);
  h.length = readU16(buf, off + 4);
  h.checksum = readU16(buf, off + 6);
  return h;
}

/** The checksum a UDP datagram of `len` bytes at `off` should carry (its stored checksum field is skipped). */
export function udpChecksum(buf: Uint8Array, off: number, len: number, src: string | Uint8Array, dst: string | Uint8Array): number {
  if (len < UDP_HEADER_LENGTH || available(buf, off, len) < len) throw new RangeError(`UDP datagram of ${len} bytes does not fit the buffer`);
  const sum = onesComplementSum(buf, off, 6, pseudoSum(src, dst, len)) + onesComplementSum(buf, off + 8, len - 8);
  return (~foldChecksum(sum) & 0xffff) || 0xffff;
}

/** True when the UDP datagram's checksum verifies for these addresses (IPv4 checksum 0 = none = true). */
export function verifyUdpChecksum(buf: Uint8Array, off: number, len: number, src: string | Uint8Array, dst: string | Uint8Array): boolean {
  if (available(buf, off, len) < len || len < UDP_HEADER_LENGTH) return false;
  const s = toAddressBytes(src);
  if (readU16(buf, off + 6) === 0) return s.length === 4;
  return verifyChecksum(buf, off, len, pseudoSum(s, dst, len));
}
