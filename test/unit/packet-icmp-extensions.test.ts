import { describe, expect, it } from 'vitest';
import {
  ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH, icmpExtensionsLength, icmpTypeMayCarryExtensions, mplsExtensionObject,
  parseIcmpExtensions, parseMplsLabelStack, splitIcmpPayload, verifyChecksum, writeIcmpExtensions,
} from '../../src/packet/index.js';
import { strictBytes } from '../fixtures/packets/captures.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('MPLS label stack entries (RFC 4950)', () => {
  it('decodes label, exp, bottom-of-stack and ttl', () => {
    // label 24000, exp 0, S 1, ttl 1 | label 0xfffff, exp 7, S 0, ttl 255 | label 16, exp 5, S 1, ttl 0
    const b = hex('05dc0101 fffffeff 00010a00');
    expect(parseMplsLabelStack(b, 0)).toEqual([
      { label: 24000, exp: 0, s: 1, ttl: 1 },
      { label: 0xfffff, exp: 7, s: 0, ttl: 255 },
      { label: 16, exp: 5, s: 0, ttl: 0 },
    ]);
  });

  it('ignores a partial trailing entry and never reads past the window', () => {
    const b = strictBytes(hex('05dc0101 0000'));
    expect(parseMplsLabelStack(b, 0)).toHaveLength(1);
    expect(parseMplsLabelStack(b, 0, 3)).toEqual([]);
    expect(parseMplsLabelStack(b, 0, 100)).toHaveLength(1);
    expect(parseMplsLabelStack(b, 9)).toEqual([]);
  });
});

describe('extension structure', () => {
  // Hand-computed: header 2000 + checksum, one MPLS object (length 8, class 1, c-type 1), one entry.
  const single = '2000d819 00080101 05dc0101';

  it('parses a checksummed single-label MPLS structure', () => {
    const ext = parseIcmpExtensions(hex(single), 0);
    expect(ext).toMatchObject({ version: 2, checksum: 0xd819, checksumValid: true, truncated: false });
    expect(ext?.objects).toEqual([{ classNum: 1, cType: 1, length: 8, dataOffset: 8, dataLength: 4, mpls: [{ label: 24000, exp: 0, s: 1, ttl: 1 }] }]);
    expect(ext?.mpls).toEqual([{ label: 24000, exp: 0, s: 1, ttl: 1 }]);
  });

  it('parses several objects, keeping non-MPLS ones as raw data', () => {
    const b = Buffer.alloc(64);
    const len = writeIcmpExtensions(b, 4, [
      mplsExtensionObject([{ label: 100, exp: 1, s: 0, ttl: 254 }, { label: 200, exp: 0, s: 1, ttl: 254 }]),
      { classNum: 2, cType: 0x0c, data: hex('00000007') },
    ]);
    expect(len).toBe(4 + 12 + 8);
    expect(verifyChecksum(b, 4, len)).toBe(true);
    const ext = parseIcmpExtensions(b, 4, len)!;
    expect(ext.truncated).toBe(false);
    expect(ext.checksumValid).toBe(true);
    expect(ext.objects.map((o) => [o.classNum, o.cType, o.length])).toEqual([[1, 1, 12], [2, 12, 8]]);
    expect(ext.objects[1].mpls).toBe(null);
    expect(b.readUInt32BE(ext.objects[1].dataOffset)).toBe(7);
    expect(ext.mpls.map((e) => e.label)).toEqual([100, 200]);
  });

  it('reports a bad or absent checksum without rejecting the structure', () => {
    const bad = hex(single); bad[3] ^= 1;
    expect(parseIcmpExtensions(bad, 0)?.checksumValid).toBe(false);
    const none = hex(single); none[2] = 0; none[3] = 0;
    expect(parseIcmpExtensions(none, 0)).toMatchObject({ checksum: 0, checksumValid: false, mpls: [{ label: 24000 }] });
    const b = Buffer.alloc(16);
    writeIcmpExtensions(b, 0, [mplsExtensionObject([{ label: 1, exp: 0, s: 1, ttl: 1 }])], { checksum: false });
    expect(b.readUInt16BE(2)).toBe(0);
  });

  it('returns null for a short structure or the wrong version', () => {
    expect(parseIcmpExtensions(strictBytes(hex('2000d8')), 0)).toBe(null);
    expect(parseIcmpExtensions(hex('1000d819 00080101 05dc0101'), 0)).toBe(null);
    expect(parseIcmpExtensions(hex(single), 12)).toBe(null);
  });

  it('survives lying object lengths and truncation without reading out of bounds', () => {
    const tooLong = hex('20000000 00ff0101 05dc0101');
    expect(parseIcmpExtensions(strictBytes(tooLong), 0)).toMatchObject({ truncated: true, objects: [], mpls: [] });
    const tooShort = hex('20000000 00030101 05dc0101');
    expect(parseIcmpExtensions(strictBytes(tooShort), 0)).toMatchObject({ truncated: true, objects: [] });
    const zero = hex('20000000 00000101 05dc0101');
    expect(parseIcmpExtensions(strictBytes(zero), 0)?.truncated).toBe(true);
    const headerOnly = hex('20000000 0001');
    expect(parseIcmpExtensions(strictBytes(headerOnly), 0)).toMatchObject({ truncated: true, objects: [] });
    const emptyObject = hex('20000000 00040101');
    expect(parseIcmpExtensions(strictBytes(emptyObject), 0)).toMatchObject({ truncated: false, objects: [{ length: 4, dataLength: 0, mpls: [] }] });
    // Every prefix of a valid two-object structure parses without throwing.
    const b = Buffer.alloc(32);
    const len = writeIcmpExtensions(b, 0, [mplsExtensionObject([{ label: 5, exp: 0, s: 1, ttl: 9 }]), { classNum: 3, cType: 1, data: hex('0a0b0c0d') }]);
    for (let n = 0; n <= len; n++) {
      const r = parseIcmpExtensions(strictBytes(b.subarray(0, n)), 0);
      if (n < 4) expect(r).toBe(null);
      else expect(r!.truncated).toBe(n !== 4 && n !== 12 && n !== len);
    }
  });

  it('validates what it builds', () => {
    expect(() => mplsExtensionObject([{ label: 0x100000, exp: 0, s: 1, ttl: 1 }])).toThrow(RangeError);
    expect(() => mplsExtensionObject([{ label: 1, exp: 8, s: 1, ttl: 1 }])).toThrow(RangeError);
    expect(() => mplsExtensionObject([{ label: 1, exp: 0, s: 2, ttl: 1 }])).toThrow(RangeError);
    expect(() => writeIcmpExtensions(Buffer.alloc(8), 0, [mplsExtensionObject([{ label: 1, exp: 0, s: 1, ttl: 1 }])])).toThrow(RangeError);
    expect(icmpExtensionsLength([])).toBe(4);
  });
});

describe('splitting the original datagram from extensions (RFC 4884)', () => {
  function icmp(type: number, lengthByte: number, lengthAt: number, payload: Uint8Array): Buffer {
    const b = Buffer.alloc(8 + payload.length);
    b[0] = type;
    b[lengthAt] = lengthByte;
    b.set(payload, 8);
    return b;
  }
  const ext = hex('2000d819 00080101 05dc0101');
  const withExt = (quote: number): Buffer => Buffer.concat([Buffer.alloc(quote, 0x45), ext]);

  it('knows which types may carry extensions', () => {
    expect([3, 11, 12].every((t) => icmpTypeMayCarryExtensions(4, t))).toBe(true);
    expect([0, 4, 5, 8].some((t) => icmpTypeMayCarryExtensions(4, t))).toBe(false);
    expect([1, 3].every((t) => icmpTypeMayCarryExtensions(6, t))).toBe(true);
    expect([2, 4, 128].some((t) => icmpTypeMayCarryExtensions(6, t))).toBe(false);
  });

  it('IPv4 compliant: length in 32-bit words at byte 5', () => {
    const m = icmp(11, 32, 5, withExt(128));
    expect(splitIcmpPayload(m, 0, undefined, 4)).toEqual({ datagramLength: 128, extensionOffset: 136, extensionLength: 12, form: 'compliant', lengthField: 128 });
    const longer = icmp(3, 40, 5, withExt(160));
    expect(splitIcmpPayload(longer, 0, undefined, 4)).toMatchObject({ datagramLength: 160, extensionOffset: 168, form: 'compliant' });
  });

  it('IPv6 compliant: length in 64-bit words at byte 4', () => {
    const m = icmp(3, 16, 4, withExt(128));
    expect(splitIcmpPayload(m, 0, undefined, 6)).toMatchObject({ datagramLength: 128, extensionOffset: 136, form: 'compliant', lengthField: 128 });
    const wrongUnit = icmp(3, 32, 4, withExt(128)); // 32 x 8 = 256 > payload: a lie
    expect(splitIcmpPayload(wrongUnit, 0, undefined, 6)).toMatchObject({ datagramLength: 140, extensionOffset: -1, form: 'none' });
  });

  it('a short length field still puts the extensions at 128 and trims the datagram', () => {
    const m = icmp(11, 7, 5, withExt(128));
    expect(splitIcmpPayload(m, 0, undefined, 4)).toMatchObject({ datagramLength: 28, extensionOffset: 136, form: 'compliant' });
  });

  it('non-compliant: length 0, structure right after 128 bytes', () => {
    const m = icmp(11, 0, 5, withExt(128));
    expect(splitIcmpPayload(m, 0, undefined, 4)).toMatchObject({ datagramLength: 128, extensionOffset: 136, extensionLength: 12, form: 'non-compliant' });
    const v6 = icmp(3, 0, 4, withExt(128));
    expect(splitIcmpPayload(v6, 0, undefined, 6).form).toBe('non-compliant');
  });

  it('does not mistake a long quote for extensions', () => {
    const plain = icmp(3, 0, 5, Buffer.alloc(548, 0x20)); // 0x20 looks like version 2 but nothing verifies
    expect(splitIcmpPayload(plain, 0, undefined, 4)).toMatchObject({ datagramLength: 548, extensionOffset: -1, form: 'none' });
    const zeros = icmp(11, 0, 5, Buffer.alloc(300));
    expect(splitIcmpPayload(zeros, 0, undefined, 4).form).toBe('none');
    const corrupt = icmp(11, 0, 5, withExt(128)); corrupt[136 + 3] ^= 0xff;
    expect(splitIcmpPayload(corrupt, 0, undefined, 4).form).toBe('none');
  });

  it('ignores lying lengths and types that carry no extensions', () => {
    const lying = icmp(11, 255, 5, withExt(128));
    expect(splitIcmpPayload(lying, 0, undefined, 4)).toMatchObject({ datagramLength: 140, extensionOffset: -1, form: 'none', lengthField: 1020 });
    const noRoom = icmp(11, 32, 5, Buffer.alloc(130));
    expect(splitIcmpPayload(noRoom, 0, undefined, 4)).toMatchObject({ datagramLength: 130, form: 'none' });
    const echo = icmp(0, 32, 5, withExt(128));
    expect(splitIcmpPayload(echo, 0, undefined, 4).form).toBe('none');
    expect(splitIcmpPayload(strictBytes(Buffer.alloc(5)), 0, undefined, 4)).toMatchObject({ datagramLength: 0, form: 'none' });
  });

  it(`uses ${ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH} bytes as the minimum original datagram`, () => {
    expect(ICMP_ORIGINAL_DATAGRAM_MIN_LENGTH).toBe(128);
  });
});
