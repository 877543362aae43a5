// The trace engine: Linux traceroute's do_it() loop, event-driven. Slots are visited from the
// first undecided one; up to `window` undecided probes are in flight across hops (traceroute
// -N); only the earliest undecided probe can expire, with the adaptive wait of wait-policy.ts;
// outcomes are emitted in TTL order; a final answer (destination, unreachable) ends the trace
// at its hop. Path MTU discovery resends a probe smaller when the path says it was too big.
import { placeFinalAnswer } from './final-placement.js';
import { newSlot, resetSlot, type ProbeSlot } from './probe-slot.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { TraceClock } from './clock.js';
import type { ProbeReply, ProbeRequest, SendOutcome } from './transport.js';
import type { WaitSpec } from './types.js';
import { probeTimeout } from './wait-policy.js';

export interface SchedulerConfig {
  firstTtl: number;
  maxTtl: number;
  queries: number;
  window: number;
  wait: WaitSpec;
  packetLength: number;
  /** path MTU discovery: shrink and resend on "too big" */
  discoverMtu: boolean;
  /** the least length the transport can send */
  minLength: number;
}

export interface SchedulerHooks {
  /** reads answers the kernel already has (they arrive through handleReply) */
  poll(): void;
  /** a new session-unique probe id (the caller routes answers by it) */
  nextId(): number;
  send(requests: readonly ProbeRequest[]): SendOutcome[];
  /** the probe's outcome is decided or it is no longer wanted */
  release(id: number): void;
  /** a slot's outcome, in TTL order */
  onProbe(slot: ProbeSlot): void;
  /** every slot of a hop is decided */
  onHop(ttl: number, slots: readonly ProbeSlot[]): void;
  onDone(): void;
  /** a fatal error (e.g. a send failure other than EAGAIN/ENOBUFS/EMSGSIZE) */
  onFailure(error: Error): void;
}

/** How soon to try again when the kernel had no room for a probe. */
const RETRY_MS = 2;

export class TraceScheduler {
  readonly slots: ProbeSlot[] = [];
  private start = 0;
  private end: number;
  private timer: TimerHandle | null = null;
  private readonly byId = new Map<number, ProbeSlot>();
  private pumping = false;
  private pumpQueued = false;
  private finishedFlag = false;
  private length: number;

  constructor(private readonly config: SchedulerConfig, private readonly clock: TraceClock, private readonly hooks: SchedulerHooks) {
    const hops = config.maxTtl - config.firstTtl + 1;
    for (let h = 0; h < hops; h++) {
      for (let n = 0; n < config.queries; n++) this.slots.push(newSlot(this.slots.length, config.firstTtl + h, n));
    }
    this.end = this.slots.length;
    this.length = Math.max(config.packetLength, config.minLength);
  }

  get finished(): boolean {
    return this.finishedFlag;
  }

  /** The packet length probes are sent with now (path MTU discovery lowers it). */
  get packetLength(): number {
    return this.length;
  }

  /** TTL of the last hop the trace will report (the final hop once known). */
  get lastTtl(): number {
    return this.config.firstTtl + Math.floor((this.end - 1) / this.config.queries);
  }

  begin(): void {
    this.pump();
  }

  /** An answer from the transport; answers for decided or unknown probes are ignored. */
  handleReply(reply: ProbeReply): void {
    const slot = this.byId.get(reply.id);
    if (!slot || slot.done || this.finishedFlag) return;
    this.byId.delete(reply.id);
    this.hooks.release(reply.id);
    const q = this.config;
    if (q.discoverMtu && reply.mtu !== null && reply.mtu < this.length && reply.mtu >= q.minLength) {
      // the path needs smaller packets: this slot is sent again at that size (traceroute --mtu)
      this.length = reply.mtu;
      resetSlot(slot);
      slot.mtuNote = reply.mtu;
    } else {
      slot.done = true;
      slot.reply = reply;
      slot.rtt = reply.stamp - slot.sendStamp;
      slot.final = reply.final;
    }
    this.requestPump();
  }

  /**
   * Answers come in batches (one drain of a socket): the next visit runs once the whole batch
   * is recorded, so no probe expires while its answer waits further down the same batch.
   */
  private requestPump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Stops probing; decided slots stay, nothing more is emitted. */
  abort(): void {
    if (this.finishedFlag) return;
    this.finish(false);
  }

  private expire(slot: ProbeSlot): void {
    slot.done = true;
    if (slot.id >= 0) {
      this.byId.delete(slot.id);
      this.hooks.release(slot.id);
    }
  }

  private pump(): void {
    if (this.pumping || this.finishedFlag) return;
    this.pumping = true;
    try {
      this.visit();
    } catch (e) {
      this.pumping = false;
      this.finish(false);
      this.hooks.onFailure(e as Error);
      return;
    }
    this.pumping = false;
  }

  private visit(): void {
    const { queries, window, wait } = this.config;
    const slots = this.slots;
    // answers already queued count before anything may expire (JS can be late, the kernel is not)
    if (this.byId.size > 0) this.hooks.poll();
    // Several rounds only when sending changed something the scan depends on (resends).
    for (let round = 0; round < 64; round++) {
      const now = this.clock.now();
      let nextTime = Infinity;
      let inFlight = 0;
      let retry = false;
      const unsent: ProbeSlot[] = [];
      for (let i = this.start; i < this.end; i++) {
        const pb = slots[i]!;
        if (i === this.start && !pb.done && pb.sent) {
          const expireAt = pb.sentAt + probeTimeout(slots, i, queries, wait);
          if (expireAt > now) nextTime = expireAt;
          else {
            this.expire(pb);
            placeFinalAnswer(slots, i, queries);
          }
        }
        if (pb.done) {
          if (i === this.start) {
            this.emit(pb);
            this.start++;
          }
          if (pb.final) this.end = Math.min(this.end, (Math.floor(i / queries) + 1) * queries);
          continue;
        }
        if (!pb.sent) unsent.push(pb);
        if (nextTime === Infinity) nextTime = (pb.sent ? pb.sentAt : now) + probeTimeout(slots, i, queries, wait);
        if (++inFlight >= window) break;
      }
      // probes past a final hop are no longer wanted
      const toSend = unsent.filter((s) => s.index < this.end);
      let resend = false;
      if (toSend.length) {
        const requests = toSend.map((s) => {
          s.id = this.hooks.nextId();
          return { id: s.id, ttl: s.ttl, length: this.length };
        });
        const outcomes = this.hooks.send(requests);
        const sentAt = this.clock.now();
        toSend.forEach((s, k) => {
          const o = outcomes[k] ?? { kind: 'retry' as const };
          if (o.kind === 'sent') {
            s.sent = true;
            s.sentAt = sentAt;
            s.sendStamp = o.stamp;
            this.byId.set(s.id, s);
            return;
          }
          this.hooks.release(s.id);
          s.id = -1;
          if (o.kind === 'retry') {
            retry = true;
          } else if (this.config.discoverMtu && o.mtu < this.length && o.mtu >= this.config.minLength) {
            this.length = o.mtu;
            s.mtuNote = o.mtu;
            resend = true;
          } else {
            // too big without discovery (or no smaller size possible): traceroute's !F-<mtu>
            s.sent = true;
            s.sentAt = sentAt;
            s.done = true;
            s.final = true;
            s.reply = localTooBig(o.mtu);
            resend = true;
          }
        });
      }
      if (this.start >= this.end) {
        this.finish(true);
        return;
      }
      if (resend) continue;
      if (retry) nextTime = Math.min(nextTime, now + RETRY_MS);
      this.arm(nextTime);
      return;
    }
    this.arm(this.clock.now() + RETRY_MS);
  }

  private arm(at: number): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    if (at === Infinity) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.pump();
    }, at - this.clock.now());
  }

  private emit(slot: ProbeSlot): void {
    this.hooks.onProbe(slot);
    const q = this.config.queries;
    if (slot.n === q - 1) {
      const first = slot.index - slot.n;
      this.hooks.onHop(slot.ttl, this.slots.slice(first, first + q));
    }
  }

  private finish(complete: boolean): void {
    this.finishedFlag = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    for (const id of this.byId.keys()) this.hooks.release(id);
    this.byId.clear();
    if (complete) this.hooks.onDone();
  }
}

/** The kernel refused the size: no answer from anyone, only traceroute's !F-<mtu>. */
function localTooBig(mtu: number): ProbeReply {
  return {
    id: -1, stamp: 0, from: '', icmp: null, annotation: `!F-${mtu}`, final: true, reached: false,
    mtu, mpls: [], extensions: null, replyTtl: null, flags: [],
  };
}
