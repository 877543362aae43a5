// What a report's cycles learned, per hop: the probes (all, or the latest of an endless
// report), their statistics, whether the hop's loss looks like ICMP rate limiting, and the
// destination's TTL as the latest cycle that reached it found it (hops beyond it are not shown:
// they were probes sent before the destination was known, or on a longer route of the past);
// and per cycle the route taken (route-history.ts). When a router answers where the destination
// did, the route got longer: the next cycles probe up to the maximum TTL again until they find it.
import { HopStatsAccumulator } from './hop-stats.js';
import { rateLimitedTtls } from './rate-limited-hops.js';
import { cycleRoute, RouteHistory } from './route-history.js';
import type { TracerouteHop, TracerouteProbe, TraceroutePath, TracerouteRouteChange } from './types.js';

/** A probe a cycle decided, kept until its cycle is done. */
export interface DecidedProbe {
  ttl: number;
  probe: TracerouteProbe;
  reached: boolean;
}

interface HopRecord {
  probes: TracerouteProbe[];
  acc: HopStatsAccumulator;
}

export class ReportRecords {
  private readonly byTtl = new Map<number, HopRecord>();
  private dest: number | null = null;
  /** the highest cycle that said where the destination is (or that it is farther now) */
  private destCycle = 0;
  /** the latest cycle found a router at the destination's TTL */
  private farther = false;
  private readonly routes: RouteHistory;

  /**
   * keep: how many probes of each hop stay in the document (the statistics count them all);
   * firstTtl: where every cycle starts
   */
  constructor(private readonly keep: number, private readonly firstTtl: number) {
    this.routes = new RouteHistory(firstTtl);
  }

  /** where the destination answered (the lowest TTL of the latest cycle that reached it), once one did */
  get destTtl(): number | null {
    return this.dest;
  }

  /** how far the next cycle probes: the destination's TTL, or null for the maximum TTL (not found yet, or the route got longer) */
  get probeUpTo(): number | null {
    return this.farther ? null : this.dest;
  }

  /** Adds the probes of a completed cycle, whose probes went out at `time` (Unix ms). */
  add(cycle: number, time: number, decided: readonly DecidedProbe[]): void {
    for (const d of decided) {
      let rec = this.byTtl.get(d.ttl);
      if (!rec) this.byTtl.set(d.ttl, (rec = { probes: [], acc: new HopStatsAccumulator() }));
      rec.acc.add(d.probe.status === 'reply' ? d.probe.rtt : null);
      rec.probes.push(d.probe);
      if (rec.probes.length > this.keep) rec.probes.shift();
    }
    if (cycle >= this.destCycle) this.placeDestination(cycle, decided);
    const probes = decided.map((d) => ({ ttl: d.ttl, address: d.probe.address, reached: d.reached }));
    this.routes.add(cycleRoute(cycle, time, this.firstTtl, probes, this.farther ? null : this.dest));
  }

  private placeDestination(cycle: number, decided: readonly DecidedProbe[]): void {
    const reachedAt = decided.reduce<number | null>((min, d) => (d.reached && (min === null || d.ttl < min) ? d.ttl : min), null);
    if (reachedAt !== null) {
      this.dest = reachedAt;
      this.farther = false;
      this.destCycle = cycle;
      return;
    }
    const atDest = decided.find((d) => d.ttl === this.dest);
    // a router's time-exceeded where the destination answered (an unreachable ends the route there)
    if (atDest && atDest.probe.status === 'reply' && atDest.probe.annotation === null) {
      this.farther = true;
      this.destCycle = cycle;
    }
  }

  /** The run ended: cycles that waited for an earlier one that never completed are taken as they are. */
  close(): void {
    this.routes.flush();
  }

  /** The hops up to the destination, in TTL order, with their statistics. */
  hops(): TracerouteHop[] {
    const ttls = [...this.byTtl.keys()].filter((t) => this.dest === null || t <= this.dest).sort((a, b) => a - b);
    const hops = ttls.map((ttl) => ({ ttl, probes: this.byTtl.get(ttl)!.probes, stats: this.byTtl.get(ttl)!.acc.stats() }));
    const limited = rateLimitedTtls(hops);
    return hops.map((h) => ({ ...h, rateLimited: limited.has(h.ttl) }));
  }

  paths(): TraceroutePath[] {
    return this.routes.paths();
  }

  routeChanges(): TracerouteRouteChange[] {
    return this.routes.routeChanges();
  }
}
