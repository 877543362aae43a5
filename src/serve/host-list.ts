// The hosts of a target group: addresses, names (resolved later, and again on a schedule) and
// CIDR blocks, expanded here with a cap so a typo (10.0.0.0/8, ::/64) fails the config instead
// of eating memory. IPv4 blocks shorter than /31 leave out their network and broadcast
// addresses, as fping -g does.

import { isIP } from 'node:net';
import { isLinkLocalIPv6, splitZone } from '../packet/address.js';
import { readAddress, writeAddress } from '../socket/address-bytes.js';
import { hostProblem } from '../target/index.js';

/** Most addresses one CIDR block may expand to. */
export const MAX_BLOCK_ADDRESSES = 65_536;

export type HostEntry =
  | { kind: 'address'; host: string; address: string; family: 4 | 6 }
  | { kind: 'name'; host: string };

/** Why a CIDR text is unusable, or its parts. */
export function parseCidr(text: string): { base: string; prefix: number; family: 4 | 6 } | string {
  const slash = text.indexOf('/');
  const base = text.slice(0, slash);
  const family = isIP(base);
  if (family === 0) return `'${base}' before the / is not an IP address`;
  const bits = family === 4 ? 32 : 128;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return `the prefix length must be 0 to ${bits}`;
  return { base, prefix: Number(prefixText), family: family as 4 | 6 };
}

function toBigInt(address: string): bigint {
  const b = Buffer.alloc(16);
  const family = writeAddress(address, b, 0);
  let v = 0n;
  for (const x of family === 4 ? b.subarray(0, 4) : b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const b = Buffer.alloc(16);
  let v = value;
  for (let i = (family === 4 ? 4 : 16) - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return readAddress(b, 0, family);
}

/** The addresses of a CIDR block, or why it cannot be expanded. */
export function expandCidr(text: string, cap = MAX_BLOCK_ADDRESSES): string[] | string {
  const p = parseCidr(text);
  if (typeof p === 'string') return p;
  const bits = p.family === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - p.prefix);
  const skipEnds = p.family === 4 && p.prefix < 31;
  const usable = skipEnds ? size - 2n : size;
  if (usable > BigInt(cap)) return `${text} holds ${usable} addresses, more than the ${cap} one block may expand to (use a longer prefix)`;
  const first = (toBigInt(p.base) >> BigInt(bits - p.prefix)) << BigInt(bits - p.prefix);
  const out: string[] = [];
  for (let i = skipEnds ? 1n : 0n; i < (skipEnds ? size - 1n : size); i++) out.push(fromBigInt(first + i, p.family));
  return out;
}

/** One host text as entries (a block gives many), or why it is no host. */
export function hostEntries(text: string): HostEntry[] | string {
  if (text.includes('/')) {
    const r = expandCidr(text);
    if (typeof r === 'string') return r;
    return r.map((a) => ({ kind: 'address', host: a, address: a, family: a.includes(':') ? 6 : 4 }));
  }
  const problem = hostProblem(text);
  if (problem !== null) return `the host ${problem.problem} (${problem.fix})`;
  const family = isIP(text);
  if (family === 0) return [{ kind: 'name', host: text }];
  if (family === 4) return [{ kind: 'address', host: text, address: text, family: 4 }];
  // the address as Node prints it (::0 is ::, 2001:DB8::1 is 2001:db8::1), a link-local one
  // with its zone as written (the interface is checked when it is probed, as ping does); the
  // host as written
  const { address: plain, zone } = splitZone(text);
  const bytes = Buffer.alloc(16);
  writeAddress(plain, bytes, 0);
  const printed = readAddress(bytes, 0, 6);
  if (zone === null) return [{ kind: 'address', host: text, address: printed, family: 6 }];
  if (!isLinkLocalIPv6(bytes)) return `${text}: a %zone only applies to link-local IPv6 addresses (fe80::/10) (drop the %${zone})`;
  return [{ kind: 'address', host: text, address: `${printed}%${zone}`, family: 6 }];
}
