// Route-change detection for report mode, pure: a cycle's hop addresses against the route the
// cycles before it took. A hop that did not answer this cycle keeps the address it last had on
// this route — one lost probe is not a new route; only an answer from a different address at
// some TTL (or a destination reached at another TTL) is. The route is named by a path id, a
// hash of its hop sequence, so the same route gets the same id in every run.
import { createHash } from 'node:crypto';

/** What one cycle saw: the address at each TTL from firstTtl on (null: no answer). */
export interface CycleRoute {
  cycle: number;
  /** Unix ms when the cycle's probes went out */
  time: number;
  hops: ReadonlyArray<string | null>;
  /** the last entry is the destination: the route ends there (else it may go on beyond) */
  reached: boolean;
}

/** A route as the cycles so far saw it. */
export interface KnownRoute {
  hops: Array<string | null>;
  /** its last hop is the destination */
  reached: boolean;
}

/** The outcome of comparing a cycle with the current route. */
export interface RouteStep {
  /** the route from this cycle on (known addresses carried over where the cycle had none) */
  route: KnownRoute;
  pathId: string;
  /** set when the route changed: the first differing hop (index into hops), what it was and is now */
  change: { index: number; from: string; to: string } | null;
}

const UNKNOWN = '*';

/** First 16 hex digits of SHA-256 over the addresses joined by ',', '*' for an unknown hop. */
export function pathIdOf(hops: ReadonlyArray<string | null>): string {
  return createHash('sha256').update(hops.map((a) => a ?? UNKNOWN).join(',')).digest('hex').slice(0, 16);
}

/**
 * The route after `seen`, given the route before it (null for the first cycle). A change is an
 * answer from another address at a TTL where the route had one, or the destination reached at
 * another TTL than before; filling in a hop that was unknown is not a change (the path id then
 * becomes the fuller one's).
 */
export function routeStep(current: KnownRoute | null, seen: CycleRoute): RouteStep {
  const index = current === null ? -1 : changeIndex(current, seen);
  if (current === null || index >= 0) {
    // a new route: known addresses carried only up to the first difference
    const hops = seen.hops.map((a, i) => (i < index ? a ?? current?.hops[i] ?? null : a));
    const route = { hops: seen.reached ? hops : trimUnknownTail(hops), reached: seen.reached };
    const change = current === null ? null : { index, from: current.hops[index] ?? UNKNOWN, to: seen.hops[index] ?? UNKNOWN };
    return { route, pathId: pathIdOf(route.hops), change };
  }
  const merged = seen.hops.map((a, i) => a ?? current.hops[i] ?? null);
  // a cycle that did not reach the destination says nothing about the hops it did not probe
  const hops = seen.reached || merged.length >= current.hops.length ? merged : [...merged, ...current.hops.slice(merged.length)];
  const reached = seen.reached || (current.reached && hops.length === current.hops.length);
  const route = { hops: reached ? hops : trimUnknownTail(hops), reached };
  return { route, pathId: pathIdOf(route.hops), change: null };
}

/** The first hop where `seen` contradicts the route, or -1. */
function changeIndex(current: KnownRoute, seen: CycleRoute): number {
  const conflict = seen.hops.findIndex((a, i) => a !== null && current.hops[i] != null && current.hops[i] !== a);
  if (conflict >= 0) return conflict;
  // the destination answered at another TTL: shorter, where it answers now; longer, where it was
  if (seen.reached && current.reached && seen.hops.length !== current.hops.length) return Math.min(seen.hops.length, current.hops.length) - 1;
  return -1;
}

function trimUnknownTail(hops: ReadonlyArray<string | null>): Array<string | null> {
  let end = hops.length;
  while (end > 0 && hops[end - 1] === null) end--;
  return hops.slice(0, end);
}
