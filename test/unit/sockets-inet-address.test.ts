// Address text as Node prints it, /proc word order, CIDR parsing and matching (an IPv4
// rule also matches IPv4-mapped IPv6 addresses, as in ss).
import { SocketAddress } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, parseAddressPrefix, prefixMatchesV4, prefixMatchesV6, procWordToNetwork } from '../../src/sockets/inet-address.js';

const words = (text: string): [number, number, number, number] => {
  const p = parseAddressPrefix(text)!;
  return p.words as [number, number, number, number];
};

describe('formatting', () => {
  it('reads /proc words as the little-endian machine printed them', () => {
    expect(formatIPv4(procWordToNetwork(0x0100007f))).toBe('127.0.0.1');
    expect(formatIPv4(procWordToNetwork(0x22d8b85d))).toBe('93.184.216.34');
  });

  it('prints IPv6 exactly as Node does, over many random addresses', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
    const shapes = [
      () => [0, 0, 0, 0, 0, 0, rand() & 0xffff, rand() & 0xffff],
      () => [0, 0, 0, 0, 0, 0xffff, rand() & 0xffff, rand() & 0xffff],
      () => [0, 0, 0, 0, 0xffff, 0, rand() & 0xffff, rand() & 0xffff],
      () => Array.from({ length: 8 }, () => (rand() & 3 ? 0 : rand() & 0xffff)),
      () => Array.from({ length: 8 }, () => rand() & 0xffff),
      () => [0, 0, 0, 0, 0, 0, 0, rand() & 3],
    ];
    for (let i = 0; i < 3000; i++) {
      const g = shapes[i % shapes.length]!();
      const text = g.map((x) => x.toString(16)).join(':');
      const node = new SocketAddress({ address: text, family: 'ipv6' }).address;
      const w = [0, 1, 2, 3].map((k) => ((g[2 * k]! << 16) | g[2 * k + 1]!) >>> 0) as [number, number, number, number];
      expect(formatIPv6(...w)).toBe(node);
    }
  });
});

describe('prefixes', () => {
  it('parses addresses and CIDRs and rejects the rest', () => {
    expect(parseAddressPrefix('10.1.2.3/8')).toEqual({ family: 4, words: [0x0a000000], masks: [0xff000000] });
    expect(parseAddressPrefix('[::1]')?.family).toBe(6);
    expect(parseAddressPrefix('fe80::/10')?.masks).toEqual([0xffc00000, 0, 0, 0]);
    for (const bad of ['', 'localhost', '1.2.3.4/33', '::1/129', '1.2.3', '10.0.0.0/x', 'fe80::1%lo']) expect(parseAddressPrefix(bad)).toBeUndefined();
  });

  it('matches IPv4 rules on IPv4 and on IPv4-mapped IPv6 addresses, like ss', () => {
    const lo = parseAddressPrefix('127.0.0.0/8')!;
    expect(prefixMatchesV4(lo, 0x7f000001)).toBe(true);
    expect(prefixMatchesV4(lo, 0x0a000001)).toBe(false);
    expect(prefixMatchesV6(lo, ...words('::ffff:127.0.0.1'))).toBe(true);
    expect(prefixMatchesV6(lo, ...words('::ffff:10.0.0.1'))).toBe(false);
    expect(prefixMatchesV6(lo, ...words('::127.0.0.1'))).toBe(false);
  });

  it('matches a v4-mapped rule only on IPv6 sockets, like ss', () => {
    const mapped = parseAddressPrefix('::ffff:127.0.0.1')!;
    expect(prefixMatchesV6(mapped, ...words('::ffff:127.0.0.1'))).toBe(true);
    expect(prefixMatchesV4(mapped, 0x7f000001)).toBe(false);
  });

  it('matches IPv6 prefixes of any length', () => {
    const p = parseAddressPrefix('2001:db8::/33')!;
    expect(prefixMatchesV6(p, ...words('2001:db8:7fff::1'))).toBe(true);
    expect(prefixMatchesV6(p, ...words('2001:db8:8000::1'))).toBe(false);
    expect(prefixMatchesV6(parseAddressPrefix('::/0')!, ...words('fe80::1'))).toBe(true);
    expect(prefixMatchesV4(parseAddressPrefix('0.0.0.0/0')!, 0xffffffff)).toBe(true);
  });
});
