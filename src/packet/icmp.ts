// ICMP and ICMPv6 type/code numbers and the echo request/reply codec.
//
// Echo encode/decode is the ping hot path: it writes into the caller's buffer and reads by
// offset, allocating nothing but (for decode) the result object the caller may supply.

import type { IpFamily } from './address.js';
import { toAddressBytes } from './address.js';
import { available, checkInt, checkRoom, readU16, writeU16 } from './bytes.js';
import { forceChecksum, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { IP_PROTOCOL } from './ip-protocol.js';

export const ICMPV4_TYPE = {
  ECHO_REPLY: 0,
  DEST_UNREACH: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  ROUTER_ADVERTISEMENT: 9,
  ROUTER_SOLICITATION: 10,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
  INFO_REQUEST: 15,
  INFO_REPLY: 16,
  ADDRESS_MASK_REQUEST: 17,
  ADDRESS_MASK_REPLY: 18,
} as const;

/** Codes of ICMPv4 type 3, destination unreachable. */
export const ICMPV4_UNREACH = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SOURCE_ROUTE_FAILED: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  HOST_ISOLATED: 8,
  NET_PROHIBITED: 9,
  HOST_PROHIBITED: 10,
  NET_TOS: 11,
  HOST_TOS: 12,
  FILTERED: 13,
  PRECEDENCE_VIOLATION: 14,
  PRECEDENCE_CUTOFF: 15,
} as const;

/** Codes of ICMPv4 type 5, redirect. */
export const ICMPV4_REDIRECT = { NET: 0, HOST: 1, TOS_NET: 2, TOS_HOST: 3 } as const;

/** Codes of ICMPv4 type 11, time exceeded. */
export const ICMPV4_TIME_EXCEEDED = { TTL: 0, REASSEMBLY: 1 } as const;

export const ICMPV6_TYPE = {
  DEST_UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_REDUCTION: 132,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
} as const;

/** Codes of ICMPv6 type 1, destination unreachable. */
export const ICMPV6_UNREACH = {
  NO_ROUTE: 0,
  ADMIN_PROHIBITED: 1,
  BEYOND_SCOPE: 2,
  ADDRESS: 3,
  PORT: 4,
  POLICY_FAIL: 5,
  REJECT_ROUTE: 6,
  SOURCE_ROUTING_HEADER: 7,
} as const;

/** Codes of ICMPv6 type 3, time exceeded. */
export const ICMPV6_TIME_EXCEEDED = { HOP_LIMIT: 0, REASSEMBLY: 1 } as const;

/** Codes of ICMPv6 type 4, parameter problem. */
export const ICMPV6_PARAMETER_PROBLEM = { HEADER: 0, NEXT_HEADER: 1, OPTION: 2 } as const;

export const ICMP_HEADER_LENGTH = 8;

/** The echo request type of a family. */
export function echoRequestType(family: IpFamily): number {
  return family === 4 ? ICMPV4_TYPE.ECHO_REQUEST : ICMPV6_TYPE.ECHO_REQUEST;
}

/** The echo reply type of a family. */
export function echoReplyType(family: IpFamily): number {
  return family === 4 ? ICMPV4_TYPE.ECHO_REPLY : ICMPV6_TYPE.ECHO_REPLY;
}

export interface EchoFields {
  family: IpFamily;
  /** Defaults to the family's echo request. */
  type?: number;
  code?: number;
  id: number;
  /** 16-bit wire sequence. */
  seq: number;
  /** Copied to `off + 8`. Omit it when the payload is already in place and give `payloadLength`. */
  payload?: Uint8Array;
  /** Payload bytes already at `off + 8` when `payload` is omitted (default 0). */
  payloadLength?: number;
  /**
   * IPv6 only: with both addresses the ICMPv6 checksum (pseudo header included) is computed, as
   * the TUN simulator needs; without them it is left 0 because the kernel fills it on send.
   */
  src?: string | Uint8Array;
  dst?: string | Uint8Array;
}

function writeEchoBody(buf: Uint8Array, off: number, f: EchoFields): number {
  const type = f.type ?? echoRequestType(f.family);
  const code = f.code ?? 0;
  checkInt('type', type, 0, 0xff);
  checkInt('code', code, 0, 0xff);
  checkInt('id', f.id, 0, 0xffff);
  checkInt('seq', f.seq, 0, 0xffff);
  const payloadLength = f.payload ? f.payload.length : (f.payloadLength ?? 0);
  checkInt('payloadLength', payloadLength, 0, 0xffff - ICMP_HEADER_LENGTH);
  const len = ICMP_HEADER_LENGTH + payloadLength;
  checkRoom(buf, off, len);
  buf[off] = type;
  buf[off + 1] = code;
  buf[off + 2] = 0; buf[off + 3] = 0;
  writeU16(buf, off + 4, f.id);
  writeU16(buf, off + 6, f.seq);
  if (f.payload && !(f.payload.buffer === buf.buffer && f.payload.byteOffset === buf.byteOffset + off + ICMP_HEADER_LENGTH)) {
    buf.set(f.payload, off + ICMP_HEADER_LENGTH);
  }
  return len;
}

function pseudoSumFor(f: EchoFields, len: number): number | undefined {
  if (f.family !== 6 || f.src === undefined || f.dst === undefined) return undefined;
  return pseudoHeaderSum(toAddressBytes(f.src, 6), toAddressBytes(f.dst, 6), IP_PROTOCOL.ICMPV6, len);
}

/**
 * Writes an echo request/reply at `off` and returns its length. IPv4: the checksum is computed.
 * IPv6: left 0 for the kernel unless `src` and `dst` are given. Throws RangeError on bad fields.
 */
export function writeEcho(buf: Uint8Array, off: number, f: EchoFields): number {
  const len = writeEchoBody(buf, off, f);
  if (f.family === 4) {
    writeU16(buf, off + 2, internetChecksum(buf, off, len));
  } else {
    const pseudo = pseudoSumFor(f, len);
    if (pseudo !== undefined) writeU16(buf, off + 2, internetChecksum(buf, off, len, pseudo));
  }
  return len;
}

/**
 * Paris traceroute: writes an echo whose checksum field is the constant `checksum`, whatever the
 * sequence, by rewriting the two payload bytes at `fixOffset` (relative to the payload, even,
 * default 0). The payload must hold those two bytes. IPv6 needs `src` and `dst`, since the kernel
 * computes the checksum over the pseudo header: with them, the kernel's result equals `checksum`
 * (pick one other than 0xffff, which the kernel writes as 0). Returns the length.
 */
export function writeEchoWithChecksum(buf: Uint8Array, off: number, f: EchoFields, checksum: number, fixOffset = 0): number {
  checkInt('checksum', checksum, 0, 0xffff);
  const payloadLength = f.payload ? f.payload.length : (f.payloadLength ?? 0);
  if (!Number.isInteger(fixOffset) || (fixOffset & 1) !== 0 || fixOffset < 0 || fixOffset + 2 > payloadLength) {
    throw new RangeError(`fixOffset must be even and leave 2 payload bytes (payload is ${payloadLength} bytes), got ${String(fixOffset)}`);
  }
  if (f.family === 6 && (f.src === undefined || f.dst === undefined)) {
    throw new TypeError('an ICMPv6 echo with a fixed checksum needs src and dst (the checksum covers the pseudo header)');
  }
  const len = writeEchoBody(buf, off, f);
  const initial = pseudoSumFor(f, len) ?? 0;
  forceChecksum(buf, off, len, off + 2, off + ICMP_HEADER_LENGTH + fixOffset, checksum, initial);
  return len;
}

export interface EchoMessage {
  type: number;
  code: number;
  checksum: number;
  id: number;
  seq: number;
  /** Offset of the payload in the buffer that was parsed. */
  payloadOffset: number;
  payloadLength: number;
}

/**
 * Decodes an echo request or reply of `family` at `off` (the ICMP header, after any IPv4 header),
 * into `out` when given. Null when shorter than 8 bytes or not an echo type. Never throws; the
 * checksum is not verified here (see verifyChecksum; ICMPv6 is verified by the kernel).
 */
export function parseEcho(buf: Uint8Array, off: number, len: number | undefined, family: IpFamily, out?: EchoMessage): EchoMessage | null {
  const have = available(buf, off, len);
  if (have < ICMP_HEADER_LENGTH) return null;
  const type = buf[off];
  if (family === 4 ? type !== ICMPV4_TYPE.ECHO_REPLY && type !== ICMPV4_TYPE.ECHO_REQUEST
    : type !== ICMPV6_TYPE.ECHO_REPLY && type !== ICMPV6_TYPE.ECHO_REQUEST) return null;
  const m = out ?? ({} as EchoMessage);
  m.type = type;
  m.code = buf[off + 1];
  m.checksum = readU16(buf, off + 2);
  m.id = readU16(buf, off + 4);
  m.seq = readU16(buf, off + 6);
  m.payloadOffset = off + ICMP_HEADER_LENGTH;
  m.payloadLength = have - ICMP_HEADER_LENGTH;
  return m;
}
