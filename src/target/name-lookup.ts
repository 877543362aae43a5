// Forward name lookup shared by the ping and traceroute system backends: getaddrinfo through
// Node (so /etc/hosts and nsswitch apply), loaded on the first name rather than at start-up,
// with literals answered without a lookup.
import { isIP } from 'node:net';
import { ResolveError } from '../errors.js';

/** The address of `target` (family: the one asked for, else the resolver's first). */
export async function lookupTarget(target: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(target.replace(/%.*$/, ''));
  if (literal) return { address: target, family: literal as 4 | 6 };
  const { lookup } = await import('node:dns/promises');
  let r: { address: string | null; family: number };
  try {
    r = await lookup(target, { family: family ?? 0, verbatim: true });
  } catch (e) {
    throw ResolveError.fromLookup(target, e);
  }
  // getaddrinfo answers '' and some odd names with no address at all
  if (!r.address) throw ResolveError.fromLookup(target, { code: 'ENODATA' });
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
}
