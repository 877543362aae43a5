// The ProbeReply an ICMP error about one of our probes becomes, from either place errors are
// read: a whole ICMP message on a raw socket (the quote shows NAT rewrites; extensions parse in
// place) or an error-queue entry (the kernel gives type, code, info and the offender; extensions
// are searched for in the quoted bytes).
import type { QueuedError } from '../../socket/received-message.js';
import { quoteMismatches, type IcmpError, type QuotedDatagram, type QuoteExpectation } from '../../packet/icmp-error-parse.js';
import { decodeError, extensionInfo, NO_EXTENSIONS, queuedExtensions, type ExtensionInfo } from '../reply-decoding.js';
import type { ProbeReply } from '../transport.js';
import type { TracerouteProbeFlag } from '../types.js';
import { receiveStamp } from './receive-stamp.js';
import type { TransportConfig } from './transport-config.js';

/** What a received datagram or ICMP message carries that a reply needs. */
export interface ReceivedAnswer {
  buf: Buffer;
  from: string;
  ttl: number | null;
  rxSec: number;
  rxNsec: number;
}

/** Where the quoted bytes of an error-queue entry lie, and what they follow. */
export interface QueuedQuote {
  offset: number;
  length: number;
  /** the probe's headers (IP included) in front of the quoted bytes */
  headerLength: number;
  /** bytes the probe carried after those headers */
  sentPayload: number;
}

/** ['nat'] when the quoted probe differs from what was sent (addresses, ports or checksum rewritten on the way). */
export function natFlags(quote: QuotedDatagram, sent: QuoteExpectation): TracerouteProbeFlag[] {
  return quoteMismatches(quote, sent).length ? ['nat'] : [];
}

/** The reply to an ICMP error read whole from a raw socket, sent by m.from. */
export function icmpErrorReply(config: TransportConfig, id: number, m: ReceivedAnswer, err: IcmpError, flags: TracerouteProbeFlag[]): ProbeReply {
  const extensions = config.extensions ? extensionInfo(m.buf, err.extensions) : NO_EXTENSIONS;
  return errorReply(config, id, m, m.from, err.type, err.code, err.mtu, extensions, flags);
}

/** The reply to an error-queue entry, sent by `from` (the offender, or a fallback the caller picks). */
export function queuedErrorReply(
  config: TransportConfig, id: number, m: ReceivedAnswer, e: QueuedError, from: string, quote: QueuedQuote, flags: TracerouteProbeFlag[],
): ProbeReply {
  const extensions = config.extensions
    ? queuedExtensions(config.family, e.type, m.buf, quote.offset, quote.length, quote.headerLength, quote.sentPayload)
    : NO_EXTENSIONS;
  return errorReply(config, id, m, from, e.type, e.code, e.info, extensions, flags);
}

function errorReply(
  config: TransportConfig, id: number, m: ReceivedAnswer, from: string, type: number, code: number, info: number | null,
  extensions: ExtensionInfo, flags: TracerouteProbeFlag[],
): ProbeReply {
  const decoded = decodeError(config.family, type, code, info);
  return {
    id, stamp: receiveStamp(config.clock, m.rxSec, m.rxNsec), from,
    // a port unreachable ends the trace wherever it comes from, but only the target reaches it
    icmp: { type, code }, ...decoded, reached: decoded.reached && from === config.target, ...extensions,
    replyTtl: m.ttl, flags,
  };
}
