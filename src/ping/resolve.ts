// Turns the targets users give (names or addresses) into where probes go: address literals
// here, synchronously (ten thousand of them cost no promise each), names through the backend's
// resolver (getaddrinfo for the real one), then the zone and "this host" rules of
// target/destination.ts.

import { isIP } from 'node:net';
import { ResolveError } from '../errors.js';
import { destinationOf, TargetScopeError, type DestinationOptions } from '../target/destination.js';
import type { PingBackend } from './backend.js';
import { isDottedQuad } from './dotted-quad.js';
import type { PingTarget } from './types.js';

export { ResolveError } from '../errors.js';

/** The family of an address literal (zone ids allowed), or 0 for a name. */
export function literalFamily(host: string): 0 | 4 | 6 {
  // the common case first, without net.isIP's regular expressions
  if (isDottedQuad(host)) return 4;
  const v = isIP(host);
  if (v !== 0) return v as 4 | 6;
  const zone = host.indexOf('%');
  return zone > 0 && isIP(host.slice(0, zone)) === 6 ? 6 : 0;
}

/**
 * The target of an address literal of family `literal`; `family` (when not null) must match.
 * The address is where probes go (see target/destination.ts: zones, "this host"); `where` is
 * the -I interface or source.
 */
export function resolveLiteral(host: string, literal: 4 | 6, family: 4 | 6 | null, where: DestinationOptions = {}): PingTarget {
  if (family !== null && literal !== family) throw ResolveError.wrongFamily(host);
  // a dotted quad other than 0.0.0.0 is already where probes go: no zone, not "this host"
  if (literal === 4 && host !== '0.0.0.0') return { target: host, address: host, family: 4 };
  return { target: host, address: destinationOf(host, host, literal, where).address, family: literal };
}

/** The target of a name, looked up by the backend. */
async function resolveName(host: string, family: 4 | 6 | null, where: DestinationOptions, backend: PingBackend): Promise<PingTarget> {
  const found = await backend.resolveTarget(host, family ?? undefined);
  return { target: host, address: destinationOf(host, found.address, found.family, where).address, family: found.family };
}

/** A target that cannot be pinged for what it is (a name without address, a bad %zone), not for a failure of the run. */
function isUnresolved(e: unknown): e is ResolveError | TargetScopeError {
  return e instanceof ResolveError || e instanceof TargetScopeError;
}

/**
 * Resolves every target; names are looked up concurrently. Without onUnresolved the first
 * target that does not resolve fails it all; with it each one is reported, in the order of the
 * targets, and left out. A list of addresses resolves synchronously.
 */
export function resolveTargets(
  hosts: readonly string[],
  family: 4 | 6 | null,
  where: DestinationOptions,
  backend: PingBackend,
  onUnresolved?: (error: Error) => void,
): PingTarget[] | Promise<PingTarget[]> {
  const out = new Array<PingTarget | Promise<PingTarget> | Error>(hosts.length);
  let lookups = 0, failures = 0;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i]!;
    const literal = literalFamily(h);
    if (literal === 0) {
      out[i] = resolveName(h, family, where, backend);
      lookups++;
      continue;
    }
    try {
      out[i] = resolveLiteral(h, literal, family, where);
    } catch (e) {
      if (onUnresolved === undefined || !isUnresolved(e)) throw e;
      out[i] = e;
      failures++;
    }
  }
  if (lookups === 0 && failures === 0) return out as PingTarget[];
  if (onUnresolved === undefined) return Promise.all(out as Array<PingTarget | Promise<PingTarget>>);
  return Promise.allSettled(out).then((settled) => {
    const targets: PingTarget[] = [];
    for (const r of settled) {
      if (r.status === 'fulfilled' && !(r.value instanceof Error)) {
        targets.push(r.value);
        continue;
      }
      const error: unknown = r.status === 'rejected' ? r.reason : r.value;
      if (!isUnresolved(error)) throw error;
      onUnresolved(error);
    }
    return targets;
  });
}
