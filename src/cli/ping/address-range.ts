// Target lists from address ranges, as fping's -g: a CIDR block (IPv4 without its network and
// broadcast addresses when the prefix is shorter than /31, like fping) or FROM TO inclusive.
// IPv4 and IPv6. Ranges are capped so a typo (-g ::/0) fails fast instead of eating memory.

import { isIPv4, isIPv6 } from 'node:net';
import { readAddress, writeAddress } from '../../socket/address-bytes.js';
import { MAX_TARGETS } from '../../target/limits.js';

/** Most addresses one range may expand to: the target cap every input shares. */
export const MAX_RANGE_ADDRESSES = MAX_TARGETS;

function toBigInt(address: string): { value: bigint; family: 4 | 6 } {
  const b = Buffer.alloc(16);
  const family = writeAddress(address, b, 0);
  const bytes = family === 4 ? b.subarray(0, 4) : b;
  let v = 0n;
  for (const x of bytes) v = (v << 8n) | BigInt(x);
  return { value: v, family };
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const b = Buffer.alloc(16);
  const len = family === 4 ? 4 : 16;
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return readAddress(b, 0, family);
}

function checkAddress(text: string, what: string): void {
  if (!isIPv4(text) && !isIPv6(text)) throw new RangeError(`${what} '${text}' is not an IPv4 or IPv6 address`);
}

function expand(first: bigint, last: bigint, family: 4 | 6, what: string): string[] {
  const count = last - first + 1n;
  if (count > BigInt(MAX_RANGE_ADDRESSES)) {
    throw new RangeError(`${what} holds ${count} addresses, more than the ${MAX_RANGE_ADDRESSES} targets netdiag takes per run`);
  }
  const out: string[] = new Array<string>(Number(count));
  if (family === 4) {
    // plain numbers are much faster than BigInt for the common IPv4 case
    let v = Number(first);
    for (let i = 0; i < out.length; i++, v++) out[i] = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    return out;
  }
  for (let i = 0; i < out.length; i++) out[i] = fromBigInt(first + BigInt(i), family);
  return out;
}

/** The addresses of a CIDR block such as 10.0.0.0/24 or fd00::/120. */
export function expandCidr(cidr: string): string[] {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new RangeError(`'${cidr}' is not a CIDR block (e.g. 10.0.0.0/24)`);
  const base = cidr.slice(0, slash);
  const bitsText = cidr.slice(slash + 1);
  checkAddress(base, 'the network');
  const { value, family } = toBigInt(base);
  const width = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > width) {
    throw new RangeError(`the prefix length in '${cidr}' must be 0 to ${width}`);
  }
  const bits = BigInt(bitsText);
  const hostBits = BigInt(width) - bits;
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << hostBits) - 1n);
  let first = value & mask;
  let last = first + (1n << hostBits) - 1n;
  if (family === 4 && hostBits > 1n) {
    // no network and broadcast address (fping does the same)
    first += 1n;
    last -= 1n;
  }
  return expand(first, last, family, `the block ${cidr}`);
}

/** The addresses from `from` to `to`, both included. */
export function expandRange(from: string, to: string): string[] {
  checkAddress(from, 'the first address');
  checkAddress(to, 'the last address');
  const a = toBigInt(from);
  const b = toBigInt(to);
  if (a.family !== b.family) throw new RangeError(`the range ${from} to ${to} mixes IPv4 and IPv6`);
  if (b.value < a.value) throw new RangeError(`the range ${from} to ${to} ends before it starts`);
  return expand(a.value, b.value, a.family, `the range ${from} to ${to}`);
}
