// Turns the targets users give (names or addresses) into addresses with node:dns (getaddrinfo,
// so /etc/hosts and nsswitch apply), and does reverse lookups for output.

import { isIP } from 'node:net';
import { ResolveError } from '../errors.js';
import { destinationOf, type DestinationOptions } from '../targets/destination.js';
import type { PingTarget } from './types.js';

export { ResolveError } from '../errors.js';

/** The family of an address literal (zone ids allowed), or 0 for a name. */
export function literalFamily(host: string): 0 | 4 | 6 {
  const v = isIP(host);
  if (v !== 0) return v as 4 | 6;
  const zone = host.indexOf('%');
  return zone > 0 && isIP(host.slice(0, zone)) === 6 ? 6 : 0;
}

/**
 * Resolves one target; family limits names (and rejects literals of the other family). The
 * address is where probes go (see targets/destination.ts: zones, "this host"); `where` is the
 * -I interface or source.
 */
export async function resolveTarget(host: string, family: 4 | 6 | null, where: DestinationOptions = {}): Promise<PingTarget> {
  if (literalFamily(host) !== 0) return resolveLiteral(host, family, where);
  const { lookup } = await import('node:dns/promises');
  let found: PingTarget;
  try {
    const r = await lookup(host, { family: family ?? 0 });
    // getaddrinfo answers '' and some odd names with no address at all
    if (!r.address) throw Object.assign(new Error('no address'), { code: 'ENODATA' });
    found = { target: host, address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (e) {
    throw ResolveError.fromLookup(host, e);
  }
  found.address = destinationOf(host, found.address, found.family, where).address;
  return found;
}

/** Resolves every target (lookups run concurrently); ResolveError names the first failure. */
export async function resolveTargets(hosts: readonly string[], family: 4 | 6 | null, where: DestinationOptions = {}): Promise<PingTarget[]> {
  // literals need no lookup: keep 10,000 of them synchronous and cheap
  const out: Array<PingTarget | Promise<PingTarget>> = hosts.map((h) => (literalFamily(h) !== 0 ? resolveLiteral(h, family, where) : resolveTarget(h, family, where)));
  return out.some((x) => x instanceof Promise) ? Promise.all(out) : (out as PingTarget[]);
}

/** The target of an address literal (see resolveTarget). */
export function resolveLiteral(host: string, family: 4 | 6 | null, where: DestinationOptions = {}): PingTarget {
  const literal = literalFamily(host) as 4 | 6;
  if (family !== null && literal !== family) throw ResolveError.wrongFamily(host);
  return { target: host, address: destinationOf(host, host, literal, where).address, family: literal };
}

/** The name of an address (getnameinfo), or null when it has none. */
export async function reverseLookup(address: string): Promise<string | null> {
  const { lookupService } = await import('node:dns/promises');
  try {
    const r = await lookupService(address.split('%')[0]!, 0);
    return r.hostname && r.hostname !== address ? r.hostname : null;
  } catch {
    return null;
  }
}
