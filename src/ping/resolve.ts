// Turns the targets users give (names or addresses) into addresses with node:dns (getaddrinfo,
// so /etc/hosts and nsswitch apply), and does reverse lookups for output.

import { isIP } from 'node:net';
import type { PingTarget } from './types.js';

/** A name that did not resolve. */
export class ResolveError extends Error {
  readonly code = 'ERR_NETDIAG_RESOLVE';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`cannot resolve ${host}: ${reason} (check the name, or give an address)`);
    this.name = 'ResolveError';
  }
}

const REASONS: Record<string, string> = {
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  ENODATA: 'No address associated with hostname',
  EAI_NODATA: 'No address associated with hostname',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
};

/** The family of an address literal (zone ids allowed), or 0 for a name. */
export function literalFamily(host: string): 0 | 4 | 6 {
  const v = isIP(host);
  if (v !== 0) return v as 4 | 6;
  const zone = host.indexOf('%');
  return zone > 0 && isIP(host.slice(0, zone)) === 6 ? 6 : 0;
}

/** Resolves one target; family limits names (and rejects literals of the other family). */
export async function resolveTarget(host: string, family: 4 | 6 | null): Promise<PingTarget> {
  if (literalFamily(host) !== 0) return resolveLiteral(host, family);
  const { lookup } = await import('node:dns/promises');
  try {
    const r = await lookup(host, { family: family ?? 0 });
    return { target: host, address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new ResolveError(host, REASONS[code] ?? (code || (e as Error).message));
  }
}

/** Resolves every target (lookups run concurrently); ResolveError names the first failure. */
export async function resolveTargets(hosts: readonly string[], family: 4 | 6 | null): Promise<PingTarget[]> {
  // literals need no lookup: keep 10,000 of them synchronous and cheap
  const out: Array<PingTarget | Promise<PingTarget>> = hosts.map((h) => (literalFamily(h) !== 0 ? resolveLiteral(h, family) : resolveTarget(h, family)));
  return out.some((x) => x instanceof Promise) ? Promise.all(out) : (out as PingTarget[]);
}

function resolveLiteral(host: string, family: 4 | 6 | null): PingTarget {
  const literal = literalFamily(host) as 4 | 6;
  if (family !== null && literal !== family) throw new ResolveError(host, REASONS.EAI_ADDRFAMILY!);
  return { target: host, address: host, family: literal };
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
