// Reads this network namespace's routing table of one family over NETLINK_ROUTE (one dump,
// every table): the addon opens the socket and moves the bytes, route-dump.ts builds the
// request and parses the answer. Blocking, like the socket lister's dumps: a dump of a host's
// routes is a few kilobytes and the kernel answers at once.
import { native } from '../native.js';
import { parseRouteDump, routeDumpRequest, type RouteRecord } from './route-dump.js';

const NETLINK_ROUTE = 0;
const RECEIVE_BUFFER = 256 * 1024;
/** a routing table bigger than this is not read through (a full BGP table): the caller falls back */
const MAX_ROUTES = 100_000;

export class RouteDumpError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
    this.name = 'RouteDumpError';
  }
}

/** Every route of `family` in every table; throws (RouteDumpError or the addon's error) when the dump fails. */
export function readRoutes(family: 2 | 10): RouteRecord[] {
  const b = native();
  const fd = b.netlinkOpen(NETLINK_ROUTE);
  try {
    const seq = Math.floor(Math.random() * 0x7fffffff) + 1;
    b.netlinkSend(fd, routeDumpRequest(family, seq));
    const buffer = Buffer.allocUnsafe(RECEIVE_BUFFER);
    const routes: RouteRecord[] = [];
    for (;;) {
      const n = b.netlinkReceive(fd, buffer);
      if (n === 0) throw new RouteDumpError('route dump ended early', 0);
      const chunk = parseRouteDump(buffer, n, seq);
      routes.push(...chunk.routes);
      if (chunk.errno !== 0) throw new RouteDumpError(`route dump failed with errno ${chunk.errno}`, chunk.errno);
      if (chunk.done) return routes;
      if (routes.length > MAX_ROUTES) throw new RouteDumpError(`more than ${MAX_ROUTES} routes`, 0);
    }
  } finally {
    b.close(fd);
  }
}
