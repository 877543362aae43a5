// How many next hops the probing host itself can send a flow to. The host's routing table
// knows: when no route of the family has more than one next hop (RTA_MULTIPATH with several
// rtnexthop; a nexthop object, RTA_NH_ID, may be a group and counts as "maybe several") and
// only one table holds unicast routes towards the destination (policy rules could pick a table
// per flow), every flow leaves through the same next hop, so one probe at TTL 1 finds the first
// hop for certain, where the stopping rule would spend n_1 to rule out a second at a confidence.
// Where the dump fails (no netlink, a seccomp filter) the stopping rule decides, as before.
import { isIP } from 'node:net';
import { AF_INET, AF_INET6, RTN_UNICAST, routeCovers, type RouteRecord } from '../../netlink-route/route-dump.js';
import { readRoutes } from '../../netlink-route/route-table.js';

/** How the source's next hops were decided: read from the routing table, or left to the stopping rule. */
export type FirstHopRule = 'routing-table' | 'stopping-rule';

/** The local table (255): addresses of this host, never a next hop choice. */
const RT_TABLE_LOCAL = 255;

/** True when every flow to `address` leaves through one next hop according to `routes`. */
export function singleNextHop(routes: readonly RouteRecord[], address: Buffer): boolean {
  const tables = new Set<number>();
  for (const r of routes) {
    if (r.nexthops > 1 || r.nexthopObject) return false;
    if (r.type === RTN_UNICAST && r.table !== RT_TABLE_LOCAL && routeCovers(r, address)) tables.add(r.table);
  }
  return tables.size <= 1;
}

/** The address as bytes (4 or 16), or null when it is not an IP address. */
export function addressBytes(address: string): Buffer | null {
  const v = isIP(address);
  if (v === 4) return Buffer.from(address.split('.').map(Number));
  if (v !== 6) return null;
  const [head, tail = ''] = address.split('%')[0]!.split('::') as [string, string?];
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').flatMap((w) => (w.includes('.') ? v4Words(w) : [parseInt(w, 16)])));
  const h = words(head);
  const t = address.includes('::') ? words(tail) : [];
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

function v4Words(dotted: string): number[] {
  const [a, b, c, d] = dotted.split('.').map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
}

/** Decides the source's next hops for `address` from this namespace's routing table. */
export function systemFirstHopRule(family: 4 | 6, address: string): FirstHopRule {
  const bytes = addressBytes(address);
  if (!bytes) return 'stopping-rule';
  try {
    return singleNextHop(readRoutes(family === 4 ? AF_INET : AF_INET6), bytes) ? 'routing-table' : 'stopping-rule';
  } catch {
    // no route dump here: the stopping rule decides the first hop, as it does everywhere else
    return 'stopping-rule';
  }
}
