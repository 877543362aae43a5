// A simulated load-balanced topology for unit tests of multipath discovery: routers named by
// address, each with its next hops towards the destination and how it picks one — by a seeded
// hash of the probe's flow (per-flow ECMP) or at random per packet (per-packet balancing).
// The transport answers a probe from the router its TTL ends at (time exceeded), or from the
// destination once reached, after 1 ms per hop on the fake clock; silent routers never answer.
// Nothing is sent anywhere.
import type { TracerouteBackend } from '../../src/traceroute/backend.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../../src/traceroute/transport.js';
import { fakeResolve, type FakeClock } from './fake-network.js';

export interface SimRouter {
  /** next hops toward the destination (empty: this is the destination) */
  next: string[];
  balancing?: 'per-flow' | 'per-packet';
  silent?: boolean;
}

export type SimTopology = Record<string, SimRouter>;

/** A 32-bit mix of seed and flow (what a router's ECMP hash does with the flow's fields). */
function flowHash(seed: number, flow: number): number {
  let x = (Math.imul(flow + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** Deterministic "random" for per-packet choices. */
function lcg(state: { s: number }): number {
  state.s = (Math.imul(state.s, 1664525) + 1013904223) >>> 0;
  return state.s;
}

export class MultipathSim implements ProbeTransport {
  readonly method = 'udp' as const;
  readonly socket = 'raw' as const;
  readonly flow = 'paris' as const;
  readonly family = 4 as const;
  readonly minLength = 36;
  readonly sizable = true;
  readonly flowIds: number;
  readonly sent: ProbeRequest[] = [];
  maxInFlight = 0;
  private readonly inFlight = new Set<number>();
  private onReply: (r: ProbeReply) => void = () => {};
  private readonly random = { s: 12345 };
  private readonly seeds = new Map<string, number>();
  closed = false;

  /** first: the router at TTL 1; destination: the router with no next hops */
  constructor(private readonly clock: FakeClock, private readonly topology: SimTopology, private readonly first: string, readonly destination: string, flowIds = 4096) {
    this.flowIds = flowIds;
    let i = 0;
    for (const name of Object.keys(topology)) this.seeds.set(name, 7919 * ++i);
  }

  start(onReply: (r: ProbeReply) => void): void {
    this.onReply = onReply;
  }

  poll(): void {}

  /** The router a probe of `flow` stands at after `ttl` hops (the destination once reached). */
  routerAt(flow: number, ttl: number): string {
    let at = this.first;
    for (let hop = 1; hop < ttl; hop++) {
      const r = this.topology[at]!;
      if (r.next.length === 0) break;
      const pick = r.balancing === 'per-packet' ? lcg(this.random) : flowHash(this.seeds.get(at)!, flow);
      at = r.next[pick % r.next.length]!;
    }
    return at;
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    return probes.map((p) => {
      if (p.flow === undefined || p.flow < 0 || p.flow >= this.flowIds) throw new Error(`probe without a valid flow: ${p.flow}`);
      this.sent.push(p);
      this.inFlight.add(p.id);
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
      const at = this.routerAt(p.flow, p.ttl);
      const reached = at === this.destination;
      const sentAt = this.clock.now();
      if (!this.topology[at]!.silent) {
        this.clock.setTimer(() => {
          if (!this.inFlight.has(p.id) || this.closed) return;
          this.onReply({
            id: p.id, stamp: sentAt + p.ttl, from: at, icmp: reached ? { type: 3, code: 3 } : { type: 11, code: 0 },
            annotation: null, final: reached, reached, mtu: null, mpls: [], extensions: null, replyTtl: 64, flags: [],
          });
        }, p.ttl);
      }
      return { kind: 'sent' as const, stamp: sentAt };
    });
  }

  release(id: number): void {
    this.inFlight.delete(id);
  }

  close(): void {
    this.closed = true;
  }
}

export function simBackend(clock: FakeClock, sim: ProbeTransport): TracerouteBackend {
  return { clock, names: null, timestampsReady: async () => {}, resolveTarget: fakeResolve, openTransport: () => sim };
}
