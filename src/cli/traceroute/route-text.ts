// The lines under a report's table that mtr does not have: where and when the route changed,
// the routes taken (path ids), and the legend of the rate-limiting marker on hop rows.
import type { TracerouteHop, TraceroutePath, TracerouteRouteChange } from '../../traceroute/types.js';
import { RATE_LIMIT_MARKER, startStamp } from './report-text.js';
/** A watched report can change route often (per-packet balancing): the text shows the latest. */
export const CHANGES_SHOWN = 10;

/** startStamp with milliseconds: cycles can be a fraction of a second apart. */
export function changeStamp(ms: number): string {
  const d = new Date(ms);
  const s = startStamp(d);
  return `${s.slice(0, 19)}.${String(d.getMilliseconds()).padStart(3, '0')}${s.slice(19)}`;
}

/** The legend line when some hop carries the marker, else null. */
export function rateLimitLegend(hops: readonly TracerouteHop[]): string | null {
  const marked = hops.filter((h) => h.rateLimited).map((h) => h.ttl);
  if (!marked.length) return null;
  return (
    `${RATE_LIMIT_MARKER} hop${marked.length > 1 ? 's' : ''} ${marked.join(', ')}: likely ICMP rate limiting, not packet loss ` +
    `(later hops answer with less loss)\n`
  );
}

/** Route changes and the paths taken; empty while the report stayed on one route. */
export function routeText(paths: readonly TraceroutePath[], changes: readonly TracerouteRouteChange[]): string {
  if (!changes.length && paths.length < 2) return '';
  let out = '';
  const hidden = changes.length - CHANGES_SHOWN;
  if (hidden > 0) out += `(${hidden} earlier route change${hidden > 1 ? 's' : ''} not shown)\n`;
  for (const c of changes.slice(Math.max(0, hidden))) {
    out += `Route changed at cycle ${c.cycle} (${changeStamp(c.time)}): hop ${c.ttl} ${c.from} -> ${c.to}, now path ${c.pathId}\n`;
  }
  out += `Paths: ${paths.map((p) => `${p.pathId} cycles ${p.firstCycle}-${p.lastCycle} (${p.cycles})`).join(', ')}\n`;
  return out;
}
