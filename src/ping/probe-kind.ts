// What the engine asks of a kind of probe, so one scheduler, one set of statistics and one
// output serve ICMP echo, TCP SYN and TCP connect alike (design.md: probe kinds behind one
// interface). A kind lays its probes out in the channel's send batch and says what a received
// message is to the run; the engine books replies, errors and timeouts the same way for all.
// probeKindFor() picks the kind a socket was opened for.

import type { IcmpMessage } from '../socket/icmp-socket.js';
import type { PingSocket } from './backend.js';
import { IcmpEchoKind } from './icmp-echo-kind.js';
import type { PayloadLayout } from './payload.js';
import type { MatchResult } from './reply-matcher.js';
import type { TargetState } from './target-state.js';
import { TcpConnectKind } from './tcp-connect-kind.js';
import { TcpSynKind } from './tcp-syn-kind.js';
import type { PingMethod } from './types.js';

export interface ProbeKind {
  readonly method: PingMethod;
  /** TCP: the destination port; null for ICMP */
  readonly port: number | null;
  /** bytes one probe takes in a send batch */
  readonly slotSize: number;
  /** writes what every probe shares into each of a send batch's `capacity` slots */
  prefill(data: Buffer, slotSize: number, capacity: number): void;
  /** writes probe number seq32 for target t at data[off..]; returns its length */
  write(data: Buffer, off: number, seq32: number, t: TargetState): number;
  /** what a received message is to this run (`out` is reused; see reply-matcher.ts) */
  classify(m: IcmpMessage, out: MatchResult): MatchResult;
  /** probe seq32 is settled without an answer (timeout, end of run): let go of what it holds */
  forget(seq32: number): void;
}

/** The kind of probe `socket` was opened for (PingSocket.method; ICMP when absent). */
export function probeKindFor(socket: PingSocket, payload: PayloadLayout): ProbeKind {
  switch (socket.method ?? 'icmp') {
    case 'tcp-syn':
      return new TcpSynKind(socket);
    case 'tcp-connect':
      return new TcpConnectKind(socket);
    default:
      return new IcmpEchoKind(socket, payload);
  }
}
