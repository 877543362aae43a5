// One echo request and what became of it.

import { PORT_CLOSED, PORT_OPEN } from './reply-matcher.js';
import type { PingIcmpError, PingProbeResult, ProbeFlag, ProbeStatus, TcpPortState } from './types.js';
import { roundMs } from './statistics.js';
import type { TargetState } from './target-state.js';
import type { QueueEntry } from './timeout-queue.js';

export const ProbeState = {
  /** in a send batch, not sent yet */
  Queued: 0,
  /** sent, waiting for its reply or timeout */
  Pending: 1,
  Replied: 2,
  /** the timeout expired (or the run ended) without a reply */
  TimedOut: 3,
  /** an ICMP error or a local error settled it */
  Errored: 4,
  /** errored, and a reply came after all (counted late once: further ones are duplicates) */
  ErroredThenAnswered: 5,
} as const;
export type ProbeState = (typeof ProbeState)[keyof typeof ProbeState];

export const FLAG_DUP = 1;
export const FLAG_CORRUPTED = 2;
export const FLAG_DIFFERENT_ADDRESS = 4;
export const FLAG_BAD_PAYLOAD = 8;

export function flagNames(bits: number): ProbeFlag[] {
  const out: ProbeFlag[] = [];
  if (bits & FLAG_DUP) out.push('dup');
  if (bits & FLAG_CORRUPTED) out.push('corrupted');
  if (bits & FLAG_DIFFERENT_ADDRESS) out.push('different-address');
  if (bits & FLAG_BAD_PAYLOAD) out.push('bad-payload');
  return out;
}

/**
 * The rtt of a probe not answered: negative, and a double, so the field holds doubles from the
 * start (a small integer there would have the first measured rtt change the layout of every
 * probe, throwing away the engine's optimized code in the middle of a run).
 */
const NO_RTT = -Infinity;

export class Probe implements QueueEntry {
  state: ProbeState = ProbeState.Queued;
  // waiting in the engine's timeout queue, and where
  timeoutQueued = false;
  timeoutSlot = -1;
  // the target's list of waiting probes
  prevPending: Probe | null = null;
  nextPending: Probe | null = null;
  status: ProbeStatus = 'timeout';
  /** CLOCK_REALTIME send time taken in C (-0: a double from the start, no layout change at the first send) */
  sentSec = -0;
  sentNsec = -0;
  // numbers stay numbers (-1: not known) and strings strings ('' : none), so every probe keeps
  // one object shape; the result turns them into null
  rtt = NO_RTT;
  ttl = -1;
  bytes = -1;
  from = '';
  flags = 0;
  /** TCP: PORT_OPEN or PORT_CLOSED once answered (0: not, or an echo; -1: never sent) */
  portState = 0;
  error: PingIcmpError | null = null;
  /** a failed send whose local error from the error queue was already read */
  explained = false;

  constructor(
    public target: TargetState,
    /** per-target sequence from 1 */
    public seq: number,
    /** number on its socket, carried in the payload */
    public seq32: number,
  ) {}

  /**
   * Makes this object a new probe, as the constructor would (for a run that keeps no probes and
   * reuses the ones it let go: no object, and no garbage, per probe).
   */
  reuse(target: TargetState, seq: number, seq32: number): this {
    this.target = target;
    this.seq = seq;
    this.seq32 = seq32;
    this.state = ProbeState.Queued;
    this.timeoutQueued = false;
    this.timeoutSlot = -1;
    this.prevPending = this.nextPending = null;
    this.status = 'timeout';
    this.sentSec = -0;
    this.sentNsec = -0;
    this.rtt = NO_RTT;
    this.ttl = -1;
    this.bytes = -1;
    this.from = '';
    this.flags = 0;
    this.portState = 0;
    this.error = null;
    this.explained = false;
    return this;
  }

  get wireSeq(): number {
    return this.seq32 & 0xffff;
  }

  /** How a TCP probe's port answered: open, closed, filtered (no answer, or an ICMP error), null (never sent). */
  get tcpState(): TcpPortState | null {
    if (this.portState === PORT_OPEN) return 'open';
    if (this.portState === PORT_CLOSED) return 'closed';
    return this.portState < 0 ? null : 'filtered';
  }

  toResult(tcp = false): PingProbeResult {
    const r: PingProbeResult = {
      seq: this.seq,
      status: this.status,
      rtt: this.rtt < 0 ? null : roundMs(this.rtt),
      ttl: this.ttl < 0 ? null : this.ttl,
      bytes: this.bytes < 0 ? null : this.bytes,
      from: this.from === '' ? null : this.from,
      flags: flagNames(this.flags),
    };
    if (this.error) r.error = { ...this.error };
    if (tcp) r.state = this.tcpState;
    return r;
  }
}
