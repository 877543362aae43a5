// Which hops of a report lose probes that a later hop answers: loss that does not carry on down
// the path is the router declining to answer (Linux limits the ICMP errors it sends to about one
// a second after a short burst), not packets dropped — a dropped probe never reaches the later
// hops either. A hop that never answered is left out: that is a silent router, not a limit.
import type { HopStats } from './types.js';

/** The TTLs whose loss is higher than that of some later hop that answered. */
export function rateLimitedTtls(hops: ReadonlyArray<{ ttl: number; stats?: HopStats }>): Set<number> {
  const limited = new Set<number>();
  let lowestLaterLoss = Infinity;
  for (const hop of [...hops].sort((a, b) => b.ttl - a.ttl)) {
    const s = hop.stats;
    if (!s || s.received === 0) continue;
    if (s.loss > lowestLaterLoss) limited.add(hop.ttl);
    lowestLaterLoss = Math.min(lowestLaterLoss, s.loss);
  }
  return limited;
}
