import { describe, expect, it } from 'vitest';
import {
  IP_PROTOCOL, ipv4HeaderLength, parseIPv4Header, parseIPv6Header, skipIPv6ExtensionHeaders,
  verifyIPv4HeaderChecksum, writeIPv4Header, writeIPv6Header,
} from '../../src/packet/index.js';
import type { IPv4Header } from '../../src/packet/index.js';
import { captured, strictBytes } from '../fixtures/packets/captures.js';

describe('IPv4 header', () => {
  it('parses a captured ping request', () => {
    const [request, reply] = captured('ping4');
    expect(parseIPv4Header(request)).toEqual({
      version: 4, headerLength: 20, tos: 0, totalLength: 84, id: 0x2a8c, flags: 2, dontFragment: true,
      moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: 1, checksum: 0x121b, src: '127.0.0.1', dst: '127.0.0.1',
    });
    // The kernel's reply clears DF.
    expect(parseIPv4Header(reply)?.dontFragment).toBe(false);
  });

  it('honours IHL when options are present (ping -R)', () => {
    for (const frame of captured('ping4_record_route')) {
      expect(ipv4HeaderLength(frame)).toBe(60);
      const h = parseIPv4Header(frame);
      expect(h?.headerLength).toBe(60);
      expect(verifyIPv4HeaderChecksum(frame)).toBe(true);
    }
    // ICMP follows the options: echo request, then echo reply.
    expect(captured('ping4_record_route').map((f) => f[60])).toEqual([8, 0]);
  });

  it('fills a caller-provided object', () => {
    const out = {} as IPv4Header;
    const got = parseIPv4Header(captured('ping4')[0], 0, undefined, out);
    expect(got).toBe(out);
    expect(out.ttl).toBe(64);
  });

  it('returns null (never throws) on short, non-IPv4 or lying-IHL input', () => {
    const good = captured('ping4')[0];
    expect(parseIPv4Header(strictBytes(good.subarray(0, 19)))).toBe(null);
    expect(parseIPv4Header(Uint8Array.from([0x60, ...new Array(39).fill(0)]))).toBe(null);
    const lying = Uint8Array.from(good.subarray(0, 24)); lying[0] = 0x4f; // IHL 60 in 24 bytes
    expect(parseIPv4Header(strictBytes(lying))).toBe(null);
    const tiny = Uint8Array.from(good.subarray(0, 20)); tiny[0] = 0x44; // IHL 16 < 20
    expect(ipv4HeaderLength(tiny)).toBe(0);
    expect(parseIPv4Header(good, 80)).toBe(null);
    expect(parseIPv4Header(good, -1)).toBe(null);
    expect(parseIPv4Header(good, 0, 10)).toBe(null);
    expect(verifyIPv4HeaderChecksum(lying)).toBe(false);
  });

  it('builds headers that parse back and checksum, options padded', () => {
    const buf = Buffer.alloc(80);
    const len = writeIPv4Header(buf, 4, {
      tos: 0xb8, totalLength: 60, id: 0xbeef, dontFragment: true, ttl: 3, protocol: IP_PROTOCOL.UDP,
      src: '10.200.0.1', dst: Uint8Array.from([10, 200, 3, 2]), options: Uint8Array.from([7, 7, 4, 0, 0, 0, 0]),
    });
    expect(len).toBe(28);
    expect(verifyIPv4HeaderChecksum(buf, 4)).toBe(true);
    expect(parseIPv4Header(buf, 4)).toMatchObject({
      headerLength: 28, tos: 0xb8, totalLength: 60, id: 0xbeef, dontFragment: true, ttl: 3, protocol: 17, src: '10.200.0.1', dst: '10.200.3.2',
    });
    expect(buf[4 + 27]).toBe(0);
  });

  it('reproduces a captured header byte for byte', () => {
    const frame = captured('ping4')[0];
    const h = parseIPv4Header(frame)!;
    const buf = Buffer.alloc(20);
    writeIPv4Header(buf, 0, { ...h, fragmentOffset: h.fragmentOffset });
    expect(buf.equals(frame.subarray(0, 20))).toBe(true);
  });

  it('rejects bad fields', () => {
    const buf = Buffer.alloc(60);
    const base = { totalLength: 20, ttl: 1, protocol: 1, src: '1.2.3.4', dst: '5.6.7.8' };
    expect(() => writeIPv4Header(buf, 0, { ...base, ttl: 256 })).toThrow(RangeError);
    expect(() => writeIPv4Header(buf, 0, { ...base, totalLength: 19 })).toThrow(RangeError);
    expect(() => writeIPv4Header(buf, 0, { ...base, options: new Uint8Array(41) })).toThrow(RangeError);
    expect(() => writeIPv4Header(buf, 0, { ...base, src: '::1' })).toThrow(TypeError);
    expect(() => writeIPv4Header(buf, 50, base)).toThrow(RangeError);
  });
});

describe('IPv6 header', () => {
  it('parses a captured ping6 request', () => {
    const h = parseIPv6Header(captured('ping6')[0]);
    expect(h).toMatchObject({ version: 6, trafficClass: 0, payloadLength: 64, nextHeader: 58, hopLimit: 64, src: '::1', dst: '::1' });
    expect(h!.flowLabel).toBe(0xc5170);
  });

  it('round-trips traffic class and flow label', () => {
    const buf = Buffer.alloc(40);
    writeIPv6Header(buf, 0, { trafficClass: 0xa5, flowLabel: 0xfedcb, payloadLength: 1234, nextHeader: 17, hopLimit: 9, src: 'fd99:1::1', dst: '::ffff:10.0.0.1' });
    expect(parseIPv6Header(buf)).toEqual({
      version: 6, trafficClass: 0xa5, flowLabel: 0xfedcb, payloadLength: 1234, nextHeader: 17, hopLimit: 9, src: 'fd99:1::1', dst: '::ffff:10.0.0.1',
    });
    expect(() => writeIPv6Header(buf, 0, { flowLabel: 0x100000, payloadLength: 0, nextHeader: 17, hopLimit: 1, src: '::1', dst: '::1' })).toThrow(RangeError);
    expect(() => writeIPv6Header(buf, 0, { payloadLength: 0, nextHeader: 17, hopLimit: 1, src: '1.2.3.4', dst: '::1' })).toThrow(TypeError);
  });

  it('returns null on short or non-IPv6 input', () => {
    expect(parseIPv6Header(strictBytes(captured('ping6')[0].subarray(0, 39)))).toBe(null);
    expect(parseIPv6Header(captured('ping4')[0])).toBe(null);
  });

  it('walks extension headers to the upper layer', () => {
    // hop-by-hop (8 bytes) -> destination options (16 bytes) -> fragment (offset 0) -> UDP
    const b = new Uint8Array(8 + 16 + 8 + 8);
    b[0] = IP_PROTOCOL.DSTOPTS; b[1] = 0;
    b[8] = IP_PROTOCOL.FRAGMENT; b[9] = 1;
    b[24] = IP_PROTOCOL.UDP; b[26] = 0; b[27] = 1; // offset 0, M flag
    expect(skipIPv6ExtensionHeaders(b, 0, b.length, IP_PROTOCOL.HOPOPTS)).toEqual({ protocol: 17, offset: 32, fragment: false });
    // A later fragment: the upper-layer header is elsewhere.
    b[26] = 0x01; b[27] = 0x00;
    expect(skipIPv6ExtensionHeaders(b, 0, b.length, IP_PROTOCOL.HOPOPTS)).toEqual({ protocol: 17, offset: 32, fragment: true });
    // AH length is in 4-byte units minus 2.
    const ah = new Uint8Array(16); ah[0] = IP_PROTOCOL.TCP; ah[1] = 2;
    expect(skipIPv6ExtensionHeaders(ah, 0, 16, IP_PROTOCOL.AH)).toEqual({ protocol: 6, offset: 16, fragment: false });
    // ESP is opaque; no next header stops.
    expect(skipIPv6ExtensionHeaders(b, 0, b.length, IP_PROTOCOL.ESP)).toEqual({ protocol: 50, offset: 0, fragment: false });
  });

  it('returns null when an extension header runs past the data', () => {
    const b = Uint8Array.from([IP_PROTOCOL.UDP, 5, 0, 0]);
    expect(skipIPv6ExtensionHeaders(strictBytes(b), 0, 4, IP_PROTOCOL.HOPOPTS)).toBe(null);
    expect(skipIPv6ExtensionHeaders(strictBytes(b.subarray(0, 1)), 0, 1, IP_PROTOCOL.ROUTING)).toBe(null);
    expect(skipIPv6ExtensionHeaders(strictBytes(b), 0, 4, IP_PROTOCOL.FRAGMENT)).toBe(null);
    // Lying len larger than the buffer is clamped.
    expect(skipIPv6ExtensionHeaders(strictBytes(b), 0, 1000, IP_PROTOCOL.HOPOPTS)).toBe(null);
  });
});
