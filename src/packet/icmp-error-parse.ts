// Parses ICMP/ICMPv6 error messages received on raw sockets and the original datagram they quote.
//
// RFC 792 only guarantees the quoted IP header plus 8 bytes of what followed it, so the quote is
// exposed as exactly that: the IP header (IHL honoured — options move the transport header) and
// the first 8 transport bytes (ICMP type/code/checksum/id/seq, UDP ports/length/checksum, TCP
// ports/seq). Probes must be matched on those fields. Anything from the network may be short or
// lie about its lengths: nothing here throws or reads outside the window it was given.

import type { IpFamily } from './address.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
import { available, readU16, readU32 } from './bytes.js';
import { ICMPV4_TYPE, ICMPV4_UNREACH, ICMPV6_TYPE, ICMP_HEADER_LENGTH } from './icmp.js';
import type { IcmpExtensionForm, IcmpExtensionStructure } from './icmp-extensions.js';
import { parseIcmpExtensions, splitIcmpPayload } from './icmp-extensions.js';
import { IP_PROTOCOL } from './ip-protocol.js';
import type { IPv4Header } from './ipv4.js';
import { parseIPv4Header } from './ipv4.js';
import type { IPv6Header } from './ipv6.js';
import { IPV6_HEADER_LENGTH, parseIPv6Header, skipIPv6ExtensionHeaders } from './ipv6.js';

/** Bytes of the transport header an ICMP error is guaranteed to quote. */
export const QUOTED_TRANSPORT_BYTES = 8;

export interface QuotedIcmp {
  kind: 'icmp';
  type: number;
  code: number;
  checksum: number;
  id: number;
  seq: number;
}

export interface QuotedUdp {
  kind: 'udp';
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

export interface QuotedTcp {
  kind: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
}

export type QuotedTransport = QuotedIcmp | QuotedUdp | QuotedTcp;

export interface QuotedDatagram {
  /** The quoted IP header (`ip.version` tells the family). */
  ip: IPv4Header | IPv6Header;
  /** Transport protocol (IPv6: after extension headers; where the walk stopped if it could not finish). */
  protocol: number;
  /** Offset of the quoted transport header in the parsed buffer. */
  transportOffset: number;
  /** Quoted transport bytes present (bounded by the quote and by the quoted IP length). */
  transportLength: number;
  /** The first 8 transport bytes decoded, or null when fewer are quoted, the protocol is not ICMP/UDP/TCP, or the quote is of a later fragment. */
  transport: QuotedTransport | null;
}

export interface IcmpError {
  family: IpFamily;
  type: number;
  code: number;
  checksum: number;
  /** ICMPv4 fragmentation needed (bytes 6–7) / ICMPv6 packet too big (bytes 4–7), else null. */
  mtu: number | null;
  /** Parameter problem pointer (ICMPv4 byte 4, ICMPv6 bytes 4–7), else null. */
  pointer: number | null;
  /** ICMPv4 redirect gateway, else null. */
  gateway: string | null;
  /** Offset and length of the original datagram (after an RFC 4884 split) in the parsed buffer. */
  quoteOffset: number;
  quoteLength: number;
  /** The quoted datagram, or null when not even its IP header is there (or it is not IP of this family). */
  quote: QuotedDatagram | null;
  extensionForm: IcmpExtensionForm;
  extensions: IcmpExtensionStructure | null;
  /** The quote lacks part of the IP header or of the 8 transport bytes. */
  truncated: boolean;
}

/** True for the ICMP types that are errors quoting a datagram (ICMPv4 3, 4, 5, 11, 12; ICMPv6 1–4). */
export function isIcmpErrorType(family: IpFamily, type: number): boolean {
  if (family === 4) {
    return type === ICMPV4_TYPE.DEST_UNREACH || type === ICMPV4_TYPE.SOURCE_QUENCH || type === ICMPV4_TYPE.REDIRECT
      || type === ICMPV4_TYPE.TIME_EXCEEDED || type === ICMPV4_TYPE.PARAMETER_PROBLEM;
  }
  return type >= ICMPV6_TYPE.DEST_UNREACH && type <= ICMPV6_TYPE.PARAMETER_PROBLEM;
}

function parseQuotedTransport(buf: Uint8Array, at: number, protocol: number): QuotedTransport | null {
  switch (protocol) {
    case IP_PROTOCOL.ICMP:
    case IP_PROTOCOL.ICMPV6:
      return { kind: 'icmp', type: buf[at], code: buf[at + 1], checksum: readU16(buf, at + 2), id: readU16(buf, at + 4), seq: readU16(buf, at + 6) };
    case IP_PROTOCOL.UDP:
    case IP_PROTOCOL.UDPLITE:
      return { kind: 'udp', srcPort: readU16(buf, at), dstPort: readU16(buf, at + 2), length: readU16(buf, at + 4), checksum: readU16(buf, at + 6) };
    case IP_PROTOCOL.TCP:
      return { kind: 'tcp', srcPort: readU16(buf, at), dstPort: readU16(buf, at + 2), seq: readU32(buf, at + 4) };
    default:
      return null;
  }
}

/**
 * Parses the quoted original datagram in `len` bytes at `off`. Returns the quote (possibly without
 * transport) and whether it was cut short; `quote` is null when the IP header itself is missing
 * or is not `family`. Never throws.
 */
export function parseQuotedDatagram(buf: Uint8Array, off: number, len: number | undefined, family: IpFamily): { quote: QuotedDatagram | null; truncated: boolean } {
  const have = available(buf, off, len);
  if (family === 4) {
    const ip = parseIPv4Header(buf, off, have);
    if (ip === null) {
      // Cut short (rather than not IPv4 at all) when the bytes end before the header does.
      return { quote: null, truncated: have < 20 || (buf[off] >>> 4 === 4 && (buf[off] & 0x0f) * 4 > have) };
    }
    const transportOffset = off + ip.headerLength;
    let transportLength = have - ip.headerLength;
    // The quote may be zero-padded (RFC 4884); the quoted total length says where the datagram ends.
    if (ip.totalLength >= ip.headerLength && ip.totalLength - ip.headerLength < transportLength) transportLength = ip.totalLength - ip.headerLength;
    const laterFragment = ip.fragmentOffset !== 0;
    const whole = transportLength >= QUOTED_TRANSPORT_BYTES;
    const transport = whole && !laterFragment ? parseQuotedTransport(buf, transportOffset, ip.protocol) : null;
    // Short only if the bytes were cut, not because the datagram itself was shorter than 8 bytes of payload.
    const truncated = !laterFragment && have - ip.headerLength < QUOTED_TRANSPORT_BYTES;
    return { quote: { ip, protocol: ip.protocol, transportOffset, transportLength, transport }, truncated };
  }

  const ip = parseIPv6Header(buf, off, have);
  if (ip === null) {
    return { quote: null, truncated: have < IPV6_HEADER_LENGTH };
  }
  const bodyOff = off + IPV6_HEADER_LENGTH;
  let bodyLength = have - IPV6_HEADER_LENGTH;
  if (ip.payloadLength < bodyLength) bodyLength = ip.payloadLength;
  const upper = skipIPv6ExtensionHeaders(buf, bodyOff, bodyLength, ip.nextHeader);
  if (upper === null) {
    return { quote: { ip, protocol: ip.nextHeader, transportOffset: bodyOff, transportLength: 0, transport: null }, truncated: true };
  }
  const transportLength = bodyOff + bodyLength - upper.offset;
  const transport = transportLength >= QUOTED_TRANSPORT_BYTES && !upper.fragment ? parseQuotedTransport(buf, upper.offset, upper.protocol) : null;
  const truncated = !upper.fragment && (have - (upper.offset - off)) < QUOTED_TRANSPORT_BYTES;
  return { quote: { ip, protocol: upper.protocol, transportOffset: upper.offset, transportLength, transport }, truncated };
}

/**
 * Parses the ICMP (family 4) or ICMPv6 (family 6) error message of `len` bytes at `off` — the
 * ICMP header, i.e. after a raw IPv4 socket's IP header. Null when shorter than the 8-byte ICMP
 * header or not an error type. RFC 4884 extensions are split off and parsed (both forms).
 * Never throws.
 */
export function parseIcmpError(buf: Uint8Array, off: number, len: number | undefined, family: IpFamily): IcmpError | null {
  const have = available(buf, off, len);
  if (have < ICMP_HEADER_LENGTH) return null;
  const type = buf[off];
  if (!isIcmpErrorType(family, type)) return null;
  const code = buf[off + 1];

  let mtu: number | null = null, pointer: number | null = null, gateway: string | null = null;
  if (family === 4) {
    if (type === ICMPV4_TYPE.DEST_UNREACH && code === ICMPV4_UNREACH.FRAG_NEEDED) mtu = readU16(buf, off + 6);
    else if (type === ICMPV4_TYPE.PARAMETER_PROBLEM) pointer = buf[off + 4];
    else if (type === ICMPV4_TYPE.REDIRECT) gateway = formatIPv4(buf, off + 4);
  } else if (type === ICMPV6_TYPE.PACKET_TOO_BIG) {
    mtu = readU32(buf, off + 4);
  } else if (type === ICMPV6_TYPE.PARAMETER_PROBLEM) {
    pointer = readU32(buf, off + 4);
  }

  const split = splitIcmpPayload(buf, off, have, family);
  const quoteOffset = off + ICMP_HEADER_LENGTH;
  const { quote, truncated } = parseQuotedDatagram(buf, quoteOffset, split.datagramLength, family);
  const extensions = split.extensionOffset >= 0 ? parseIcmpExtensions(buf, split.extensionOffset, split.extensionLength) : null;
  return {
    family,
    type,
    code,
    checksum: readU16(buf, off + 2),
    mtu,
    pointer,
    gateway,
    quoteOffset,
    quoteLength: split.datagramLength,
    quote,
    extensionForm: extensions ? split.form : 'none',
    extensions,
    truncated,
  };
}

/** What the probe looked like when sent; every field is optional and only given fields are compared. */
export interface QuoteExpectation {
  src?: string;
  dst?: string;
  protocol?: number;
  /** IPv4 identification. */
  ipId?: number;
  /** IPv6 flow label. */
  flowLabel?: number;
  /** IPv6 payload length (Dublin traceroute varies it per probe). */
  payloadLength?: number;
  icmpId?: number;
  icmpSeq?: number;
  icmpChecksum?: number;
  srcPort?: number;
  dstPort?: number;
  udpLength?: number;
  udpChecksum?: number;
  tcpSeq?: number;
}

export interface QuoteMismatch {
  field: keyof QuoteExpectation;
  expected: number | string;
  actual: number | string;
}

function canonicalAddress(text: string): string {
  const bytes = new Uint8Array(16);
  if (parseIPv4(text, bytes, 0)) return formatIPv4(bytes, 0);
  if (parseIPv6(text, bytes, 0)) return formatIPv6(bytes, 0);
  return text;
}

/**
 * The quoted fields that differ from what was sent — a NAT or middlebox rewrote them (trippy's
 * NAT detection compares the UDP checksum). Fields the quote does not hold are skipped, never
 * reported. Returns [] when everything present matches.
 */
export function quoteMismatches(quote: QuotedDatagram, expected: QuoteExpectation): QuoteMismatch[] {
  const out: QuoteMismatch[] = [];
  const check = (field: keyof QuoteExpectation, actual: number | string | undefined): void => {
    const want = expected[field];
    if (want === undefined || actual === undefined) return;
    if (typeof want === 'string' ? canonicalAddress(want) !== actual : want !== actual) out.push({ field, expected: want, actual });
  };
  const ip = quote.ip;
  check('src', ip.src);
  check('dst', ip.dst);
  check('protocol', quote.protocol);
  if (ip.version === 4) {
    check('ipId', ip.id);
  } else {
    check('flowLabel', ip.flowLabel);
    check('payloadLength', ip.payloadLength);
  }
  const t = quote.transport;
  if (t?.kind === 'icmp') {
    check('icmpId', t.id);
    check('icmpSeq', t.seq);
    check('icmpChecksum', t.checksum);
  } else if (t?.kind === 'udp') {
    check('srcPort', t.srcPort);
    check('dstPort', t.dstPort);
    check('udpLength', t.length);
    check('udpChecksum', t.checksum);
  } else if (t?.kind === 'tcp') {
    check('srcPort', t.srcPort);
    check('dstPort', t.dstPort);
    check('tcpSeq', t.seq);
  }
  return out;
}
