// How many next hops the probing host itself can send a flow to. The host's routing table
// knows: when no route of the family has more than one next hop (RTA_MULTIPATH with several
// rtnexthop; a nexthop object, RTA_NH_ID, may be a group and counts as "maybe several") and
// only one table holds unicast routes towards the destination (policy rules could pick a table
// per flow), every flow leaves through the same next hop, so one probe at TTL 1 finds the first
// hop for certain, where the stopping rule would spend n_1 to rule out a second at a confidence.
// Where the dump fails (no netlink, a seccomp filter) the stopping rule decides, as before.
import { addressBytes, withoutZone } from '../../packet/address.js';
import { AF_INET, AF_INET6, RTN_UNICAST, routeCovers, type RouteRecord } from '../../netlink-route/route-dump.js';
import { readRoutes } from '../../netlink-route/route-table.js';

/** How the source's next hops were decided: read from the routing table, or left to the stopping rule. */
export type FirstHopRule = 'routing-table' | 'stopping-rule';

/** The local table (255): addresses of this host, never a next hop choice. */
const RT_TABLE_LOCAL = 255;

/** True when every flow to `address` leaves through one next hop according to `routes`. */
export function singleNextHop(routes: readonly RouteRecord[], address: Uint8Array): boolean {
  const tables = new Set<number>();
  for (const r of routes) {
    if (r.nexthops > 1 || r.nexthopObject) return false;
    if (r.type === RTN_UNICAST && r.table !== RT_TABLE_LOCAL && routeCovers(r, address)) tables.add(r.table);
  }
  return tables.size <= 1;
}

/** Decides the source's next hops for `address` from this namespace's routing table. */
export function systemFirstHopRule(family: 4 | 6, address: string): FirstHopRule {
  try {
    return singleNextHop(readRoutes(family === 4 ? AF_INET : AF_INET6), addressBytes(withoutZone(address))) ? 'routing-table' : 'stopping-rule';
  } catch {
    // no route dump here (or not an address): the stopping rule decides the first hop, as it does everywhere else
    return 'stopping-rule';
  }
}
