// TCP connect() probes as a probe kind (nping --tcp-connect, tcping; no privilege): the socket
// (tcp-connect-socket.ts) opens a stream socket per probe and reports how each handshake ended
// as a small message: the probe's number, then CONNECT_OPEN (connected: SYN-ACK), CONNECT_CLOSED
// (ECONNREFUSED: RST) or CONNECT_FAILED with the error-queue entry of the ICMP error that ended
// it, or of the local error (errno) when no ICMP error came. The batch slot carries only the
// probe's number: the socket makes the SYN.

import { readU32 } from '../packet/bytes.js';
import type { IcmpMessage } from '../socket/icmp-socket.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6 } from '../socket/received-message.js';
import type { PingSocket } from './backend.js';
import { strerror } from './local-error.js';
import type { ProbeKind } from './probe-kind.js';
import { errorDetail, ignore, PORT_CLOSED, PORT_OPEN, reset, type MatchResult } from './reply-matcher.js';

/** The outcome byte after the probe's number in a connect socket's message. */
export const CONNECT_OPEN = 1;
export const CONNECT_CLOSED = 2;
export const CONNECT_FAILED = 3;
/** bytes of a connect socket's message: the number (4), the outcome (1) */
export const CONNECT_MESSAGE_LENGTH = 5;

export class TcpConnectKind implements ProbeKind {
  readonly method = 'tcp-connect' as const;
  readonly port: number;
  readonly slotSize = 4;
  private readonly family: 4 | 6;

  constructor(private readonly socket: PingSocket) {
    if (socket.port === undefined) throw new Error('a TCP connect socket must say its port');
    this.port = socket.port;
    this.family = socket.family;
  }

  prefill(): void {}

  write(data: Buffer, off: number, seq32: number): number {
    data.writeUInt32BE(seq32, off);
    return 4;
  }

  classify(m: IcmpMessage, out: MatchResult): MatchResult {
    reset(out);
    if (m.length < CONNECT_MESSAGE_LENGTH) return ignore(out, 'not a connect outcome');
    out.seq32 = readU32(m.buf, m.offset);
    out.wireSeq = out.seq32 & 0xffff;
    const outcome = m.buf[m.offset + 4];
    if (outcome === CONNECT_OPEN || outcome === CONNECT_CLOSED) {
      out.kind = 'reply';
      out.state = outcome === CONNECT_OPEN ? PORT_OPEN : PORT_CLOSED;
      return out;
    }
    const q = m.queued;
    if (outcome !== CONNECT_FAILED || q === null) return ignore(out, 'not a connect outcome');
    out.kind = 'icmp-error';
    out.destination = m.from || null;
    if (q.origin === ORIGIN_ICMP || q.origin === ORIGIN_ICMP6) {
      out.type = q.type;
      out.code = q.code;
      errorDetail(this.family, q.type, q.code, q.info, out);
      out.router = q.offender;
    } else {
      // failed without an ICMP error the socket could read (no neighbour answered, ...)
      out.message = `connect: ${strerror(q.errno)}`;
    }
    return out;
  }

  forget(seq32: number): void {
    this.socket.forget?.(seq32);
  }
}
