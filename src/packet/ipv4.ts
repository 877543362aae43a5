// IPv4 header parse/build. Raw IPv4 sockets deliver this header in front of every ICMP message,
// and ICMP errors quote one; both may carry options, so the header length always comes from IHL.

import { formatIPv4, toAddressBytes } from './address.js';
import { available, checkInt, checkRoom, readU16, writeU16 } from './bytes.js';
import { internetChecksum, verifyChecksum } from './checksum.js';

export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;

export interface IPv4Header {
  version: 4;
  /** IHL in bytes (20–60), options included. */
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  /** The three flag bits (reserved, DF, MF). */
  flags: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: string;
  dst: string;
}

/**
 * The header length in bytes of the IPv4 header at `off`, or 0 when there is no complete,
 * plausible header (too short, version not 4, IHL < 5 or running past `len`). Allocation-free:
 * use it on the receive path to find the ICMP message behind a raw socket's IP header.
 */
export function ipv4HeaderLength(buf: Uint8Array, off = 0, len?: number): number {
  const have = available(buf, off, len);
  if (have < IPV4_MIN_HEADER_LENGTH) return 0;
  const b0 = buf[off];
  if (b0 >>> 4 !== 4) return 0;
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER_LENGTH || ihl > have) return 0;
  return ihl;
}

/** Parses the IPv4 header at `off` (into `out` when given), or null when it is incomplete or not IPv4. Never throws. */
export function parseIPv4Header(buf: Uint8Array, off = 0, len?: number, out?: IPv4Header): IPv4Header | null {
  const headerLength = ipv4HeaderLength(buf, off, len);
  if (headerLength === 0) return null;
  const fragWord = readU16(buf, off + 6);
  const h = out ?? ({} as IPv4Header);
  h.version = 4;
  h.headerLength = headerLength;
  h.tos = buf[off + 1];
  h.totalLength = readU16(buf, off + 2);
  h.id = readU16(buf, off + 4);
  h.flags = fragWord >>> 13;
  h.dontFragment = (fragWord & 0x4000) !== 0;
  h.moreFragments = (fragWord & 0x2000) !== 0;
  h.fragmentOffset = fragWord & 0x1fff;
  h.ttl = buf[off + 8];
  h.protocol = buf[off + 9];
  h.checksum = readU16(buf, off + 10);
  h.src = formatIPv4(buf, off + 12);
  h.dst = formatIPv4(buf, off + 16);
  return h;
}

/** True when the IPv4 header at `off` is complete and its header checksum is right. */
export function verifyIPv4HeaderChecksum(buf: Uint8Array, off = 0, len?: number): boolean {
  const headerLength = ipv4HeaderLength(buf, off, len);
  return headerLength !== 0 && verifyChecksum(buf, off, headerLength);
}

export interface IPv4HeaderFields {
  tos?: number;
  /** Header + payload bytes. */
  totalLength: number;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In 8-byte units. */
  fragmentOffset?: number;
  ttl: number;
  protocol: number;
  src: string | Uint8Array;
  dst: string | Uint8Array;
  /** Raw option bytes (at most 40); padded with end-of-options zeros to a 32-bit boundary. */
  options?: Uint8Array;
}

/** Writes an IPv4 header with its checksum at `off`; returns the header length. Throws RangeError/TypeError on bad fields. */
export function writeIPv4Header(buf: Uint8Array, off: number, f: IPv4HeaderFields): number {
  const optionsLength = f.options ? f.options.length : 0;
  if (optionsLength > IPV4_MAX_HEADER_LENGTH - IPV4_MIN_HEADER_LENGTH) {
    throw new RangeError(`IPv4 options must be at most 40 bytes, got ${optionsLength}`);
  }
  const headerLength = IPV4_MIN_HEADER_LENGTH + ((optionsLength + 3) & ~3);
  const tos = f.tos ?? 0, id = f.id ?? 0, frag = f.fragmentOffset ?? 0;
  checkInt('tos', tos, 0, 0xff);
  checkInt('totalLength', f.totalLength, headerLength, 0xffff);
  checkInt('id', id, 0, 0xffff);
  checkInt('fragmentOffset', frag, 0, 0x1fff);
  checkInt('ttl', f.ttl, 0, 0xff);
  checkInt('protocol', f.protocol, 0, 0xff);
  const src = toAddressBytes(f.src, 4), dst = toAddressBytes(f.dst, 4);
  checkRoom(buf, off, headerLength);

  buf[off] = 0x40 | (headerLength >>> 2);
  buf[off + 1] = tos;
  writeU16(buf, off + 2, f.totalLength);
  writeU16(buf, off + 4, id);
  writeU16(buf, off + 6, (f.dontFragment ? 0x4000 : 0) | (f.moreFragments ? 0x2000 : 0) | frag);
  buf[off + 8] = f.ttl;
  buf[off + 9] = f.protocol;
  buf[off + 10] = 0; buf[off + 11] = 0;
  buf.set(src, off + 12);
  buf.set(dst, off + 16);
  if (f.options) {
    buf.set(f.options, off + 20);
    buf.fill(0, off + 20 + optionsLength, off + headerLength);
  }
  writeU16(buf, off + 10, internetChecksum(buf, off, headerLength));
  return headerLength;
}
