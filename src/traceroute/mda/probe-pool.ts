// Probes for multipath discovery as promises: probe(ttl, flow) resolves with the answer or
// null. At most `window` are in flight (traceroute -N); the rest queue. Waits adapt as in
// Linux traceroute (wait-policy.ts): a probe waits MAX at most, HERE times the RTT of an answer
// from its own TTL, NEAR times the RTT of an answer from a deeper TTL, and what a TTL answered
// in earlier rounds counts too, so a silent interface costs a few RTTs (at least 50 ms) rather
// than seconds. A TTL that stayed silent through one whole MAX wait is known silent: its later
// probes wait NEAR times the RTT of the hops before it, so a silent router costs MAX once,
// not once per window of probes.
import type { TimerHandle } from '../../runtime/clock.js';
import type { TraceClock } from '../clock.js';
import type { ProbeReply, ProbeRequest, ProbeTransport } from '../transport.js';
import type { WaitSpec } from '../types.js';
import { WAIT_PRECISION_MS } from '../wait-policy.js';

export interface PoolAnswer {
  reply: ProbeReply;
  /** ms from the send stamp to the receive stamp */
  rtt: number;
}

interface Waiting {
  ttl: number;
  flow: number;
  resolve: (a: PoolAnswer | null) => void;
}

interface InFlight extends Waiting {
  id: number;
  sentAt: number;
  sendStamp: number;
  deadline: number;
}

export interface PoolConfig {
  window: number;
  wait: WaitSpec;
  packetLength: number;
}

/**
 * The least an adapted wait may be. MDA reads a lost answer as a silent interface, and sub-ms
 * RTTs would make traceroute's 3 × (RTT + 1 ms) a few ms, less than a busy router (or host)
 * may take to answer; only lost probes pay it, answered ones resolve at once.
 */
const ADAPTIVE_FLOOR_MS = 50;

/** How soon to try again when the kernel had no room for a probe. */
const RETRY_MS = 2;

export class ProbePool {
  /** probes that went out */
  sent = 0;
  private lastId = 0;
  private readonly queue: Waiting[] = [];
  private readonly inFlight = new Map<number, InFlight>();
  /** per TTL: the least RTT answered there so far */
  private readonly rttAt = new Map<number, number>();
  /** TTLs where a probe waited the whole MAX and nothing ever answered */
  private readonly silentTtls = new Set<number>();
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private closed = false;
  private pumpQueued = false;

  constructor(
    private readonly transport: ProbeTransport,
    private readonly clock: TraceClock,
    private readonly config: PoolConfig,
    private readonly onFailure: (e: Error) => void,
  ) {}

  /** Starts the transport's answers flowing into the pool. */
  start(): void {
    this.transport.start((r) => this.answer(r), (e) => this.fail(e));
  }

  probe(ttl: number, flow: number): Promise<PoolAnswer | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.queue.push({ ttl, flow, resolve });
      this.requestPump();
    });
  }

  /** Stops: every waiting probe resolves null, nothing more is sent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    for (const p of this.inFlight.values()) {
      this.transport.release(p.id);
      p.resolve(null);
    }
    this.inFlight.clear();
    for (const w of this.queue.splice(0)) w.resolve(null);
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.close();
    this.onFailure(e);
  }

  private requestPump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      try {
        this.pump();
      } catch (e) {
        this.fail(e as Error);
      }
    });
  }

  private timeoutFor(ttl: number): number {
    const { maxMs, here, near } = this.config.wait;
    let t = maxMs;
    const scaled = (rtt: number, factor: number): number => Math.max(ADAPTIVE_FLOOR_MS, (rtt + WAIT_PRECISION_MS) * factor);
    const same = this.rttAt.get(ttl);
    if (here > 0 && same !== undefined) t = Math.min(t, scaled(same, here));
    if (near > 0) for (const [at, rtt] of this.rttAt) if (at > ttl) t = Math.min(t, scaled(rtt, near));
    if (near > 0 && this.silentTtls.has(ttl)) {
      // its silence is known (a full wait was paid once): wait NEAR times the RTT of the hops before it
      let before = -1;
      for (const [at, rtt] of this.rttAt) if (at < ttl && rtt > before) before = rtt;
      if (before >= 0) t = Math.min(t, scaled(before, near));
    }
    return t;
  }

  private pump(): void {
    if (this.closed) return;
    const room = this.config.window - this.inFlight.size;
    if (room > 0 && this.queue.length > 0) {
      const batch = this.queue.splice(0, room);
      const requests: ProbeRequest[] = batch.map((w) => ({ id: ++this.lastId, ttl: w.ttl, length: this.config.packetLength, flow: w.flow }));
      const outcomes = this.transport.send(requests);
      const now = this.clock.now();
      const retry: Waiting[] = [];
      batch.forEach((w, k) => {
        const o = outcomes[k] ?? { kind: 'retry' as const };
        const id = requests[k]!.id;
        if (o.kind === 'sent') {
          this.sent++;
          this.inFlight.set(id, { ...w, id, sentAt: now, sendStamp: o.stamp, deadline: now + this.timeoutFor(w.ttl) });
          return;
        }
        this.transport.release(id);
        if (o.kind === 'retry') retry.push(w);
        else w.resolve(null); // too big for the local link: nothing went out, nobody will answer
      });
      this.queue.unshift(...retry);
      if (retry.length) {
        this.arm(now + RETRY_MS);
        return;
      }
    }
    this.armForDeadlines();
  }

  private answer(reply: ProbeReply): void {
    const p = this.inFlight.get(reply.id);
    if (!p || this.closed) return;
    this.inFlight.delete(reply.id);
    this.transport.release(reply.id);
    const rtt = reply.stamp - p.sendStamp;
    if (rtt > 0 && reply.from !== '') {
      const known = this.rttAt.get(p.ttl);
      if (known === undefined || rtt < known) this.rttAt.set(p.ttl, rtt);
      // the answer shortens the waits of probes still out at this TTL and before it
      for (const q of this.inFlight.values()) if (q.ttl <= p.ttl) q.deadline = Math.min(q.deadline, q.sentAt + this.timeoutFor(q.ttl));
    }
    p.resolve(reply.from === '' ? null : { reply, rtt });
    this.requestPump();
  }

  private armForDeadlines(): void {
    let next = Infinity;
    for (const p of this.inFlight.values()) if (p.deadline < next) next = p.deadline;
    this.arm(next);
  }

  private arm(at: number): void {
    if (at === this.timerAt && this.timer !== null) return;
    this.disarm();
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.expire();
    }, at - this.clock.now());
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private expire(): void {
    if (this.closed) return;
    try {
      // answers the kernel already holds count before anything expires
      this.transport.poll();
      const now = this.clock.now();
      const silenced: number[] = [];
      for (const p of [...this.inFlight.values()]) {
        if (p.deadline > now) continue;
        this.inFlight.delete(p.id);
        this.transport.release(p.id);
        if (!this.rttAt.has(p.ttl) && !this.silentTtls.has(p.ttl) && now - p.sentAt >= this.config.wait.maxMs) silenced.push(p.ttl);
        p.resolve(null);
      }
      if (silenced.length) {
        for (const ttl of silenced) this.silentTtls.add(ttl);
        for (const q of this.inFlight.values()) if (this.silentTtls.has(q.ttl)) q.deadline = Math.min(q.deadline, q.sentAt + this.timeoutFor(q.ttl));
      }
      this.pump();
    } catch (e) {
      this.fail(e as Error);
    }
  }
}
