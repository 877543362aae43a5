// RFC 4884 ICMP extension structures and RFC 4950 MPLS label stack objects.
//
// An extending router pads the quoted original datagram to at least 128 bytes, stores its length
// in the ICMP header (IPv4: byte 5, 32-bit words; ICMPv6: byte 4, 64-bit words) and appends an
// extension header (version 2, checksum) followed by objects (length, class, c-type, data).
// Older MPLS routers append the same structure after exactly 128 bytes but leave the length 0
// (the "non-compliant" form). Every length here comes from the network, so nothing is trusted:
// reads stay inside the given window and malformed input yields null or `truncated: true`.

import type { IpFamily } from './address.js';
import { available, checkInt, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, verifyChecksum } from './checksum.js';
import { ICMPV4_TYPE, ICMPV6_TYPE, ICMP_HEADER_LENGTH } from './icmp.js';

/** Minimum (padded) original-datagram length when extensions follow it. */
export const ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH = 128;
export const ICMP_EXTENSION_VERSION = 2;
export const ICMP_EXTENSION_HEADER_LENGTH = 4;
export const ICMP_EXTENSION_OBJECT_HEADER_LENGTH = 4;
/** RFC 4950: class 1 (MPLS label stack), c-type 1 (incoming label stack). */
export const MPLS_EXTENSION_CLASS = 1;
export const MPLS_EXTENSION_CTYPE = 1;

export interface MplsLabelStackEntry {
  label: number;
  /** Traffic class (formerly EXP), 3 bits. */
  exp: number;
  /** Bottom-of-stack bit, 0 or 1. */
  s: number;
  ttl: number;
}

export interface IcmpExtensionObject {
  classNum: number;
  cType: number;
  /** Object length from its header (header included). */
  length: number;
  /** Offset and length of the object's data in the parsed buffer. */
  dataOffset: number;
  dataLength: number;
  /** Decoded entries for an MPLS label stack object, else null. */
  mpls: MplsLabelStackEntry[] | null;
}

export interface IcmpExtensionStructure {
  version: number;
  checksum: number;
  /** The checksum over the whole structure verifies (false also when it is 0, i.e. not computed). */
  checksumValid: boolean;
  objects: IcmpExtensionObject[];
  /** Every MPLS label stack entry of every MPLS object, outermost first. */
  mpls: MplsLabelStackEntry[];
  /** Trailing bytes that are not a whole object, or an object whose length runs past the data. */
  truncated: boolean;
}

/** Decodes the MPLS label stack entries in `len` bytes at `off` (4 bytes each; a partial trailing entry is ignored). */
export function parseMplsLabelStack(buf: Uint8Array, off: number, len?: number): MplsLabelStackEntry[] {
  const have = available(buf, off, len);
  const entries: MplsLabelStackEntry[] = [];
  for (let at = off; at + 4 <= off + have; at += 4) {
    const word = readU32(buf, at);
    entries.push({ label: word >>> 12, exp: (word >>> 9) & 0x7, s: (word >>> 8) & 0x1, ttl: word & 0xff });
  }
  return entries;
}

/**
 * Parses an extension structure (header + objects) in `len` bytes at `off`. Null when fewer than 4
 * bytes or the version is not 2. Objects are read while whole; a lying object length stops the
 * walk with `truncated: true`. Never throws.
 */
export function parseIcmpExtensions(buf: Uint8Array, off: number, len?: number): IcmpExtensionStructure | null {
  const have = available(buf, off, len);
  if (have < ICMP_EXTENSION_HEADER_LENGTH) return null;
  const version = buf[off] >>> 4;
  if (version !== ICMP_EXTENSION_VERSION) return null;
  const checksum = readU16(buf, off + 2);
  const result: IcmpExtensionStructure = {
    version,
    checksum,
    checksumValid: checksum !== 0 && verifyChecksum(buf, off, have),
    objects: [],
    mpls: [],
    truncated: false,
  };
  const end = off + have;
  let at = off + ICMP_EXTENSION_HEADER_LENGTH;
  while (end - at >= ICMP_EXTENSION_OBJECT_HEADER_LENGTH) {
    const length = readU16(buf, at);
    if (length < ICMP_EXTENSION_OBJECT_HEADER_LENGTH || length > end - at) {
      result.truncated = true;
      return result;
    }
    const classNum = buf[at + 2], cType = buf[at + 3];
    const dataOffset = at + ICMP_EXTENSION_OBJECT_HEADER_LENGTH;
    const dataLength = length - ICMP_EXTENSION_OBJECT_HEADER_LENGTH;
    let mpls: MplsLabelStackEntry[] | null = null;
    if (classNum === MPLS_EXTENSION_CLASS && cType === MPLS_EXTENSION_CTYPE) {
      mpls = parseMplsLabelStack(buf, dataOffset, dataLength);
      for (const entry of mpls) result.mpls.push(entry);
    }
    result.objects.push({ classNum, cType, length, dataOffset, dataLength, mpls });
    at += length;
  }
  if (at !== end) result.truncated = true;
  return result;
}

/** Which ICMP messages may carry RFC 4884 extensions (ICMPv4 3, 11, 12; ICMPv6 1, 3). */
export function icmpTypeMayCarryExtensions(family: IpFamily, type: number): boolean {
  return family === 4
    ? type === ICMPV4_TYPE.DEST_UNREACH || type === ICMPV4_TYPE.TIME_EXCEEDED || type === ICMPV4_TYPE.PARAMETER_PROBLEM
    : type === ICMPV6_TYPE.DEST_UNREACH || type === ICMPV6_TYPE.TIME_EXCEEDED;
}

export type IcmpExtensionForm = 'none' | 'compliant' | 'non-compliant';

export interface IcmpPayloadSplit {
  /** Bytes of original datagram after the 8-byte ICMP header (padding included when the length field gave it). */
  datagramLength: number;
  /** Offset of the extension structure in the buffer, or -1. */
  extensionOffset: number;
  extensionLength: number;
  form: IcmpExtensionForm;
  /** The RFC 4884 length field in bytes (0 when absent), as sent — may be a lie. */
  lengthField: number;
}

/** Whether `len` bytes at `off` look like a complete, checksummed extension structure (used for the length-0 form). */
function looksLikeExtensions(buf: Uint8Array, off: number, len: number): boolean {
  const ext = parseIcmpExtensions(buf, off, len);
  if (ext === null || ext.truncated || ext.objects.length === 0) return false;
  // traceroute accepts a zero checksum (not computed); anything else must verify.
  return ext.checksum === 0 || ext.checksumValid;
}

/**
 * Splits the ICMP message of `len` bytes at `off` (starting at the ICMP header) into original
 * datagram and extension structure. Compliant: the length field, padded to at least 128 bytes
 * (a length under 128 trims the datagram but the extensions still start at 128, as trippy does).
 * Non-compliant: length 0, more than 128 bytes, and a valid structure right after byte 128.
 * A length field past the end of the message is ignored (no extensions). Never throws.
 */
export function splitIcmpPayload(buf: Uint8Array, off: number, len: number | undefined, family: IpFamily): IcmpPayloadSplit {
  const have = available(buf, off, len);
  const payload = have - ICMP_HEADER_LENGTH;
  const split: IcmpPayloadSplit = { datagramLength: payload < 0 ? 0 : payload, extensionOffset: -1, extensionLength: 0, form: 'none', lengthField: 0 };
  if (payload < 0 || !icmpTypeMayCarryExtensions(family, buf[off])) return split;

  const lengthField = family === 4 ? buf[off + 5] * 4 : buf[off + 4] * 8;
  split.lengthField = lengthField;
  const payloadOff = off + ICMP_HEADER_LENGTH;
  const min = ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH;
  if (lengthField > 0) {
    if (lengthField > payload) return split;
    const extAt = Math.max(lengthField, min);
    if (payload - extAt < ICMP_EXTENSION_HEADER_LENGTH) return split;
    split.datagramLength = lengthField;
    split.extensionOffset = payloadOff + extAt;
    split.extensionLength = payload - extAt;
    split.form = 'compliant';
    return split;
  }
  if (payload - min >= ICMP_EXTENSION_HEADER_LENGTH + ICMP_EXTENSION_OBJECT_HEADER_LENGTH
    && looksLikeExtensions(buf, payloadOff + min, payload - min)) {
    split.datagramLength = min;
    split.extensionOffset = payloadOff + min;
    split.extensionLength = payload - min;
    split.form = 'non-compliant';
  }
  return split;
}

export interface IcmpExtensionObjectFields {
  classNum: number;
  cType: number;
  data: Uint8Array;
}

/** An RFC 4950 MPLS label stack object for these entries (outermost first). Throws RangeError on bad fields. */
export function mplsExtensionObject(entries: readonly MplsLabelStackEntry[]): IcmpExtensionObjectFields {
  const data = new Uint8Array(entries.length * 4);
  entries.forEach((e, i) => {
    checkInt('label', e.label, 0, 0xfffff);
    checkInt('exp', e.exp, 0, 7);
    checkInt('s', e.s, 0, 1);
    checkInt('ttl', e.ttl, 0, 0xff);
    writeU32(data, i * 4, ((e.label << 12) | (e.exp << 9) | (e.s << 8) | e.ttl) >>> 0);
  });
  return { classNum: MPLS_EXTENSION_CLASS, cType: MPLS_EXTENSION_CTYPE, data };
}

/** Bytes an extension structure with these objects takes. */
export function icmpExtensionsLength(objects: readonly IcmpExtensionObjectFields[]): number {
  let len = ICMP_EXTENSION_HEADER_LENGTH;
  for (const o of objects) len += ICMP_EXTENSION_OBJECT_HEADER_LENGTH + o.data.length;
  return len;
}

/**
 * Writes a version-2 extension structure with these objects at `off` and returns its length.
 * The checksum is computed unless `checksum: false` (some routers send 0). Throws RangeError on bad fields.
 */
export function writeIcmpExtensions(
  buf: Uint8Array, off: number, objects: readonly IcmpExtensionObjectFields[], options?: { checksum?: boolean },
): number {
  const len = icmpExtensionsLength(objects);
  if (!Number.isInteger(off) || off < 0 || off + len > buf.length) throw new RangeError(`buffer too small for ${len} bytes of ICMP extensions`);
  buf[off] = ICMP_EXTENSION_VERSION << 4;
  buf[off + 1] = 0;
  buf[off + 2] = 0; buf[off + 3] = 0;
  let at = off + ICMP_EXTENSION_HEADER_LENGTH;
  for (const o of objects) {
    checkInt('classNum', o.classNum, 0, 0xff);
    checkInt('cType', o.cType, 0, 0xff);
    const objectLength = ICMP_EXTENSION_OBJECT_HEADER_LENGTH + o.data.length;
    checkInt('object length', objectLength, ICMP_EXTENSION_OBJECT_HEADER_LENGTH, 0xffff);
    writeU16(buf, at, objectLength);
    buf[at + 2] = o.classNum;
    buf[at + 3] = o.cType;
    buf.set(o.data, at + ICMP_EXTENSION_OBJECT_HEADER_LENGTH);
    at += objectLength;
  }
  // a computed 0 goes out as 0xffff (equal in one's complement): 0 reads as "not computed"
  if (options?.checksum !== false) writeU16(buf, off + 2, internetChecksum(buf, off, len) || 0xffff);
  return len;
}
