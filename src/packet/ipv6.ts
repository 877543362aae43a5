// IPv6 fixed header parse/build and an extension-header walk. IPv6 sockets never deliver the
// header; it matters in ICMPv6 error quotes and in the TUN simulator's packets.

import { formatIPv6, toAddressBytes } from './address.js';
import { available, checkInt, checkRoom, readU16, writeU16 } from './bytes.js';
import { IP_PROTOCOL } from './ip-protocol.js';

export const IPV6_HEADER_LENGTH = 40;

export interface IPv6Header {
  version: 6;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
}

/** Parses the fixed IPv6 header at `off` (into `out` when given), or null when short or not version 6. Never throws. */
export function parseIPv6Header(buf: Uint8Array, off = 0, len?: number, out?: IPv6Header): IPv6Header | null {
  if (available(buf, off, len) < IPV6_HEADER_LENGTH) return null;
  if (buf[off] >>> 4 !== 6) return null;
  const h = out ?? ({} as IPv6Header);
  h.version = 6;
  h.trafficClass = ((buf[off] & 0x0f) << 4) | (buf[off + 1] >>> 4);
  h.flowLabel = ((buf[off + 1] & 0x0f) << 16) | (buf[off + 2] << 8) | buf[off + 3];
  h.payloadLength = readU16(buf, off + 4);
  h.nextHeader = buf[off + 6];
  h.hopLimit = buf[off + 7];
  h.src = formatIPv6(buf, off + 8);
  h.dst = formatIPv6(buf, off + 24);
  return h;
}

export interface IPv6HeaderFields {
  trafficClass?: number;
  flowLabel?: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string | Uint8Array;
  dst: string | Uint8Array;
}

/** Writes the 40-byte fixed IPv6 header at `off`; returns 40. Throws RangeError/TypeError on bad fields. */
export function writeIPv6Header(buf: Uint8Array, off: number, f: IPv6HeaderFields): number {
  const tc = f.trafficClass ?? 0, flow = f.flowLabel ?? 0;
  checkInt('trafficClass', tc, 0, 0xff);
  checkInt('flowLabel', flow, 0, 0xfffff);
  checkInt('payloadLength', f.payloadLength, 0, 0xffff);
  checkInt('nextHeader', f.nextHeader, 0, 0xff);
  checkInt('hopLimit', f.hopLimit, 0, 0xff);
  const src = toAddressBytes(f.src, 6), dst = toAddressBytes(f.dst, 6);
  checkRoom(buf, off, IPV6_HEADER_LENGTH);
  buf[off] = 0x60 | (tc >>> 4);
  buf[off + 1] = ((tc & 0x0f) << 4) | (flow >>> 16);
  buf[off + 2] = (flow >>> 8) & 0xff;
  buf[off + 3] = flow & 0xff;
  writeU16(buf, off + 4, f.payloadLength);
  buf[off + 6] = f.nextHeader;
  buf[off + 7] = f.hopLimit;
  buf.set(src, off + 8);
  buf.set(dst, off + 24);
  return IPV6_HEADER_LENGTH;
}

export interface IPv6UpperLayer {
  /** The upper-layer protocol (e.g. 58, 17, 6), or the header where the walk stopped. */
  protocol: number;
  /** Offset of that protocol's header. */
  offset: number;
  /** True when a fragment header with a non-zero offset means the upper-layer header is not here. */
  fragment: boolean;
}

/**
 * Walks extension headers starting at `off` (right after the fixed header) with `nextHeader`
 * from it, to the upper-layer header. Stops at ESP (opaque), "no next header" or anything
 * unknown, reporting where it stopped. Returns null when an extension header runs past `len`.
 */
export function skipIPv6ExtensionHeaders(buf: Uint8Array, off: number, len: number | undefined, nextHeader: number): IPv6UpperLayer | null {
  const end = off + available(buf, off, len);
  let next = nextHeader;
  let at = off;
  // A packet cannot hold more than a handful of extension headers; bound the walk regardless.
  for (let hops = 0; hops < 16; hops++) {
    switch (next) {
      case IP_PROTOCOL.HOPOPTS:
      case IP_PROTOCOL.ROUTING:
      case IP_PROTOCOL.DSTOPTS: {
        if (at + 2 > end) return null;
        const size = (buf[at + 1] + 1) * 8;
        if (at + size > end) return null;
        next = buf[at];
        at += size;
        break;
      }
      case IP_PROTOCOL.AH: {
        if (at + 2 > end) return null;
        const size = (buf[at + 1] + 2) * 4;
        if (at + size > end) return null;
        next = buf[at];
        at += size;
        break;
      }
      case IP_PROTOCOL.FRAGMENT: {
        if (at + 8 > end) return null;
        const fragOffset = readU16(buf, at + 2) >>> 3;
        next = buf[at];
        at += 8;
        if (fragOffset !== 0) return { protocol: next, offset: at, fragment: true };
        break;
      }
      default:
        return { protocol: next, offset: at, fragment: false };
    }
  }
  return { protocol: next, offset: at, fragment: false };
}
