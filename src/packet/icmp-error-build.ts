// Builds ICMP/ICMPv6 error messages quoting a datagram, optionally with RFC 4884 extensions in
// the compliant or the non-compliant (length 0, 128-byte quote) form — what the TUN simulator
// answers probes with, since real kernels cannot produce MPLS extensions.

import type { IpFamily } from './address.js';
import { toAddressBytes } from './address.js';
import { checkInt, checkRoom, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';
import { ICMPV4_TYPE, ICMPV4_UNREACH, ICMPV6_TYPE, ICMP_HEADER_LENGTH } from './icmp.js';
import type { IcmpExtensionObjectFields } from './icmp-extensions.js';
import { ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH, icmpExtensionsLength, icmpTypeMayCarryExtensions, writeIcmpExtensions } from './icmp-extensions.js';
import { IP_PROTOCOL } from './ip-protocol.js';

export interface IcmpErrorFields {
  family: IpFamily;
  type: number;
  code: number;
  /** Fragmentation needed (16 bits) / packet too big (32 bits). */
  mtu?: number;
  /** Parameter problem pointer (ICMPv4 8 bits, ICMPv6 32 bits). */
  pointer?: number;
  /** ICMPv4 redirect gateway. */
  gateway?: string | Uint8Array;
  /** The original datagram from its IP header on, as much of it as should be quoted. */
  quote: Uint8Array;
  /** RFC 4884 extension objects (e.g. mplsExtensionObject(...)); only for types that may carry them. */
  extensions?: readonly IcmpExtensionObjectFields[];
  /** 'compliant' (default): length field set, quote zero-padded to >= 128 bytes. 'non-compliant': length 0, quote cut or padded to exactly 128. */
  extensionForm?: 'compliant' | 'non-compliant';
  /** Compute the extension header checksum (default true). */
  extensionChecksum?: boolean;
  /** ICMPv6 only: addresses for the pseudo-header checksum; without them it is left 0. */
  src?: string | Uint8Array;
  dst?: string | Uint8Array;
}

/** Bytes writeIcmpError will write for these fields. */
export function icmpErrorLength(f: IcmpErrorFields): number {
  return ICMP_HEADER_LENGTH + quoteRegionLength(f) + (f.extensions?.length ? icmpExtensionsLength(f.extensions) : 0);
}

function quoteRegionLength(f: IcmpErrorFields): number {
  if (!f.extensions?.length) return f.quote.length;
  if (f.extensionForm === 'non-compliant') return ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH;
  const unit = f.family === 4 ? 4 : 8;
  const padded = Math.max(f.quote.length, ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH);
  return Math.ceil(padded / unit) * unit;
}

/** Writes the ICMP error message at `off` and returns its length. Throws RangeError/TypeError on bad fields. */
export function writeIcmpError(buf: Uint8Array, off: number, f: IcmpErrorFields): number {
  checkInt('type', f.type, 0, 0xff);
  checkInt('code', f.code, 0, 0xff);
  const hasExtensions = (f.extensions?.length ?? 0) > 0;
  if (hasExtensions && !icmpTypeMayCarryExtensions(f.family, f.type)) {
    throw new RangeError(`ICMP${f.family === 6 ? 'v6' : ''} type ${f.type} cannot carry RFC 4884 extensions`);
  }
  const quoteRegion = quoteRegionLength(f);
  const unit = f.family === 4 ? 4 : 8;
  const lengthWords = hasExtensions && f.extensionForm !== 'non-compliant' ? quoteRegion / unit : 0;
  checkInt('quote length in words', lengthWords, 0, 0xff);
  const len = icmpErrorLength(f);
  checkRoom(buf, off, len);

  buf[off] = f.type;
  buf[off + 1] = f.code;
  buf.fill(0, off + 2, off + ICMP_HEADER_LENGTH);
  if (f.family === 4) {
    if (f.type === ICMPV4_TYPE.DEST_UNREACH && f.code === ICMPV4_UNREACH.FRAG_NEEDED) {
      checkInt('mtu', f.mtu ?? 0, 0, 0xffff);
      writeU16(buf, off + 6, f.mtu ?? 0);
    } else if (f.type === ICMPV4_TYPE.PARAMETER_PROBLEM) {
      checkInt('pointer', f.pointer ?? 0, 0, 0xff);
      buf[off + 4] = f.pointer ?? 0;
    } else if (f.type === ICMPV4_TYPE.REDIRECT) {
      buf.set(toAddressBytes(f.gateway ?? '0.0.0.0', 4), off + 4);
    }
    // Byte 5 is the RFC 4884 length (redirects, whose gateway fills 4–7, never have one).
    if (lengthWords !== 0) buf[off + 5] = lengthWords;
  } else {
    if (f.type === ICMPV6_TYPE.PACKET_TOO_BIG) {
      checkInt('mtu', f.mtu ?? 0, 0, 0xffffffff);
      writeU32(buf, off + 4, f.mtu ?? 0);
    } else if (f.type === ICMPV6_TYPE.PARAMETER_PROBLEM) {
      checkInt('pointer', f.pointer ?? 0, 0, 0xffffffff);
      writeU32(buf, off + 4, f.pointer ?? 0);
    } else {
      buf[off + 4] = lengthWords;
    }
  }

  const quoteOff = off + ICMP_HEADER_LENGTH;
  const copied = Math.min(f.quote.length, quoteRegion);
  buf.set(copied === f.quote.length ? f.quote : f.quote.subarray(0, copied), quoteOff);
  buf.fill(0, quoteOff + copied, quoteOff + quoteRegion);
  if (hasExtensions && f.extensions) {
    writeIcmpExtensions(buf, quoteOff + quoteRegion, f.extensions, { checksum: f.extensionChecksum !== false });
  }

  if (f.family === 4) {
    writeU16(buf, off + 2, internetChecksum(buf, off, len));
  } else if (f.src !== undefined && f.dst !== undefined) {
    const pseudo = pseudoHeaderSum(toAddressBytes(f.src, 6), toAddressBytes(f.dst, 6), IP_PROTOCOL.ICMPV6, len);
    writeU16(buf, off + 2, internetChecksum(buf, off, len, pseudo));
  }
  return len;
}
