// Decides what a received ICMP message is to this run, checking everything again in user space:
// an echo reply with our identifier, a sequence that agrees with the payload's 32-bit sequence
// and our cookie; an ICMP error quoting one of our echo requests (raw sockets: from the packet,
// ping sockets: from the error queue); or a local error the kernel queued when it refused to
// send. Anything else is ignored with a reason. Allocation-free on the reply path: the result
// object is reused.

import type { IcmpMessage } from '../socket/icmp-socket.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6, ORIGIN_LOCAL } from '../socket/received-message.js';
import { readU16 } from '../packet/bytes.js';
import { verifyChecksum } from '../packet/checksum.js';
import { ICMPV4_TYPE, ICMPV4_UNREACH, ICMPV6_TYPE } from '../packet/icmp.js';
import { isIcmpErrorType, parseIcmpError } from '../packet/icmp-error-parse.js';
import type { IcmpSocketKind } from './types.js';
import { PAYLOAD_SEQ_BYTES, type PayloadLayout } from './payload.js';

export interface MatchContext {
  family: 4 | 6;
  mode: IcmpSocketKind;
  /** the identifier on the wire (ping sockets: the kernel's) */
  identifier: number;
  payload: PayloadLayout;
}

export type MatchKind = 'reply' | 'icmp-error' | 'local-error' | 'ignore';

export interface MatchResult {
  kind: MatchKind;
  /** why it was ignored */
  reason: string;
  /** 16-bit sequence on the wire (reply, icmp-error) */
  wireSeq: number;
  /** the payload's 32-bit sequence, -1 when not present (short payload or short quote) */
  seq32: number;
  /** reply: where the payload starts in m.buf and how long it is */
  payloadOffset: number;
  payloadLength: number;
  /** reply: false when an IPv4 raw reply's ICMP checksum is wrong */
  checksumOk: boolean;
  /** icmp-error / local-error */
  type: number | null;
  code: number | null;
  mtu: number | null;
  pointer: number | null;
  /** icmp-error: who sent it; local-error: null */
  router: string | null;
  /** icmp-error / local-error: the destination of the probe it is about, when known */
  destination: string | null;
  /** local-error: the errno */
  errno: number;
  /** reply: how a TCP port answered (PORT_OPEN, PORT_CLOSED); 0 for an echo reply */
  state: number;
  /** reply: the bytes it counts as (ICMP: the message; TCP SYN: the segment), -1 when unknown */
  replyBytes: number;
  /** icmp-error: the text when it is not the ICMP type's (a connect() that failed without an ICMP cause) */
  message: string | null;
}

/** MatchResult.state of a TCP answer: SYN-ACK, RST. */
export const PORT_OPEN = 1;
export const PORT_CLOSED = 2;

export function newMatchResult(): MatchResult {
  return {
    kind: 'ignore', reason: '', wireSeq: -1, seq32: -1, payloadOffset: 0, payloadLength: 0, checksumOk: true,
    type: null, code: null, mtu: null, pointer: null, router: null, destination: null, errno: 0, state: 0, replyBytes: -1, message: null,
  };
}

export function ignore(out: MatchResult, reason: string): MatchResult {
  out.kind = 'ignore';
  out.reason = reason;
  return out;
}

export function reset(out: MatchResult): void {
  out.reason = '';
  out.wireSeq = -1;
  out.seq32 = -1;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.checksumOk = true;
  out.type = null;
  out.code = null;
  out.mtu = null;
  out.pointer = null;
  out.router = null;
  out.destination = null;
  out.errno = 0;
  out.state = 0;
  out.replyBytes = -1;
  out.message = null;
}

/**
 * Reads the head of one of our echo requests quoted at buf[off..off+len) (an ICMP error's
 * quote, or a ping socket's error-queue payload) into out.wireSeq/seq32. False when it is not
 * an echo request with our identifier and cookie.
 */
function readQuotedEcho(buf: Buffer, off: number, len: number, ctx: MatchContext, out: MatchResult): boolean {
  if (len < 8) return false;
  const requestType = ctx.family === 4 ? ICMPV4_TYPE.ECHO_REQUEST : ICMPV6_TYPE.ECHO_REQUEST;
  if (buf[off] !== requestType || readU16(buf, off + 4) !== ctx.identifier) return false;
  out.wireSeq = readU16(buf, off + 6);
  const payloadLength = len - 8;
  if (!ctx.payload.cookieMatches(buf, off + 8, payloadLength)) return false;
  out.seq32 = Math.min(payloadLength, ctx.payload.size) >= PAYLOAD_SEQ_BYTES ? ctx.payload.readSeq(buf, off + 8, payloadLength) : -1;
  if (out.seq32 >= 0 && (out.seq32 & 0xffff) !== out.wireSeq) return false;
  return true;
}

export function errorDetail(family: 4 | 6, type: number, code: number, info: number, out: MatchResult): void {
  if ((family === 4 && type === ICMPV4_TYPE.DEST_UNREACH && code === ICMPV4_UNREACH.FRAG_NEEDED) || (family === 6 && type === ICMPV6_TYPE.PACKET_TOO_BIG)) {
    out.mtu = info;
  } else if ((family === 4 && type === ICMPV4_TYPE.PARAMETER_PROBLEM) || (family === 6 && type === ICMPV6_TYPE.PARAMETER_PROBLEM)) {
    out.pointer = info;
  }
}

/**
 * An error-queue entry that is no ICMP error: the kernel's own refusal of a send (its errno and
 * the MTU of a local EMSGSIZE), or something of another origin, ignored. Every probe kind reads
 * its error queue through this.
 */
export function queuedNonIcmp(m: IcmpMessage, out: MatchResult): MatchResult {
  const q = m.queued!;
  if (q.origin !== ORIGIN_LOCAL) return ignore(out, 'error-queue entry of another origin');
  out.kind = 'local-error';
  out.errno = q.errno;
  out.mtu = q.info > 0 ? q.info : null;
  out.destination = m.from || null;
  return out;
}

/** True for the ICMP errors that end a probe (not redirects or source quench, which iputils only reports). */
export function isProbeError(family: 4 | 6, type: number): boolean {
  if (family === 4) return type === ICMPV4_TYPE.DEST_UNREACH || type === ICMPV4_TYPE.TIME_EXCEEDED || type === ICMPV4_TYPE.PARAMETER_PROBLEM;
  return type === ICMPV6_TYPE.DEST_UNREACH || type === ICMPV6_TYPE.PACKET_TOO_BIG || type === ICMPV6_TYPE.TIME_EXCEEDED || type === ICMPV6_TYPE.PARAMETER_PROBLEM;
}

export function classifyMessage(m: IcmpMessage, ctx: MatchContext, out: MatchResult): MatchResult {
  reset(out);
  const buf = m.buf;
  const off = m.offset;
  const len = m.length;

  if (m.queued !== null) {
    const q = m.queued;
    if (q.origin !== ORIGIN_ICMP && q.origin !== ORIGIN_ICMP6) return queuedNonIcmp(m, out);
    // raw sockets see the ICMP error packet itself, with the whole quote: use that copy
    if (ctx.mode === 'raw') return ignore(out, 'raw sockets take ICMP errors from the packet');
    if (!isProbeError(ctx.family, q.type)) return ignore(out, 'not an error that ends a probe');
    if (!readQuotedEcho(buf, off, len, ctx, out)) return ignore(out, 'error about a datagram that is not ours');
    out.kind = 'icmp-error';
    out.type = q.type;
    out.code = q.code;
    errorDetail(ctx.family, q.type, q.code, q.info, out);
    out.router = q.offender;
    out.destination = m.from || null;
    return out;
  }

  if (len < 8) return ignore(out, 'shorter than an ICMP header');
  const type = buf[off]!;
  const replyType = ctx.family === 4 ? ICMPV4_TYPE.ECHO_REPLY : ICMPV6_TYPE.ECHO_REPLY;
  if (type === replyType) {
    if (readU16(buf, off + 4) !== ctx.identifier) return ignore(out, 'another identifier');
    out.wireSeq = readU16(buf, off + 6);
    out.payloadOffset = off + 8;
    out.payloadLength = len - 8;
    // the kernel checks ICMPv6 checksums and ping sockets get only checked packets; IPv4 raw
    // sockets get a copy before icmp_rcv() looks at it
    out.checksumOk = ctx.family === 6 || ctx.mode === 'dgram' || m.truncated || verifyChecksum(buf, off, len);
    const have = Math.min(out.payloadLength, ctx.payload.size);
    out.seq32 = have >= PAYLOAD_SEQ_BYTES ? ctx.payload.readSeq(buf, out.payloadOffset, out.payloadLength) : -1;
    if (out.seq32 >= 0 && (out.seq32 & 0xffff) !== out.wireSeq) return ignore(out, 'sequence disagrees with the payload');
    if (!ctx.payload.cookieMatches(buf, out.payloadOffset, out.payloadLength)) return ignore(out, 'another cookie');
    out.kind = 'reply';
    out.replyBytes = len;
    return out;
  }

  if (ctx.mode !== 'raw' || !isIcmpErrorType(ctx.family, type)) return ignore(out, 'not an echo reply');
  if (!isProbeError(ctx.family, type)) return ignore(out, 'not an error that ends a probe');
  const err = parseIcmpError(buf, off, len, ctx.family);
  const quote = err?.quote;
  if (!err || !quote || quote.transport?.kind !== 'icmp') return ignore(out, 'error without a quoted ICMP header');
  const quotedLength = Math.min(quote.transportLength, off + len - quote.transportOffset);
  if (!readQuotedEcho(buf, quote.transportOffset, quotedLength, ctx, out)) return ignore(out, 'error about a datagram that is not ours');
  out.kind = 'icmp-error';
  out.type = err.type;
  out.code = err.code;
  out.mtu = err.mtu;
  out.pointer = err.pointer;
  out.router = m.from;
  out.destination = quote.ip.dst;
  return out;
}
