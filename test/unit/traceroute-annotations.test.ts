// ICMP/ICMPv6 error codes to traceroute's annotations, and RFC 4884 / RFC 4950 extensions as
// traceroute -e shows them: compliant and non-compliant forms, bad checksums, lying lengths,
// and the search traceroute does in error-queue payloads.
import { describe, expect, it } from 'vitest';
import { writeIcmpError } from '../../src/packet/icmp-error-build.js';
import { parseIcmpError } from '../../src/packet/icmp-error-parse.js';
import { mplsExtensionObject, parseIcmpExtensions, writeIcmpExtensions } from '../../src/packet/icmp-extensions.js';
import { writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeUdp } from '../../src/packet/udp.js';
import { decodeError, extensionInfo, formatExtensions, queuedExtensions, usableExtensions } from '../../src/traceroute/reply-decoding.js';

describe('ICMP codes to traceroute annotations', () => {
  it('maps every ICMPv4 destination-unreachable code like traceroute parse_icmp_res', () => {
    const expected = ['!N', '!H', '!P', null, '!F-1400', '!S', '!N', '!H', '!N', '!X', '!X', '!N', '!H', '!X', '!V', '!C', '!<16>'];
    expected.forEach((annotation, code) => {
      const d = decodeError(4, 3, code, code === 4 ? 1400 : 0);
      expect([code, d.annotation]).toEqual([code, annotation]);
      expect(d.final).toBe(true);
      expect(d.reached).toBe(code === 3); // port unreachable: the destination answered
      expect(d.mtu).toBe(code === 4 ? 1400 : null);
    });
  });

  it('ICMPv4 time exceeded in transit is a plain hop; other types are !<type-code>', () => {
    expect(decodeError(4, 11, 0, 0)).toEqual({ annotation: null, final: false, reached: false, mtu: null });
    expect(decodeError(4, 11, 1, 0)).toMatchObject({ annotation: '!<11-1>', final: true });
    expect(decodeError(4, 12, 0, 0)).toMatchObject({ annotation: '!<12-0>', final: true });
  });

  it('maps ICMPv6 codes: no route !N, admin !X, beyond scope/address !H, port = reached, too big !F-<mtu>', () => {
    const expected = ['!N', '!X', '!H', '!H', null, '!<5>', '!<6>', '!<7>'];
    expected.forEach((annotation, code) => {
      const d = decodeError(6, 1, code, 0);
      expect([code, d.annotation, d.reached]).toEqual([code, annotation, code === 4]);
    });
    expect(decodeError(6, 2, 0, 1280)).toEqual({ annotation: '!F-1280', final: true, reached: false, mtu: 1280 });
    expect(decodeError(6, 3, 0, 0)).toMatchObject({ annotation: null, final: false });
    expect(decodeError(6, 3, 1, 0)).toMatchObject({ annotation: '!<3-1>', final: true });
    expect(decodeError(6, 4, 2, 0)).toMatchObject({ annotation: '!<4-2>', final: true });
  });
});

/** A UDP probe datagram (IPv4) of `payload` bytes, as a router quotes it. */
function probeDatagram(payload: number): Uint8Array {
  const d = new Uint8Array(20 + 8 + payload);
  writeIPv4Header(d, 0, { totalLength: d.length, ttl: 1, protocol: 17, src: '10.0.0.1', dst: '10.9.9.9' });
  writeUdp(d, 20, { srcPort: 40000, dstPort: 33434, payloadLength: payload, src: '10.0.0.1', dst: '10.9.9.9' });
  return d;
}

const LABELS = [
  { label: 24001, exp: 0, s: 0, ttl: 1 },
  { label: 16, exp: 5, s: 1, ttl: 254 },
];

function timeExceeded(quote: Uint8Array, form: 'compliant' | 'non-compliant', extra: Array<{ classNum: number; cType: number; data: Uint8Array }> = []): Uint8Array {
  const objects = [mplsExtensionObject(LABELS), ...extra];
  const buf = new Uint8Array(1024);
  const len = writeIcmpError(buf, 0, { family: 4, type: 11, code: 0, quote, extensions: objects, extensionForm: form });
  return buf.subarray(0, len);
}

describe('RFC 4884 / RFC 4950 extensions as traceroute -e shows them', () => {
  it('decodes a compliant MPLS label stack and formats it like traceroute', () => {
    const msg = timeExceeded(probeDatagram(32), 'compliant');
    const err = parseIcmpError(msg, 0, msg.length, 4)!;
    const info = extensionInfo(msg, err.extensions);
    expect(info.mpls).toEqual(LABELS);
    expect(info.extensions).toBe('MPLS:L=24001,E=0,S=0,T=1/L=16,E=5,S=1,T=254');
  });

  it('decodes the non-compliant 128-byte form (length field 0)', () => {
    const msg = timeExceeded(probeDatagram(32), 'non-compliant');
    expect(msg[5]).toBe(0);
    const err = parseIcmpError(msg, 0, msg.length, 4)!;
    expect(err.extensionForm).toBe('non-compliant');
    expect(extensionInfo(msg, err.extensions).mpls).toEqual(LABELS);
  });

  it('prints other objects as class/c-type:hex words, objects separated by ;', () => {
    const data = Uint8Array.from([0, 0, 0xab, 0xcd, 0x12, 0x34, 0x56, 0x78]);
    const msg = timeExceeded(probeDatagram(32), 'compliant', [{ classNum: 2, cType: 1, data }]);
    const err = parseIcmpError(msg, 0, msg.length, 4)!;
    expect(formatExtensions(msg, err.extensions!)).toBe('MPLS:L=24001,E=0,S=0,T=1/L=16,E=5,S=1,T=254;2/1:0000abcd,12345678');
  });

  it('shows nothing for a wrong checksum, a lying object length or data not in 32-bit words', () => {
    const good = new Uint8Array(64);
    const len = writeIcmpExtensions(good, 0, [mplsExtensionObject(LABELS)]);
    expect(usableExtensions(parseIcmpExtensions(good, 0, len))).toBe(true);

    const badSum = good.slice(0, len);
    badSum[2] ^= 0xff;
    expect(usableExtensions(parseIcmpExtensions(badSum, 0, len))).toBe(false);

    const noSum = good.slice(0, len);
    noSum[2] = 0;
    noSum[3] = 0; // routers that do not compute it: traceroute accepts 0
    expect(usableExtensions(parseIcmpExtensions(noSum, 0, len))).toBe(true);

    const lying = new Uint8Array(64);
    const l2 = writeIcmpExtensions(lying, 0, [mplsExtensionObject(LABELS)], { checksum: false });
    lying[5] = 200; // object length far past the data
    expect(usableExtensions(parseIcmpExtensions(lying, 0, l2))).toBe(false);

    const odd = new Uint8Array(64);
    const l3 = writeIcmpExtensions(odd, 0, [{ classNum: 9, cType: 9, data: Uint8Array.from([1, 2, 3]) }], { checksum: false });
    expect(usableExtensions(parseIcmpExtensions(odd, 0, l3))).toBe(false);
    expect(extensionInfo(odd, parseIcmpExtensions(odd, 0, l3))).toEqual({ mpls: [], extensions: null });
  });

  it('finds extensions in an error-queue payload where traceroute looks: at 128 when the quote was padded', () => {
    const msg = timeExceeded(probeDatagram(32), 'compliant');
    // the error queue of a UDP socket holds what follows the quoted UDP header
    const data = msg.subarray(8 + 28);
    const info = queuedExtensions(4, 11, data, 0, data.length, 28, 32);
    expect(info.mpls).toEqual(LABELS);
  });

  it('searches 32-bit steps from 128 when the probe was longer than 128 bytes', () => {
    const msg = timeExceeded(probeDatagram(172), 'compliant'); // 200-byte datagram: extensions at 200
    const data = msg.subarray(8 + 28);
    expect(queuedExtensions(4, 11, data, 0, data.length, 28, 172).extensions).toBe('MPLS:L=24001,E=0,S=0,T=1/L=16,E=5,S=1,T=254');
    // a type that cannot carry extensions, or a short payload, gives none
    expect(queuedExtensions(4, 4, data, 0, data.length, 28, 172).extensions).toBeNull();
    expect(queuedExtensions(4, 11, data, 0, 20, 28, 172).extensions).toBeNull();
  });
});
