// An in-process simulated path for unit tests of the traceroute engine: a fake clock with timers
// (time moves only when the test says so) and a fake transport that answers each probe as the
// hop at its TTL would — after that hop's RTT, or never for a silent hop — and records every
// probe sent, so tests can check the window, the order and the waits exactly.
import { isIP } from 'node:net';

import { ResolveError } from '../../src/errors.js';
import type { TracerouteBackend } from '../../src/traceroute/backend.js';
import type { TraceClock } from '../../src/traceroute/clock.js';
import { FakeTimers } from '../helpers/fake-clock.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../../src/traceroute/transport.js';
import type { TracerouteMethod } from '../../src/traceroute/types.js';

export class FakeClock extends FakeTimers implements TraceClock {
  stamp(sec: number, nsec: number): number {
    return sec * 1000 + nsec / 1e6;
  }
  realtimeStamp(): number {
    return this.t;
  }

  /** Lets promises and microtasks settle (the engine pumps in microtasks). */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Fires the earliest timer, moving time to it; false when none is left. */
  async step(): Promise<boolean> {
    await this.settle();
    if (!this.fireNext()) return false;
    await this.settle();
    return true;
  }

  /** Runs timers until the promise settles; throws when it cannot (no timer left) or runs past limitMs. */
  async run<T>(p: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    p.then((v) => { done = true; value = v; }, (e: unknown) => { done = true; error = e ?? new Error('rejected'); });
    for (;;) {
      await this.settle();
      if (done) break;
      if (this.t > limitMs) throw new Error(`still running at ${this.t} ms`);
      if (!(await this.step())) {
        // no fake timer left: real ones (e.g. a bounded DNS wait) may still settle it
        for (let i = 0; i < 200 && !done && this.pendingTimers === 0; i++) await new Promise<void>((r) => setTimeout(r, 5));
        if (done || this.pendingTimers > 0) continue;
        throw new Error(`nothing left to run at ${this.t} ms and the promise has not settled`);
      }
    }
    if (error !== undefined) throw error;
    return value as T;
  }
}

export interface FakeHop {
  address: string;
  /** ms from send to answer */
  rtt: number;
  /** never answers */
  silent?: boolean;
  /** answers only the probes for which this says yes (n: 0-based count of probes that reached this hop) */
  answers?: (probeOfHop: number) => boolean;
  /** an unreachable answer instead of time exceeded: ends the trace here */
  annotation?: string;
  replyTtl?: number;
  /** a frag-needed/packet-too-big answer for probes longer than this */
  mtu?: number;
}

export interface SentProbe extends ProbeRequest {
  at: number;
  /** probes in flight (sent, not released) right after this one went out */
  inFlight: number;
}

/** What the transport says it is (an ICMP path over raw IPv4 sockets unless told). */
export interface FakePathShape {
  method?: TracerouteMethod;
  family?: 4 | 6;
}

/** ICMP types of the answers, per family (ICMPv6 numbers them differently). */
const ICMP_TYPES = {
  4: { echoReply: 0, unreachable: 3, timeExceeded: 11, fragNeeded: { type: 3, code: 4 }, hostUnreachable: 1 },
  6: { echoReply: 129, unreachable: 1, timeExceeded: 3, fragNeeded: { type: 2, code: 0 }, hostUnreachable: 3 },
} as const;

/** Answers like a path of hops; the last hop is the destination. */
export class FakePath implements ProbeTransport {
  readonly method: TracerouteMethod;
  readonly socket = 'raw' as const;
  readonly flow = 'paris' as const;
  readonly family: 4 | 6;
  /** the IP header and an ICMP echo header, as the ICMP transport's */
  readonly minLength: number;
  readonly sizable = true;
  readonly sent: SentProbe[] = [];
  readonly released = new Set<number>();
  /** the first `busyFor` sends get EAGAIN */
  busyFor = 0;
  /** sends longer than this fail with EMSGSIZE (local MTU) */
  localMtu = Infinity;
  private onReply: (r: ProbeReply) => void = () => {};
  private perHop = new Map<number, number>();
  private inFlight = new Set<number>();
  closed = false;

  constructor(private readonly clock: FakeClock, private readonly hops: FakeHop[], shape: FakePathShape = {}) {
    this.method = shape.method ?? 'icmp';
    this.family = shape.family ?? 4;
    this.minLength = (this.family === 4 ? 20 : 40) + 8;
  }

  start(onReply: (r: ProbeReply) => void): void {
    this.onReply = onReply;
  }

  poll(): void {}

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    return probes.map((p) => {
      if (this.busyFor > 0) {
        this.busyFor--;
        return { kind: 'retry' as const };
      }
      if (p.length > this.localMtu) return { kind: 'too-big' as const, mtu: this.localMtu };
      this.inFlight.add(p.id);
      this.sent.push({ ...p, at: this.clock.now(), inFlight: this.inFlight.size });
      const hopIndex = Math.min(p.ttl, this.hops.length) - 1;
      const hop = this.hops[hopIndex]!;
      // probes beyond the last hop reach it too: count per hop, not per TTL
      const n = this.perHop.get(hopIndex) ?? 0;
      this.perHop.set(hopIndex, n + 1);
      // the last hop is the destination, unless it answers with an unreachable
      const reached = p.ttl >= this.hops.length && hop.annotation === undefined;
      if (!hop.silent && (!hop.answers || hop.answers(n))) {
        const tooBig = hop.mtu !== undefined && p.length > hop.mtu;
        const sentAt = this.clock.now();
        const types = ICMP_TYPES[this.family];
        this.clock.setTimer(() => {
          if (this.released.has(p.id) || this.closed) return;
          this.onReply({
            id: p.id, stamp: sentAt + hop.rtt, from: hop.address,
            icmp: tooBig ? { ...types.fragNeeded } : reached ? { type: types.echoReply, code: 0 }
              : hop.annotation ? { type: types.unreachable, code: types.hostUnreachable } : { type: types.timeExceeded, code: 0 },
            annotation: tooBig ? `!F-${hop.mtu}` : reached ? null : hop.annotation ?? null,
            final: tooBig || reached || hop.annotation !== undefined, reached: reached && !tooBig,
            mtu: tooBig ? hop.mtu! : null, mpls: [], extensions: null, replyTtl: hop.replyTtl ?? 64 - hopIndex, flags: [],
          });
        }, hop.rtt);
      }
      return { kind: 'sent' as const, stamp: this.clock.now() };
    });
  }

  release(id: number): void {
    this.released.add(id);
    this.inFlight.delete(id);
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * The fake resolver: literals as getaddrinfo answers them (themselves, their own family),
 * localhost as a stock /etc/hosts has it, every other name unknown.
 */
export async function fakeResolve(target: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(target.replace(/%.*$/, ''));
  if (literal !== 0) return { address: target, family: literal as 4 | 6 };
  if (target === 'localhost' && family !== 6) return { address: '127.0.0.1', family: 4 };
  throw ResolveError.fromLookup(target, { code: 'ENOTFOUND' });
}

/** A backend whose every transport is the given fake path. */
export function fakeBackend(clock: FakeClock, path: FakePath, names: TracerouteBackend['names'] = null): TracerouteBackend {
  return {
    clock,
    names,
    timestampsReady: async () => {},
    resolveTarget: fakeResolve,
    openTransport: () => path,
  };
}

/** hops 1…n answering from 10.0.k.1 after k × rttPerHop ms; the last is the destination. */
export function linearPath(n: number, rttPerHop = 1, overrides: Record<number, Partial<FakeHop>> = {}): FakeHop[] {
  return Array.from({ length: n }, (_, i) => ({ address: `10.0.${i + 1}.1`, rtt: (i + 1) * rttPerHop, ...overrides[i + 1] }));
}
