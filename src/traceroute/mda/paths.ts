// The distinct paths through a discovered graph: every walk along links from an interface of
// the first TTL (or any interface no link leads to) to one no link leaves, with a stable name:
// the first 16 hex digits of SHA-256 over its hop addresses from firstTtl on ('*' for a silent
// hop), joined by ',' — the same pathId report mode gives one route (route-changes.ts).
import { createHash } from 'node:crypto';
import { SOURCE, type MultipathGraph } from './graph.js';
import type { MultipathPath } from './types.js';

/** Paths listed at most (nested diamonds multiply them). */
export const MAX_PATHS = 1024;

export function multipathPathId(hops: ReadonlyArray<string | null>): string {
  return createHash('sha256').update(hops.map((a) => a ?? '*').join(',')).digest('hex').slice(0, 16);
}

export function enumeratePaths(graph: MultipathGraph, firstTtl: number): { paths: MultipathPath[]; truncated: boolean } {
  const next = new Map<string, string[]>();
  const entered = new Set<string>();
  for (const l of graph.links.values()) {
    const list = next.get(l.from);
    if (list) list.push(l.to);
    else next.set(l.from, [l.to]);
    entered.add(l.to);
  }
  const starts = [...graph.vertex(SOURCE).successors];
  for (const key of graph.vertices.keys()) if (key !== SOURCE && !entered.has(key) && !starts.includes(key)) starts.push(key);
  const paths: MultipathPath[] = [];
  let truncated = false;
  const walk = (key: string, trail: string[]): void => {
    if (truncated) return;
    const route = [...trail, key];
    const onward = next.get(key) ?? [];
    if (onward.length === 0) {
      if (paths.length >= MAX_PATHS) {
        truncated = true;
        return;
      }
      paths.push(pathOf(graph, route, firstTtl));
      return;
    }
    for (const to of onward) walk(to, route);
  };
  for (const s of starts) walk(s, []);
  return { paths, truncated };
}

function pathOf(graph: MultipathGraph, route: readonly string[], firstTtl: number): MultipathPath {
  const last = graph.vertex(route[route.length - 1]!);
  const hops: Array<string | null> = new Array(last.ttl - firstTtl + 1).fill(null);
  for (const key of route) {
    const v = graph.vertex(key);
    hops[v.ttl - firstTtl] = v.address;
  }
  return { pathId: multipathPathId(hops), hops, reached: last.reached };
}
