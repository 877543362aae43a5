// The routes a report's cycles took: each cycle's hop sequence through routeStep (the pure
// detection) in cycle order — cycles can finish out of order when a slow probe holds one back —
// counted per path id, with a record of every change. Bounded for an endless --watch: the
// latest MAX_ENTRIES changes and the MAX_ENTRIES routes taken most recently are kept.
import { routeStep, type CycleRoute, type KnownRoute } from './route-changes.js';
import type { TraceroutePath, TracerouteRouteChange } from './types.js';

const MAX_ENTRIES = 1000;

/** A cycle's decided probe, as the route needs it. */
export interface RouteProbe {
  ttl: number;
  address: string | null;
  reached: boolean;
}

/**
 * What a cycle saw from firstTtl on: up to where it reached the destination, else up to the
 * destination's TTL known from other cycles, else up to its last answer.
 */
export function cycleRoute(cycle: number, time: number, firstTtl: number, probes: readonly RouteProbe[], destTtl: number | null): CycleRoute {
  const reachedAt = probes.reduce<number | null>((min, p) => (p.reached && (min === null || p.ttl < min) ? p.ttl : min), null);
  const lastAnswer = probes.reduce((max, p) => (p.address !== null && p.ttl > max ? p.ttl : max), firstTtl - 1);
  const end = reachedAt ?? destTtl ?? lastAnswer;
  const hops: Array<string | null> = Array.from({ length: Math.max(0, end - firstTtl + 1) }, () => null);
  for (const p of probes) if (p.ttl >= firstTtl && p.ttl <= end) hops[p.ttl - firstTtl] = p.address;
  return { cycle, time, hops, reached: reachedAt !== null };
}

export class RouteHistory {
  private readonly waiting = new Map<number, CycleRoute>();
  private next = 1;
  private route: KnownRoute | null = null;
  private current: TraceroutePath | null = null;
  private readonly pathList: TraceroutePath[] = [];
  private readonly changeList: TracerouteRouteChange[] = [];

  /** firstTtl: the TTL of hops[0], to name the hop of a change */
  constructor(private readonly firstTtl: number) {}

  /** A completed cycle; it is taken in once every earlier cycle is. */
  add(seen: CycleRoute): void {
    this.waiting.set(seen.cycle, seen);
    while (this.waiting.has(this.next)) {
      this.take(this.waiting.get(this.next)!);
      this.waiting.delete(this.next++);
    }
  }

  /** Takes in the cycles still waiting for an earlier one that will not come (the run ended). */
  flush(): void {
    for (const cycle of [...this.waiting.keys()].sort((a, b) => a - b)) this.take(this.waiting.get(cycle)!);
    this.waiting.clear();
  }

  /** The distinct routes, in the order first seen (copies). */
  paths(): TraceroutePath[] {
    return this.pathList.map((p) => ({ ...p, hops: [...p.hops] }));
  }

  /** The route changes, in cycle order (copies). */
  routeChanges(): TracerouteRouteChange[] {
    return this.changeList.map((c) => ({ ...c }));
  }

  private take(seen: CycleRoute): void {
    const step = routeStep(this.route, seen);
    this.route = step.route;
    const before = this.current;
    if (step.change) {
      const { index, from, to } = step.change;
      this.changeList.push({ cycle: seen.cycle, time: seen.time, ttl: this.firstTtl + index, from, to, pathId: step.pathId });
      if (this.changeList.length > MAX_ENTRIES) this.changeList.shift();
      this.current = this.pathList.find((p) => p.pathId === step.pathId) ?? this.newPath(step.pathId, seen.cycle);
    } else if (before === null) {
      this.current = this.newPath(step.pathId, seen.cycle);
    } else if (before.pathId !== step.pathId) {
      this.current = this.refine(before, step.pathId);
    }
    const path = this.current!;
    path.hops = [...step.route.hops];
    path.lastCycle = seen.cycle;
    path.cycles++;
    if (this.pathList.length > MAX_ENTRIES) {
      // the bound drops the route not taken for longest
      const stale = this.pathList.reduce((a, b) => (b.lastCycle < a.lastCycle ? b : a));
      this.pathList.splice(this.pathList.indexOf(stale), 1);
    }
  }

  private newPath(pathId: string, cycle: number): TraceroutePath {
    const path: TraceroutePath = { pathId, hops: [], firstCycle: cycle, lastCycle: cycle, cycles: 0 };
    this.pathList.push(path);
    return path;
  }

  /**
   * The same route with a hop filled in: its id becomes the fuller one, in the change that led
   * to it too; if that route is already listed, the two entries are one.
   */
  private refine(path: TraceroutePath, pathId: string): TraceroutePath {
    for (const c of this.changeList) if (c.pathId === path.pathId) c.pathId = pathId;
    const same = this.pathList.find((p) => p.pathId === pathId);
    if (!same) {
      path.pathId = pathId;
      return path;
    }
    same.firstCycle = Math.min(same.firstCycle, path.firstCycle);
    same.lastCycle = Math.max(same.lastCycle, path.lastCycle);
    same.cycles += path.cycles;
    this.pathList.splice(this.pathList.indexOf(path), 1);
    this.pathList.sort((a, b) => a.firstCycle - b.firstCycle);
    return same;
  }
}
