// Zones and "this host" (issue 10, items 8 and 9): the pure address helpers, Node-style
// formatting of a link-local source with its scope id, where destinationOf() sends (checked
// against the kernel's interfaces, loopback only: 'lo' is interface 1 in every namespace), and
// the addon's own reading of '%zone' in socket addresses. Nothing here sends a packet.
import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { interfaceNameOf, readAddress } from '../../src/socket/address-bytes.js';
import { native } from '../../src/native.js';
import { isInetAtonNumber, isLinkLocalIPv6, isUnspecified, needsScopeIPv6, parseIPv6, splitZone, withoutZone } from '../../src/packet/address.js';
import { destinationOf, scopeIdOf, TargetScopeError, thisHostAddress } from '../../src/target/destination.js';

const v6 = (text: string): Buffer => {
  const b = Buffer.alloc(16);
  expect(parseIPv6(text, b, 0)).toBe(true);
  return b;
};

describe('zone helpers', () => {
  it('split and drop a %zone', () => {
    expect(splitZone('fe80::1%eth0')).toEqual({ address: 'fe80::1', zone: 'eth0' });
    expect(splitZone('fe80::1%')).toEqual({ address: 'fe80::1', zone: '' });
    expect(splitZone('::1')).toEqual({ address: '::1', zone: null });
    expect(withoutZone('fe80::1%2')).toBe('fe80::1');
    expect(withoutZone('10.0.0.1')).toBe('10.0.0.1');
  });

  it('know which addresses need a scope (the kernel\'s __ipv6_addr_needs_scope_id)', () => {
    for (const a of ['fe80::1', 'febf::1', 'ff02::1', 'ff01::1', 'ff12::1']) expect(needsScopeIPv6(v6(a)), a).toBe(true);
    for (const a of ['fec0::1', 'fe7f::1', '::1', '::', 'fd00::1', 'ff05::1', 'ff0e::1']) expect(needsScopeIPv6(v6(a)), a).toBe(false);
    expect(isLinkLocalIPv6(v6('fe80::1'))).toBe(true);
    expect(isLinkLocalIPv6(v6('ff02::1'))).toBe(false);
  });

  it('tell "this host" addresses', () => {
    expect(isUnspecified(new Uint8Array(4))).toBe(true);
    expect(isUnspecified(new Uint8Array(16))).toBe(true);
    expect(isUnspecified(Uint8Array.of(0, 0, 0, 1))).toBe(false);
    expect(isUnspecified(new Uint8Array(5))).toBe(false);
  });

  it('tell the numbers inet_aton reads (iputils prints them without names)', () => {
    for (const t of ['0', '127.1', '0x7f.1', '10.0.0.1', '4294967295']) expect(isInetAtonNumber(t), t).toBe(true);
    for (const t of ['', 'localhost', '1e3', '1.2.3.4.5', '.1', '1.', 'x1']) expect(isInetAtonNumber(t), t).toBe(false);
  });
});

describe('readAddress', () => {
  it('adds %ifname to a link-local source with a scope id, as Node prints it', () => {
    expect(interfaceNameOf(1)).toBe('lo');
    expect(readAddress(v6('fe80::1'), 0, 6, 1)).toBe('fe80::1%lo');
    expect(isIPv6(readAddress(v6('fe80::1'), 0, 6, 1))).toBe(true);
    // no scope, or not link-local: no zone (Node adds none to multicast either)
    expect(readAddress(v6('fe80::1'), 0, 6, 0)).toBe('fe80::1');
    expect(readAddress(v6('ff02::1'), 0, 6, 1)).toBe('ff02::1');
    expect(readAddress(v6('2001:db8::1'), 0, 6, 1)).toBe('2001:db8::1');
    // an interface that is gone: its index
    expect(readAddress(v6('fe80::1'), 0, 6, 0x7ffffff0)).toBe(`fe80::1%${0x7ffffff0}`);
  });
});

describe('destinationOf', () => {
  it('spells a zone as the interface name, by name or index, and gives its scope id', () => {
    expect(destinationOf('fe80::1%lo', 'fe80::1%lo', 6)).toEqual({ address: 'fe80::1%lo', scopeId: 1 });
    expect(destinationOf('fe80::1%1', 'fe80::1%1', 6)).toEqual({ address: 'fe80::1%lo', scopeId: 1 });
    expect(destinationOf('ff02::1%lo', 'ff02::1%lo', 6)).toEqual({ address: 'ff02::1%lo', scopeId: 1 });
    expect(scopeIdOf('fe80::1%lo')).toBe(1);
    expect(scopeIdOf('::1')).toBe(0);
  });

  it('takes the device for a link-local target without a zone, and refuses one that contradicts it', () => {
    expect(destinationOf('fe80::1', 'fe80::1', 6, { device: 'lo' })).toEqual({ address: 'fe80::1%lo', scopeId: 1 });
    expect(destinationOf('fe80::1%1', 'fe80::1%1', 6, { device: 'lo' }).scopeId).toBe(1);
    expect(() => destinationOf('fe80::1%lo', 'fe80::1%lo', 6, { device: 'nosuchif0' })).toThrow(/is on interface lo, but the probes are bound to nosuchif0/);
    expect(() => destinationOf('fe80::1', 'fe80::1', 6, { device: 'nosuchif0' })).toThrow(/no network interface is named nosuchif0/);
  });

  it('refuses, with a RangeError naming the target, what it cannot send to', () => {
    const cases: Array<[string, RegExp]> = [
      ['fe80::1%nosuchif0', /^fe80::1%nosuchif0: no network interface is named "nosuchif0" \(/],
      ['fe80::1%2147483000', /^fe80::1%2147483000: no network interface has index 2147483000 \(/],
      ['fe80::1%', /no network interface is named "" \(/],
      ['fe80::1%0', /no network interface has index 0 \(/],
      ['fe80::1', /^fe80::1 is a link-local address, .*\(add its interface, as in fe80::1%eth0/],
      ['ff02::1', /^ff02::1 is a link-local address/],
      ['::1%lo', /^::1%lo: a %zone only applies to link-local IPv6 addresses .*\(drop the %lo\)$/],
    ];
    for (const [target, message] of cases) {
      let caught: unknown;
      try {
        destinationOf(target, target, 6);
      } catch (e) {
        caught = e;
      }
      expect(caught, target).toBeInstanceOf(TargetScopeError);
      expect(caught).toBeInstanceOf(RangeError);
      expect((caught as TargetScopeError).code).toBe('ERR_OUT_OF_RANGE');
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain('\n');
    }
  });

  it('sends "this host" where the kernel does: 127.0.0.1 (or the bound source) and ::1', () => {
    expect(destinationOf('0', '0.0.0.0', 4)).toEqual({ address: '127.0.0.1', scopeId: 0 });
    expect(destinationOf('::', '::', 6)).toEqual({ address: '::1', scopeId: 0 });
    expect(thisHostAddress(4, '127.0.0.1')).toBe('127.0.0.1');
    // every other address goes where it says, as given
    expect(destinationOf('x', '10.0.0.1', 4)).toEqual({ address: '10.0.0.1', scopeId: 0 });
    expect(destinationOf('x', '2001:db8::1', 6)).toEqual({ address: '2001:db8::1', scopeId: 0 });
  });
});

describe('the addon reads %zone in socket addresses', () => {
  it('resolves a zone to sin6_scope_id, and refuses an unknown or contradicting one', () => {
    const n = native();
    const C = n.constants;
    // (the scope id reaching the wire is test/integration/ping-scope.test.ts's)
    expect(n.interfaceIndex('lo')).toBe(1);
    expect(n.interfaceIndex('nosuchif0')).toBe(0);
    expect(n.interfaceIndex('x'.repeat(40))).toBe(0);
    expect(n.interfaceName(1)).toBe('lo');
    expect(n.interfaceName(0)).toBeNull();
    expect(() => n.interfaceName(-1)).toThrow(RangeError);
    const fd = n.socket(C.AF_INET6, C.SOCK_DGRAM, C.IPPROTO_UDP);
    try {
      expect(() => n.bind(fd, 6, 'fe80::1%nosuchif0', 0)).toThrow(/'fe80::1%nosuchif0' names no network interface after %/);
      expect(() => n.bind(fd, 6, 'fe80::1%', 0)).toThrow(RangeError);
      expect(() => n.bind(fd, 6, 'fe80::1%lo', 0, 7)).toThrow(/is interface 1, but scopeId 7 was given/);
      expect(() => n.bind(fd, 4, '127.0.0.1%lo', 0)).toThrow(/is not an IPv4 address/);
    } finally {
      n.close(fd);
    }
  });
});
