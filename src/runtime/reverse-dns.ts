// Reverse DNS for addresses that show up in results (traceroute hops, ping sources): each
// address is looked up once, in the background, through the system resolver (getnameinfo, so
// /etc/hosts and nsswitch count, as for traceroute), and waiting for it is always bounded.
// Nothing that sends or receives probes ever waits for a name.

import { systemClock, type Clock, type TimerHandle } from './clock.js';

/** Resolves an address to a name, or null when it has none. */
export type ReverseResolver = (address: string) => Promise<string | null>;

/** getnameinfo through Node; an IPv6 %scope is not part of the address the resolver knows. */
export function systemReverseResolver(): ReverseResolver {
  return async (address) => {
    const bare = address.split('%')[0]!;
    try {
      // loaded on the first lookup: a run without names never pays for node:dns
      const { lookupService } = await import('node:dns/promises');
      const { hostname } = await lookupService(bare, 0);
      return hostname && hostname !== bare ? hostname : null;
    } catch {
      return null;
    }
  };
}

export interface ReverseDnsCacheOptions {
  resolver?: ReverseResolver;
  /** the longest wait() blocks for one name (default 2000 ms); the lookup itself goes on */
  timeoutMs?: number;
  /** times the bounded wait (default: the system clock; the timer never keeps the process alive) */
  clock?: Clock;
}

export class ReverseDnsCache {
  private readonly resolver: ReverseResolver;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly known = new Map<string, string | null>();
  private readonly pending = new Map<string, Promise<string | null>>();

  constructor(opts: ReverseDnsCacheOptions = {}) {
    this.resolver = opts.resolver ?? systemReverseResolver();
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.clock = opts.clock ?? systemClock();
  }

  /** The name if known (null: known to have none), undefined while unknown. Starts a lookup. */
  peek(address: string): string | null | undefined {
    if (this.known.has(address)) return this.known.get(address);
    this.lookup(address);
    return undefined;
  }

  /** Starts a lookup if none is known or running; never throws. */
  lookup(address: string): Promise<string | null> {
    if (this.known.has(address)) return Promise.resolve(this.known.get(address) ?? null);
    let p = this.pending.get(address);
    if (!p) {
      p = this.resolver(address)
        .catch(() => null)
        .then((name) => {
          this.known.set(address, name);
          this.pending.delete(address);
          return name;
        });
      this.pending.set(address, p);
    }
    return p;
  }

  /** The name, waiting at most the timeout; null when it has none or did not come in time. */
  async wait(address: string): Promise<string | null> {
    if (this.known.has(address)) return this.known.get(address) ?? null;
    let timer: TimerHandle | undefined;
    const late = new Promise<null>((resolve) => {
      timer = this.clock.setTimer(() => resolve(null), this.timeoutMs);
      this.clock.refTimer(timer, false);
    });
    try {
      return await Promise.race([this.lookup(address), late]);
    } finally {
      this.clock.clearTimer(timer);
    }
  }

  /** Waits (bounded) for every address and returns the names found. */
  async waitAll(addresses: Iterable<string>): Promise<Map<string, string | null>> {
    const unique = [...new Set(addresses)];
    const names = await Promise.all(unique.map((a) => this.wait(a)));
    return new Map(unique.map((a, i) => [a, names[i]!]));
  }
}
