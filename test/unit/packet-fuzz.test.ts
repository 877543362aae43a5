import { describe, expect, it } from 'vitest';
import {
  ipv4HeaderLength, parseEcho, parseIPv4Header, parseIPv6Header, parseIcmpError, parseIcmpExtensions,
  parseMplsLabelStack, parseQuotedDatagram, parseTcpHeader, parseUdpHeader, quoteMismatches,
  skipIPv6ExtensionHeaders, splitIcmpPayload, verifyIPv4HeaderChecksum, mplsExtensionObject, writeIcmpError,
} from '../../src/packet/index.js';
import { captured, strictBytes } from '../fixtures/packets/captures.js';

// Decoders face whatever the network sends: random bytes, flipped bits, lying lengths and
// windows. None may throw or read outside the buffer (strictBytes throws on any such read).

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 0x1_0000_0000; };
}

function decodeEverything(buf: Uint8Array, off: number, len: number | undefined): void {
  for (const family of [4, 6] as const) {
    const e = parseIcmpError(buf, off, len, family);
    if (e?.quote) quoteMismatches(e.quote, { src: '10.0.0.1', dst: '::1', srcPort: 1, icmpSeq: 2, tcpSeq: 3, flowLabel: 4, ipId: 5 });
    parseEcho(buf, off, len, family);
    splitIcmpPayload(buf, off, len, family);
    parseQuotedDatagram(buf, off, len, family);
  }
  ipv4HeaderLength(buf, off, len);
  parseIPv4Header(buf, off, len);
  verifyIPv4HeaderChecksum(buf, off, len);
  parseIPv6Header(buf, off, len);
  skipIPv6ExtensionHeaders(buf, off, len, buf.length > 0 ? buf[0] : 0);
  parseIcmpExtensions(buf, off, len);
  parseMplsLabelStack(buf, off, len);
  parseUdpHeader(buf, off, len);
  parseTcpHeader(buf, off, len);
}

describe('decoders never throw and never read out of bounds', () => {
  it('has a bounds check that really fires', () => {
    const b = strictBytes(Uint8Array.from([1, 2]));
    expect(b[1]).toBe(2);
    expect(() => b[2]).toThrow(RangeError);
    expect(() => b[-1]).toThrow(RangeError);
  });

  const seeds = [
    ...['ping4', 'ping4_record_route', 'ping6', 'udp4_port_unreachable', 'udp4_options_port_unreachable', 'udp6_port_unreachable', 'tcp4_rst']
      .flatMap((n) => captured(n)),
  ];
  // Errors with extensions give the extension parser something real to chew on.
  const quote = captured('udp4_port_unreachable')[0];
  for (const form of ['compliant', 'non-compliant'] as const) {
    const b = Buffer.alloc(400);
    const n = writeIcmpError(b, 0, { family: 4, type: 11, code: 0, quote, extensionForm: form, extensions: [mplsExtensionObject([{ label: 3, exp: 1, s: 1, ttl: 2 }])] });
    seeds.push(b.subarray(0, n));
  }

  it('on random bytes with lying windows', () => {
    const r = rng(42);
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(r() * 200);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(r() * 256);
      // Bias the first bytes towards plausible version/IHL/type values.
      if (n > 0 && r() < 0.5) b[0] = [0x45, 0x4f, 0x60, 3, 11, 1, 0x20][Math.floor(r() * 7)];
      const off = Math.floor(r() * (n + 4)) - 2;
      const len = [undefined, n, n * 2, -5, Number.NaN, Math.floor(r() * 300)][Math.floor(r() * 6)];
      expect(() => decodeEverything(strictBytes(b), off, len)).not.toThrow();
    }
  });

  it('on bit-flipped and truncated real packets', () => {
    const r = rng(7);
    for (const seed of seeds) {
      for (let i = 0; i < 300; i++) {
        const b = Uint8Array.from(seed);
        const flips = 1 + Math.floor(r() * 4);
        for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
        const cut = b.subarray(0, Math.floor(r() * (b.length + 1)));
        const strict = strictBytes(cut);
        expect(() => {
          decodeEverything(strict, 0, undefined);
          const ihl = ipv4HeaderLength(strict, 0);
          if (ihl > 0) decodeEverything(strict, ihl, cut.length - ihl);
          if (cut.length >= 40) decodeEverything(strict, 40, undefined);
        }).not.toThrow();
      }
    }
  });
});
