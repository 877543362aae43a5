// What a report's cycles learned, per hop: the probes (all, or the latest of an endless
// report), their statistics, and the destination's TTL once a cycle reached it (hops beyond
// it are not shown: they were probes sent before the destination was known).
import { HopStatsAccumulator } from './hop-stats.js';
import type { TracerouteHop, TracerouteProbe } from './types.js';

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

  /** keep: how many probes of each hop stay in the document (the statistics count them all) */
  constructor(private readonly keep: number) {}

  /** the lowest TTL at which the destination answered, once one did */
  get destTtl(): number | null {
    return this.dest;
  }

  /** Adds the probes of a completed cycle. */
  add(decided: readonly DecidedProbe[]): void {
    for (const d of decided) {
      let rec = this.byTtl.get(d.ttl);
      if (!rec) this.byTtl.set(d.ttl, (rec = { probes: [], acc: new HopStatsAccumulator() }));
      rec.acc.add(d.probe.status === 'reply' ? d.probe.rtt : null);
      rec.probes.push(d.probe);
      if (rec.probes.length > this.keep) rec.probes.shift();
      if (d.reached && (this.dest === null || d.ttl < this.dest)) this.dest = d.ttl;
    }
  }

  /** The hops up to the destination, in TTL order, with their statistics. */
  hops(): TracerouteHop[] {
    const ttls = [...this.byTtl.keys()].filter((t) => this.dest === null || t <= this.dest).sort((a, b) => a - b);
    return ttls.map((ttl) => ({ ttl, probes: this.byTtl.get(ttl)!.probes, stats: this.byTtl.get(ttl)!.acc.stats() }));
  }
}
