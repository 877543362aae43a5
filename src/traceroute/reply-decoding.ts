// Turns an ICMP/ICMPv6 error about a probe into what the engine and the output need: traceroute's
// annotation and whether the trace ends here, the MTU, and the RFC 4884 extensions (MPLS label
// stacks) as traceroute -e prints them. Works from a whole ICMP message (raw sockets) or from
// what the error queue gives (type, code, info and the quoted bytes after the probe's header).
import type { IpFamily } from '../packet/address.js';
import { parseIcmpExtensions, type IcmpExtensionStructure } from '../packet/icmp-extensions.js';
import { tracerouteVerdict } from '../packet/icmp-errors.js';
import { ICMPV4_TYPE, ICMPV6_TYPE } from '../packet/icmp.js';
import type { MplsLabel } from './types.js';

export interface DecodedError {
  annotation: string | null;
  final: boolean;
  reached: boolean;
  mtu: number | null;
}

/** Annotation, finality and MTU of an ICMP error (port unreachable: reached, no annotation). */
export function decodeError(family: IpFamily, type: number, code: number, info: number | null): DecodedError {
  const tooBig = family === 4 ? type === ICMPV4_TYPE.DEST_UNREACH && code === 4 : type === ICMPV6_TYPE.PACKET_TOO_BIG;
  const mtu = tooBig ? info : null;
  const v = tracerouteVerdict(family, type, code, mtu);
  return { annotation: v.annotation, final: v.final, reached: v.reached, mtu };
}

/** True for a structure traceroute would show: whole objects, and a checksum that is 0 or right. */
export function usableExtensions(ext: IcmpExtensionStructure | null): ext is IcmpExtensionStructure {
  return ext !== null && !ext.truncated && ext.objects.length > 0 && (ext.checksum === 0 || ext.checksumValid)
    && ext.objects.every((o) => o.dataLength % 4 === 0);
}

/** traceroute -e text: 'MPLS:L=24001,E=0,S=1,T=1' per MPLS object, 'class/ctype:hex,hex' for others, ';' between. */
export function formatExtensions(buf: Uint8Array, ext: IcmpExtensionStructure): string {
  return ext.objects
    .map((o) => {
      if (o.mpls && o.mpls.length > 0) {
        return 'MPLS:' + o.mpls.map((m) => `L=${m.label},E=${m.exp},S=${m.s},T=${m.ttl}`).join('/');
      }
      const words: string[] = [];
      for (let at = o.dataOffset; at + 4 <= o.dataOffset + o.dataLength; at += 4) {
        words.push((((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0).toString(16).padStart(8, '0'));
      }
      return `${o.classNum}/${o.cType}:${words.join(',')}`;
    })
    .join(';');
}

export interface ExtensionInfo {
  mpls: MplsLabel[];
  extensions: string | null;
}

export const NO_EXTENSIONS: ExtensionInfo = Object.freeze({ mpls: [], extensions: null }) as ExtensionInfo;

/** MPLS entries and text of a parsed structure, or none when traceroute would not show it. */
export function extensionInfo(buf: Uint8Array, ext: IcmpExtensionStructure | null): ExtensionInfo {
  if (!usableExtensions(ext)) return NO_EXTENSIONS;
  return { mpls: ext.mpls.map((m) => ({ label: m.label, exp: m.exp, s: m.s, ttl: m.ttl })), extensions: formatExtensions(buf, ext) };
}

function mayCarryExtensions(family: IpFamily, type: number): boolean {
  return family === 4
    ? type === ICMPV4_TYPE.TIME_EXCEEDED || type === ICMPV4_TYPE.DEST_UNREACH || type === ICMPV4_TYPE.PARAMETER_PROBLEM
    : type === ICMPV6_TYPE.TIME_EXCEEDED || type === ICMPV6_TYPE.DEST_UNREACH;
}

/**
 * Extensions in an error-queue payload, found as traceroute does: the payload starts
 * `headerLength` bytes (probe IP + transport header) into the quoted datagram, and the
 * extensions start at byte 128 of it when the quote was padded; otherwise (a probe longer than
 * 128 bytes) at the first 32/64-bit boundary after that where a valid structure parses.
 * `sentPayload` (the probe's payload length) is where a compliant router must have put them at
 * the latest, so the search starts there when it is further on.
 */
export function queuedExtensions(
  family: IpFamily, type: number, data: Uint8Array, offset: number, length: number, headerLength: number, sentPayload: number,
): ExtensionInfo {
  if (!mayCarryExtensions(family, type) || headerLength > 128 || headerLength + length < 128 + 8) return NO_EXTENSIONS;
  const unit = family === 4 ? 4 : 8;
  const first = 128 - headerLength;
  const candidates = [first];
  const after = Math.ceil((headerLength + sentPayload) / unit) * unit - headerLength;
  if (after > first) candidates.push(after);
  for (let at = first + unit; at + 8 <= length; at += unit) if (at !== after) candidates.push(at);
  for (const at of candidates) {
    if (at + 8 > length) continue;
    const info = extensionInfo(data, parseIcmpExtensions(data, offset + at, length - at));
    if (info.extensions !== null) return info;
  }
  return NO_EXTENSIONS;
}
