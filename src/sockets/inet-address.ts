// IPv4/IPv6 addresses as /proc/net prints them (hex of host-endian 32-bit words), as Node prints
// them (libuv's inet_ntop), and as CIDR filters. Addresses travel as network-order u32 words so
// filters can match before any string is built.
import { endianness } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv6Groups } from '../packet/address.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** A /proc/net word (printed host-endian) as the network-order u32 it stores. */
export function procWordToNetwork(v: number): number {
  if (!LITTLE_ENDIAN) return v >>> 0;
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Dotted quad of a network-order u32. */
export function formatIPv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** true when the four network-order words are ::ffff:a.b.c.d */
export function isV4Mapped(w0: number, w1: number, w2: number): boolean {
  return w0 === 0 && w1 === 0 && w2 === 0xffff;
}

/** Node's text form (libuv's inet_ntop6 rules) of an IPv6 address given as four network-order u32 words. */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  return formatIPv6Groups([w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff]);
}

/** An address prefix to match sockets against. */
export interface AddressPrefix {
  family: 4 | 6;
  /** network-order words, already masked: one for IPv4, four for IPv6 */
  words: readonly number[];
  /** per-word masks */
  masks: readonly number[];
}

function maskWord(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Parses '1.2.3.4', '10.0.0.0/8', '::1', 'fe80::/10' or '[::1]'; undefined when it is none. */
export function parseAddressPrefix(text: string): AddressPrefix | undefined {
  let s = text.trim();
  let bits: number | undefined;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return undefined;
    bits = Number(b);
    s = s.slice(0, slash);
  }
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (isIPv4(s)) {
    if (bits !== undefined && bits > 32) return undefined;
    const m = maskWord(bits ?? 32);
    return { family: 4, words: [(parseIPv4(s) & m) >>> 0], masks: [m] };
  }
  if (isIPv6(s) && !s.includes('%')) {
    if (bits !== undefined && bits > 128) return undefined;
    const w = parseIPv6(s);
    const total = bits ?? 128;
    const masks = [0, 1, 2, 3].map((i) => maskWord(total - 32 * i));
    return { family: 6, words: w.map((x, i) => (x & masks[i]!) >>> 0), masks };
  }
  return undefined;
}

function parseIPv4(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Four network-order words of a valid IPv6 text address. */
function parseIPv6(s: string): number[] {
  const groups: number[] = [];
  const parseGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIPv4(g);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    groups.push(...parseGroups(s));
  }
  return [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
}

/** Does an IPv4 address (network-order u32) fall in the prefix? */
export function prefixMatchesV4(p: AddressPrefix, a: number): boolean {
  return p.family === 4 && ((a & p.masks[0]!) >>> 0) === p.words[0];
}

/**
 * Does an IPv6 address fall in the prefix? An IPv4 prefix matches v4-mapped addresses while a
 * ::ffff:a.b.c.d prefix matches only IPv6 sockets, as in ss (inet2_addr_match).
 */
export function prefixMatchesV6(p: AddressPrefix, w0: number, w1: number, w2: number, w3: number): boolean {
  if (p.family === 4) return isV4Mapped(w0, w1, w2) && ((w3 & p.masks[0]!) >>> 0) === p.words[0];
  const m = p.masks;
  const w = p.words;
  return ((w0 & m[0]!) >>> 0) === w[0] && ((w1 & m[1]!) >>> 0) === w[1] && ((w2 & m[2]!) >>> 0) === w[2] && ((w3 & m[3]!) >>> 0) === w[3];
}
