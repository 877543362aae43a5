import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressBytes, addressEquals, addressFamily, formatAddress, formatIPv4, formatIPv6, parseIPv4, parseIPv6, toAddressBytes } from '../../src/packet/index.js';

/** What Node itself prints for an IPv6 address (libuv's inet_ntop). */
function nodeFormat(address: string): string {
  return new net.SocketAddress({ address, family: 'ipv6' }).address;
}

function v6(text: string): Uint8Array {
  const b = new Uint8Array(16);
  expect(parseIPv6(text, b, 0)).toBe(true);
  return b;
}

describe('IPv4 text', () => {
  it('formats and parses dotted quads', () => {
    expect(formatIPv4(Uint8Array.from([127, 0, 0, 1]))).toBe('127.0.0.1');
    expect(formatIPv4(Uint8Array.from([9, 9, 255, 0, 10, 20, 30, 40]), 4)).toBe('10.20.30.40');
    const b = new Uint8Array(6);
    expect(parseIPv4('192.168.1.254', b, 2)).toBe(true);
    expect([...b]).toEqual([0, 0, 192, 168, 1, 254]);
  });

  it('rejects what net.isIPv4 rejects', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '0x1.2.3.4']) {
      expect(parseIPv4(bad, new Uint8Array(4), 0), bad).toBe(false);
      expect(net.isIPv4(bad), bad).toBe(false);
    }
    expect(parseIPv4('1.2.3.4', new Uint8Array(4), 1)).toBe(false);
  });
});

describe('IPv6 text matches Node', () => {
  const cases = [
    '::', '::1', '::2', '::ffff:127.0.0.1', '::ffff:0.0.0.0', '::1.2.3.4', '::0.1.0.0', '::5:0:0',
    '1:0:0:1:0:0:1:1', '1:0:0:1:0:0:0:1', '2001:db8::1:0:0:1', '2001:db8::', '1::', 'fe80::1:0:0:1',
    '1:0:1:1:1:1:1:1', '::fffe:1.2.3.4', 'ff02::1', '2001:DB8:0:0:8:800:200C:417A', 'fd99:4::2',
    '0:0:0:0:0:1:0:0', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789', '::ffff:1:2', '64:ff9b::192.0.2.33',
  ];
  for (const text of cases) {
    it(text, () => {
      expect(formatIPv6(v6(text))).toBe(nodeFormat(text));
    });
  }

  it('formats random addresses like Node', () => {
    let x = 12345;
    const next = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x; };
    for (let n = 0; n < 2000; n++) {
      const b = new Uint8Array(16);
      // Mostly zero words, so every compression and v4-tail rule gets exercised.
      for (let w = 0; w < 8; w++) {
        const r = next() % 4;
        const word = r === 0 ? next() & 0xffff : r === 1 && w === 5 ? 0xffff : 0;
        b[2 * w] = word >>> 8; b[2 * w + 1] = word & 0xff;
      }
      const text = formatIPv6(b);
      expect(text).toBe(nodeFormat(text));
      expect(v6(text)).toEqual(b);
    }
  });

  it('writes at an offset and ignores a zone', () => {
    const b = new Uint8Array(20);
    expect(parseIPv6('fe80::1%eth0', b, 4)).toBe(true);
    expect(formatIPv6(b, 4)).toBe('fe80::1');
  });

  it('rejects malformed text', () => {
    for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::', '::1:', ':1::', '1:2:3:4:5:6:7:8::', '::ffff:1.2.3', '::1.2.3.4:5', '%eth0', '1.2.3.4']) {
      expect(parseIPv6(bad, new Uint8Array(16), 0), bad).toBe(false);
    }
    expect(parseIPv6('1:2:3:4:5:6:7::', new Uint8Array(16), 0)).toBe(true);
  });
});

describe('address helpers', () => {
  it('convert both families', () => {
    expect(addressBytes('127.0.0.1')).toEqual(Uint8Array.from([127, 0, 0, 1]));
    expect(formatAddress(addressBytes('::ffff:127.0.0.1'))).toBe('::ffff:127.0.0.1');
    expect(() => addressBytes('localhost')).toThrow(TypeError);
    expect(addressFamily('10.0.0.1')).toBe(4);
    expect(addressFamily('::1')).toBe(6);
    expect(addressFamily('nope')).toBe(null);
    expect(addressFamily(new Uint8Array(16))).toBe(6);
    expect(() => toAddressBytes('::1', 4)).toThrow(TypeError);
    expect(() => toAddressBytes(new Uint8Array(5))).toThrow(TypeError);
    const pkt = Uint8Array.from([0, 10, 0, 0, 1]);
    expect(addressEquals(pkt, 1, addressBytes('10.0.0.1'))).toBe(true);
    expect(addressEquals(pkt, 2, addressBytes('10.0.0.1'))).toBe(false);
  });
});
