import { describe, expect, it } from 'vitest';
import {
  addressBytes, foldChecksum, forceChecksum, internetChecksum, onesComplementSum, pseudoHeaderSum,
  transportChecksum, updateChecksum, verifyChecksum, verifyTransportChecksum,
} from '../../src/packet/index.js';
import { captured } from '../fixtures/packets/captures.js';

/** Textbook RFC 1071: byte pairs, carry folded after every addition. */
function naiveChecksum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
  return out;
}

describe('internet checksum', () => {
  it('matches RFC 1071 section 3 example', () => {
    // 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2; the checksum is its complement.
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(foldChecksum(onesComplementSum(b, 0, b.length))).toBe(0xddf2);
    expect(internetChecksum(b, 0, b.length)).toBe(0x220d);
  });

  it('handles empty, all-zero, all-ones and odd lengths', () => {
    expect(internetChecksum(new Uint8Array(0), 0, 0)).toBe(0xffff);
    expect(internetChecksum(new Uint8Array(10), 0, 10)).toBe(0xffff);
    expect(internetChecksum(new Uint8Array(10).fill(0xff), 0, 10)).toBe(0);
    expect(internetChecksum(Uint8Array.from([0x12]), 0, 1)).toBe(~0x1200 & 0xffff);
    expect(onesComplementSum(new Uint8Array(4), 0, -3, 7)).toBe(7);
  });

  it('agrees with a naive implementation for every length 0..300 and random offsets', () => {
    const data = randomBytes(400, 7);
    for (let len = 0; len <= 300; len++) {
      for (const off of [0, 1, 3, 8]) {
        const slice = data.subarray(off, off + len);
        expect(internetChecksum(data, off, len)).toBe(naiveChecksum(slice));
        expect(internetChecksum(data, off, len, 0x1_2345)).toBe(naiveChecksum(slice, 0x1_2345));
      }
    }
  });

  it('folds sums larger than 32 bits exactly', () => {
    expect(foldChecksum(0x1_0000_0000)).toBe(1);
    expect(foldChecksum(0xffff_ffff_ffff)).toBe(0xffff);
    expect(foldChecksum(0x3_fffc)).toBe(0xffff);
  });

  it('verifies real packets captured from ping and the kernel', () => {
    for (const name of ['ping4', 'ping4_odd', 'ping4_record_route', 'udp4_port_unreachable', 'udp4_options_port_unreachable', 'udp4_big_port_unreachable', 'tcp4_rst']) {
      for (const frame of captured(name)) {
        const ihl = (frame[0] & 0x0f) * 4;
        expect(verifyChecksum(frame, 0, ihl), `${name} IP header`).toBe(true);
        if (frame[9] === 1) {
          const icmp = frame.subarray(ihl);
          expect(verifyChecksum(icmp, 0, icmp.length), `${name} ICMP`).toBe(true);
          // Recomputing with the field zeroed gives the stored value.
          const copy = Uint8Array.from(icmp); copy[2] = 0; copy[3] = 0;
          expect(internetChecksum(copy, 0, copy.length)).toBe((icmp[2] << 8) | icmp[3]);
        }
      }
    }
  });

  it('computes the ICMPv6 pseudo-header checksum exactly as the kernel did', () => {
    for (const name of ['ping6', 'udp6_port_unreachable', 'udp6_big_port_unreachable']) {
      for (const frame of captured(name)) {
        if (frame[6] !== 58) continue;
        const src = frame.subarray(8, 24), dst = frame.subarray(24, 40);
        const len = (frame[4] << 8) | frame[5];
        expect(verifyTransportChecksum(frame, 40, len, src, dst, 58), name).toBe(true);
        const copy = Uint8Array.from(frame.subarray(40, 40 + len)); copy[2] = 0; copy[3] = 0;
        expect(transportChecksum(copy, 0, len, src, dst, 58)).toBe((frame[42] << 8) | frame[43]);
      }
    }
  });

  it('verifies the checksum of the RST the IPv4 kernel sent (computed in software, pseudo header included)', () => {
    const rst4 = captured('tcp4_rst')[1];
    expect(verifyTransportChecksum(rst4, 20, rst4.length - 20, rst4.subarray(12, 16), rst4.subarray(16, 20), 6)).toBe(true);
  });

  it('matches the partial checksums lo leaves in offloaded UDP/TCP packets (the folded pseudo-header sum)', () => {
    const cases: Array<[string, number]> = [['udp4_port_unreachable', 17], ['tcp4_rst', 6]];
    for (const [name, proto] of cases) {
      const f = captured(name)[0];
      const ihl = (f[0] & 0x0f) * 4;
      const len = f.length - ihl;
      const csumAt = ihl + (proto === 17 ? 6 : 16);
      expect(foldChecksum(pseudoHeaderSum(f.subarray(12, 16), f.subarray(16, 20), proto, len)), name).toBe((f[csumAt] << 8) | f[csumAt + 1]);
    }
    // The IPv6 RST is offloaded too.
    const cases6: Array<[string, number, number]> = [['udp6_port_unreachable', 17, 0], ['tcp6_rst', 6, 0], ['tcp6_rst', 6, 1]];
    for (const [name, proto, frame] of cases6) {
      const f = captured(name)[frame];
      const len = (f[4] << 8) | f[5];
      const csumAt = 40 + (proto === 17 ? 6 : 16);
      expect(foldChecksum(pseudoHeaderSum(f.subarray(8, 24), f.subarray(24, 40), proto, len)), name).toBe((f[csumAt] << 8) | f[csumAt + 1]);
    }
  });

  it('rejects mismatched pseudo-header addresses', () => {
    expect(() => pseudoHeaderSum(new Uint8Array(4), new Uint8Array(16), 17, 8)).toThrow(TypeError);
  });

  it('builds pseudo headers like the RFCs lay them out', () => {
    const src4 = addressBytes('10.0.0.1'), dst4 = addressBytes('10.0.0.2');
    const ph4 = Uint8Array.from([...src4, ...dst4, 0, 17, 0, 30]);
    expect(foldChecksum(pseudoHeaderSum(src4, dst4, 17, 30))).toBe(foldChecksum(onesComplementSum(ph4, 0, 12)));
    const src6 = addressBytes('2001:db8::1'), dst6 = addressBytes('2001:db8::2');
    const ph6 = Uint8Array.from([...src6, ...dst6, 0, 1, 0, 4, 0, 0, 0, 58]);
    expect(foldChecksum(pseudoHeaderSum(src6, dst6, 58, 0x1_0004))).toBe(foldChecksum(onesComplementSum(ph6, 0, 40)));
  });
});

describe('incremental update (RFC 1624)', () => {
  it('equals recomputation after changing one word', () => {
    const data = randomBytes(64, 99);
    data[2] = 0; data[3] = 0;
    const before = internetChecksum(data, 0, 64);
    for (const [at, value] of [[10, 0x0000], [10, 0xffff], [20, 0x1234], [62, 0xabcd]] as const) {
      const copy = Uint8Array.from(data);
      const old = (copy[at] << 8) | copy[at + 1];
      copy[at] = value >>> 8; copy[at + 1] = value & 0xff;
      const expected = internetChecksum(copy, 0, 64);
      const updated = updateChecksum(before, old, value);
      // 0x0000 and 0xffff are the same ones'-complement number; compare by verification too.
      copy[2] = updated >>> 8; copy[3] = updated & 0xff;
      expect(verifyChecksum(copy, 0, 64)).toBe(true);
      expect(updated === expected || (updated ^ expected) === 0xffff).toBe(true);
    }
  });
});

describe('forceChecksum', () => {
  it('makes any chosen checksum verify by rewriting one aligned word', () => {
    for (const target of [0, 1, 0x1234, 0xfffe, 0xffff]) {
      for (const len of [12, 13, 64, 65]) {
        const b = randomBytes(len, target + len);
        forceChecksum(b, 0, len, 2, 8, target);
        expect((b[2] << 8) | b[3]).toBe(target);
        expect(verifyChecksum(b, 0, len)).toBe(true);
      }
    }
  });

  it('rejects a misaligned or overlapping compensation word', () => {
    const b = new Uint8Array(16);
    expect(() => forceChecksum(b, 0, 16, 2, 9, 1)).toThrow(RangeError);
    expect(() => forceChecksum(b, 0, 16, 2, 2, 1)).toThrow(RangeError);
    expect(() => forceChecksum(b, 0, 16, 2, 16, 1)).toThrow(RangeError);
    expect(() => forceChecksum(b, 0, 16, 3, 8, 1)).toThrow(RangeError);
  });
});
