import { describe, expect, it } from 'vitest';
import {
  IP_PROTOCOL, icmpErrorMessage, ipv4HeaderLength, isIcmpErrorType, mplsExtensionObject, parseIcmpError,
  parseQuotedDatagram, quoteMismatches, tracerouteVerdict, verifyChecksum, verifyTransportChecksum, addressBytes,
  writeEcho, writeIPv4Header, writeIPv6Header, writeIcmpError, writeUdp,
} from '../../src/packet/index.js';
import type { IcmpError, QuotedDatagram } from '../../src/packet/index.js';
import { captured, strictBytes } from '../fixtures/packets/captures.js';

/** An IPv4 UDP probe as a traceroute would send it. */
function udpProbe4(opts: { ttl?: number; options?: Uint8Array; payload?: number; fragmentOffset?: number } = {}): Buffer {
  const payload = Buffer.alloc(opts.payload ?? 18, 0x61);
  const buf = Buffer.alloc(100 + payload.length);
  const udpLen = writeUdp(Buffer.alloc(8 + payload.length), 0, { srcPort: 1, dstPort: 1, payload });
  const ihl = writeIPv4Header(buf, 0, {
    totalLength: (opts.options ? 20 + ((opts.options.length + 3) & ~3) : 20) + udpLen, id: 0x1111, ttl: opts.ttl ?? 1,
    protocol: 17, src: '10.99.1.1', dst: '10.99.4.2', options: opts.options, fragmentOffset: opts.fragmentOffset,
  });
  writeUdp(buf, ihl, { srcPort: 33000, dstPort: 33434, payload, src: '10.99.1.1', dst: '10.99.4.2' });
  return buf.subarray(0, ihl + udpLen);
}

/** An IPv4 ICMP echo probe. */
function echoProbe4(seq: number): Buffer {
  const buf = Buffer.alloc(20 + 8 + 56);
  writeIPv4Header(buf, 0, { totalLength: buf.length, id: 7, ttl: 2, protocol: 1, src: '10.99.1.1', dst: '10.99.4.2', dontFragment: true });
  writeEcho(buf, 20, { family: 4, id: 0xabcd, seq, payload: Buffer.alloc(56, 0x42) });
  return buf;
}

/** An IPv6 UDP probe, optionally behind a hop-by-hop options header. */
function udpProbe6(hopByHop = false): Buffer {
  const payload = Buffer.alloc(24, 0x62);
  const ext = hopByHop ? 8 : 0;
  const buf = Buffer.alloc(40 + ext + 8 + payload.length);
  writeIPv6Header(buf, 0, { flowLabel: 0x12345, payloadLength: ext + 8 + payload.length, nextHeader: hopByHop ? IP_PROTOCOL.HOPOPTS : 17, hopLimit: 1, src: 'fd99:1::1', dst: 'fd99:4::2' });
  if (hopByHop) { buf[40] = 17; buf[41] = 0; buf[42] = 1; buf[43] = 4; } // PadN
  writeUdp(buf, 40 + ext, { srcPort: 40000, dstPort: 33435, payload, src: 'fd99:1::1', dst: 'fd99:4::2' });
  return buf;
}

function errorMessage(f: Parameters<typeof writeIcmpError>[2]): Buffer {
  const buf = Buffer.alloc(2000);
  return buf.subarray(0, writeIcmpError(buf, 0, f));
}

describe('captured ICMP errors', () => {
  it('IPv4 port unreachable quoting a UDP datagram', () => {
    const frame = captured('udp4_port_unreachable')[1];
    const off = ipv4HeaderLength(frame);
    const e = parseIcmpError(frame, off, frame.length - off, 4)!;
    expect(e).toMatchObject({ family: 4, type: 3, code: 3, mtu: null, pointer: null, gateway: null, truncated: false, extensionForm: 'none', extensions: null });
    expect(e.quote?.ip).toMatchObject({ version: 4, headerLength: 20, ttl: 17, protocol: 17, src: '127.0.0.1', dst: '127.0.0.1', totalLength: 46 });
    expect(e.quote?.transport).toEqual({ kind: 'udp', srcPort: 40001, dstPort: 33434, length: 26, checksum: 0xfe2d });
    expect(e.quote?.transportLength).toBe(26);
    // The quote is exactly the datagram we sent.
    expect(frame.subarray(e.quoteOffset, e.quoteOffset + e.quoteLength).equals(captured('udp4_port_unreachable')[0])).toBe(true);
    expect(icmpErrorMessage(4, e.type, e.code)).toBe('Destination Port Unreachable');
    expect(tracerouteVerdict(4, e.type, e.code).reached).toBe(true);
  });

  it('IPv4 error and quote both carrying IP options (IHL 8)', () => {
    const [sent, frame] = captured('udp4_options_port_unreachable');
    const off = ipv4HeaderLength(frame);
    expect(off).toBe(32);
    const e = parseIcmpError(frame, off, frame.length - off, 4)!;
    expect(e.quote?.ip.version === 4 && e.quote.ip.headerLength).toBe(32);
    expect(e.quote?.transportOffset).toBe(off + 8 + 32);
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', srcPort: 40001, dstPort: 33434, length: 26 });
    // Record route added our address again on input, so the quoted options
    // differ from what was sent while the transport bytes are identical: match on those.
    expect(sent[22]).toBe(8);
    expect(frame[e.quoteOffset + 22]).toBe(12);
    expect(frame.subarray(e.quote!.transportOffset).equals(sent.subarray(32))).toBe(true);
  });

  it('IPv4 error quoting 548 bytes of a large datagram (no extensions)', () => {
    const frame = captured('udp4_big_port_unreachable')[1];
    const e = parseIcmpError(frame, 20, frame.length - 20, 4)!;
    expect(e.quoteLength).toBe(548);
    expect(e.extensionForm).toBe('none');
    expect(e.quote?.ip.version === 4 && e.quote.ip.totalLength).toBe(1052);
    expect(e.quote?.transportLength).toBe(528);
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', length: 1032 });
  });

  it('ICMPv6 port unreachable quoting a UDP datagram', () => {
    const [sent, frame] = captured('udp6_port_unreachable');
    const e = parseIcmpError(frame, 40, frame.length - 40, 6)!;
    expect(e).toMatchObject({ family: 6, type: 1, code: 4, truncated: false, extensionForm: 'none' });
    expect(e.quote?.ip).toMatchObject({ version: 6, hopLimit: 17, nextHeader: 17, src: '::1', dst: '::1', payloadLength: 26 });
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', srcPort: 40001, dstPort: 33434, length: 26 });
    expect(frame.subarray(e.quoteOffset).equals(sent)).toBe(true);
    expect(icmpErrorMessage(6, e.type, e.code)).toBe('Destination unreachable: Port unreachable');
  });

  it('ICMPv6 error cut to 1280 bytes', () => {
    const frame = captured('udp6_big_port_unreachable')[1];
    const e = parseIcmpError(frame, 40, frame.length - 40, 6)!;
    expect(e.quoteLength).toBe(1232);
    expect(e.extensionForm).toBe('none');
    expect(e.quote?.transportLength).toBe(1232 - 40);
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', length: 2056 });
  });

  it('every truncation of a captured error parses without throwing or reading out of bounds', () => {
    for (const [name, family, outer] of [['udp4_options_port_unreachable', 4, 32], ['udp6_port_unreachable', 6, 40]] as const) {
      const frame = captured(name)[1];
      const icmp = frame.subarray(outer);
      const ipLen = family === 4 ? 32 : 40;
      for (let n = 0; n <= icmp.length; n++) {
        const e = parseIcmpError(strictBytes(icmp.subarray(0, n)), 0, n, family);
        if (n < 8) { expect(e).toBe(null); continue; }
        const quoted = n - 8;
        if (quoted < ipLen) expect(e?.quote, `${name} ${n}`).toBe(null);
        else expect(e?.quote?.transport === null, `${name} ${n}`).toBe(quoted - ipLen < 8);
        expect(e?.truncated, `${name} ${n}`).toBe(quoted < ipLen + 8);
      }
    }
  });

  it('does not treat non-errors as errors', () => {
    const reply = captured('ping4')[1];
    expect(parseIcmpError(reply, 20, undefined, 4)).toBe(null);
    expect(parseIcmpError(captured('ping6')[1], 40, undefined, 6)).toBe(null);
    expect(isIcmpErrorType(4, 11)).toBe(true);
    expect(isIcmpErrorType(6, 3)).toBe(true);
    expect(isIcmpErrorType(6, 11)).toBe(false);
  });
});

describe('synthetic ICMP errors', () => {
  it('fragmentation needed carries the MTU and quotes an ICMP echo (id/seq/checksum)', () => {
    const probe = echoProbe4(77);
    const m = errorMessage({ family: 4, type: 3, code: 4, mtu: 1400, quote: probe.subarray(0, 28) });
    expect(verifyChecksum(m, 0, m.length)).toBe(true);
    const e = parseIcmpError(m, 0, m.length, 4)!;
    expect(e.mtu).toBe(1400);
    expect(e.quote?.transport).toEqual({ kind: 'icmp', type: 8, code: 0, checksum: probe.readUInt16BE(22), id: 0xabcd, seq: 77 });
    expect(icmpErrorMessage(4, e.type, e.code, e)).toBe('Frag needed and DF set (mtu = 1400)');
    expect(tracerouteVerdict(4, e.type, e.code, e.mtu).annotation).toBe('!F-1400');
  });

  it('reads the MTU from bytes 6–7 even when an RFC 4884 length is set in byte 5', () => {
    const m = errorMessage({ family: 4, type: 3, code: 4, mtu: 1492, quote: udpProbe4(), extensions: [mplsExtensionObject([{ label: 1, exp: 0, s: 1, ttl: 1 }])] });
    expect(m[5]).toBe(32);
    expect(parseIcmpError(m, 0, m.length, 4)?.mtu).toBe(1492);
  });

  it('parameter problem pointer (v4 byte 4, v6 32 bits) and redirect gateway', () => {
    const p4 = parseIcmpError(errorMessage({ family: 4, type: 12, code: 0, pointer: 20, quote: udpProbe4() }), 0, undefined, 4)!;
    expect(p4.pointer).toBe(20);
    expect(icmpErrorMessage(4, 12, 0, p4)).toBe('Parameter problem: pointer = 20');
    const p6 = parseIcmpError(errorMessage({ family: 6, type: 4, code: 1, pointer: 40, quote: udpProbe6() }), 0, undefined, 6)!;
    expect(p6.pointer).toBe(40);
    expect(icmpErrorMessage(6, 4, 1, p6)).toBe('Parameter problem: Unknown header at 40');
    const r = parseIcmpError(errorMessage({ family: 4, type: 5, code: 1, gateway: '10.99.1.254', quote: udpProbe4() }), 0, undefined, 4)!;
    expect(r.gateway).toBe('10.99.1.254');
    expect(icmpErrorMessage(4, 5, 1, r)).toBe('Redirect Host(New nexthop: 10.99.1.254)');
  });

  it('ICMPv6 packet too big with a 32-bit MTU and a pseudo-header checksum', () => {
    const m = errorMessage({ family: 6, type: 2, code: 0, mtu: 1280, quote: udpProbe6(), src: 'fd99:2::1', dst: 'fd99:1::1' });
    expect(verifyTransportChecksum(m, 0, m.length, addressBytes('fd99:2::1'), addressBytes('fd99:1::1'), 58)).toBe(true);
    const e = parseIcmpError(m, 0, m.length, 6)!;
    expect(e.mtu).toBe(1280);
    expect(icmpErrorMessage(6, 2, 0, e)).toBe('Packet too big: mtu=1280');
  });

  it('walks quoted IPv6 extension headers to the transport', () => {
    const e = parseIcmpError(errorMessage({ family: 6, type: 3, code: 0, quote: udpProbe6(true) }), 0, undefined, 6)!;
    expect(e.quote?.ip).toMatchObject({ nextHeader: 0, flowLabel: 0x12345 });
    expect(e.quote?.protocol).toBe(17);
    expect(e.quote?.transportOffset).toBe(8 + 48);
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', srcPort: 40000, dstPort: 33435, length: 32 });
    // Cut inside the hop-by-hop header: truncated, no transport.
    const cut = parseQuotedDatagram(strictBytes(udpProbe6(true).subarray(0, 44)), 0, 44, 6);
    expect(cut).toMatchObject({ truncated: true, quote: { protocol: 0, transport: null } });
  });

  it('honours a lying quoted IHL without reading past the quote', () => {
    const probe = Buffer.from(udpProbe4());
    probe[0] = 0x4f; // claims 60 bytes of header in a 46-byte datagram
    const m = errorMessage({ family: 4, type: 11, code: 0, quote: probe });
    const e = parseIcmpError(strictBytes(m), 0, m.length, 4)!;
    expect(e).toMatchObject({ quote: null, truncated: true });
    const notIp = Buffer.from(udpProbe4()); notIp[0] = 0x65;
    expect(parseIcmpError(errorMessage({ family: 4, type: 11, code: 0, quote: notIp }), 0, undefined, 4)).toMatchObject({ quote: null, truncated: false });
  });

  it('does not decode a transport header from a quoted later fragment', () => {
    const e = parseIcmpError(errorMessage({ family: 4, type: 11, code: 1, quote: udpProbe4({ fragmentOffset: 185 }) }), 0, undefined, 4)!;
    expect(e.quote?.transport).toBe(null);
    expect(e.truncated).toBe(false);
  });

  it('exposes quoted IP options length and the transport behind them', () => {
    const probe = udpProbe4({ options: Uint8Array.from([7, 7, 4, 0, 0, 0, 0, 1]) });
    const e = parseIcmpError(errorMessage({ family: 4, type: 11, code: 0, quote: probe.subarray(0, 28 + 8) }), 0, undefined, 4)!;
    expect(e.quote?.ip.version === 4 && e.quote.ip.headerLength).toBe(28);
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', srcPort: 33000, dstPort: 33434 });
    expect(e.truncated).toBe(false);
  });
});

describe('RFC 4884 extensions in errors', () => {
  const stack = [{ label: 24001, exp: 0, s: 0, ttl: 1 }, { label: 16, exp: 0, s: 1, ttl: 1 }];

  function checkMpls(e: IcmpError, form: string): void {
    expect(e.extensionForm).toBe(form);
    expect(e.extensions?.checksumValid).toBe(true);
    expect(e.extensions?.mpls).toEqual(stack);
  }

  it('IPv4 compliant: quote padded to 128, length 32 words, transport bounded by the quoted total length', () => {
    const probe = udpProbe4();
    const m = errorMessage({ family: 4, type: 11, code: 0, quote: probe, extensions: [mplsExtensionObject(stack)] });
    expect(m[5]).toBe(32);
    expect(m.length).toBe(8 + 128 + 4 + 12);
    const e = parseIcmpError(m, 0, m.length, 4)!;
    checkMpls(e, 'compliant');
    expect(e.quoteLength).toBe(128);
    expect(e.quote?.transportLength).toBe(probe.length - 20);
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', dstPort: 33434 });
  });

  it('IPv6 compliant: length in 64-bit words', () => {
    const m = errorMessage({ family: 6, type: 3, code: 0, quote: udpProbe6(), extensions: [mplsExtensionObject(stack)] });
    expect(m[4]).toBe(16);
    const e = parseIcmpError(m, 0, m.length, 6)!;
    checkMpls(e, 'compliant');
    expect(e.quote?.transport).toMatchObject({ kind: 'udp', dstPort: 33435 });
    expect(e.quote?.transportLength).toBe(32);
  });

  it('non-compliant form (length 0 after a 128-byte quote), both families', () => {
    const m4 = errorMessage({ family: 4, type: 11, code: 0, quote: udpProbe4({ payload: 200 }), extensions: [mplsExtensionObject(stack)], extensionForm: 'non-compliant' });
    expect(m4[5]).toBe(0);
    const e4 = parseIcmpError(m4, 0, m4.length, 4)!;
    checkMpls(e4, 'non-compliant');
    expect(e4.quoteLength).toBe(128);
    expect(e4.quote?.transport).toMatchObject({ kind: 'udp', length: 208 });
    const m6 = errorMessage({ family: 6, type: 1, code: 4, quote: udpProbe6(), extensions: [mplsExtensionObject(stack)], extensionForm: 'non-compliant' });
    checkMpls(parseIcmpError(m6, 0, m6.length, 6)!, 'non-compliant');
  });

  it('extensions with a lying object length still give the quote', () => {
    const m = errorMessage({ family: 4, type: 11, code: 0, quote: udpProbe4(), extensions: [mplsExtensionObject(stack)] });
    m.writeUInt16BE(0x7fff, 8 + 128 + 4);
    const e = parseIcmpError(strictBytes(m), 0, m.length, 4)!;
    expect(e.extensions).toMatchObject({ truncated: true, mpls: [] });
    expect(e.quote?.transport).toMatchObject({ kind: 'udp' });
  });

  it('every truncation of an extended error parses without throwing', () => {
    const m = errorMessage({ family: 4, type: 11, code: 0, quote: udpProbe4(), extensions: [mplsExtensionObject(stack)] });
    for (let n = 0; n <= m.length; n++) {
      const e = parseIcmpError(strictBytes(m.subarray(0, n)), 0, n, 4);
      if (n < 8) expect(e).toBe(null);
      else if (n >= 8 + 128 + 4) expect(e?.extensionForm).toBe('compliant');
      else expect(e?.extensionForm).toBe('none');
    }
  });

  it('refuses to build extensions on types that cannot carry them', () => {
    expect(() => errorMessage({ family: 6, type: 2, code: 0, mtu: 1280, quote: udpProbe6(), extensions: [mplsExtensionObject(stack)] })).toThrow(RangeError);
  });
});

describe('NAT detection from the quote', () => {
  function quoteOf(m: Buffer, family: 4 | 6): QuotedDatagram {
    return parseIcmpError(m, 0, m.length, family)!.quote!;
  }

  it('reports nothing when the quote is what we sent', () => {
    const probe = udpProbe4();
    const q = quoteOf(errorMessage({ family: 4, type: 11, code: 0, quote: probe }), 4);
    expect(quoteMismatches(q, { src: '10.99.1.1', dst: '10.99.4.2', protocol: 17, ipId: 0x1111, srcPort: 33000, dstPort: 33434, udpLength: 26, udpChecksum: probe.readUInt16BE(26) })).toEqual([]);
  });

  it('names every field a NAT rewrote', () => {
    const probe = Buffer.from(udpProbe4());
    // A NAT rewrote the source address and port (and fixed the UDP checksum accordingly).
    probe.set([192, 0, 2, 7], 12);
    probe.writeUInt16BE(61000, 20);
    probe.writeUInt16BE(0x1234, 26);
    const q = quoteOf(errorMessage({ family: 4, type: 11, code: 0, quote: probe }), 4);
    expect(quoteMismatches(q, { src: '10.99.1.1', srcPort: 33000, dstPort: 33434, udpChecksum: 0x4321 })).toEqual([
      { field: 'src', expected: '10.99.1.1', actual: '192.0.2.7' },
      { field: 'srcPort', expected: 33000, actual: 61000 },
      { field: 'udpChecksum', expected: 0x4321, actual: 0x1234 },
    ]);
  });

  it('compares ICMP id/seq/checksum and IPv6 fields, addresses in any spelling', () => {
    const q4 = quoteOf(errorMessage({ family: 4, type: 11, code: 0, quote: echoProbe4(5).subarray(0, 28) }), 4);
    expect(quoteMismatches(q4, { icmpId: 0xabcd, icmpSeq: 6 })).toEqual([{ field: 'icmpSeq', expected: 6, actual: 5 }]);
    const q6 = quoteOf(errorMessage({ family: 6, type: 3, code: 0, quote: udpProbe6() }), 6);
    expect(quoteMismatches(q6, { src: 'FD99:1:0::1', dst: 'fd99:4::2', flowLabel: 0x12345, payloadLength: 32, dstPort: 33435 })).toEqual([]);
    expect(quoteMismatches(q6, { flowLabel: 1 })).toEqual([{ field: 'flowLabel', expected: 1, actual: 0x12345 }]);
  });

  it('skips fields the quote does not hold', () => {
    const m = errorMessage({ family: 4, type: 11, code: 0, quote: udpProbe4().subarray(0, 24) });
    const e = parseIcmpError(m, 0, m.length, 4)!;
    expect(e.truncated).toBe(true);
    expect(e.quote?.transport).toBe(null);
    expect(quoteMismatches(e.quote!, { srcPort: 1, udpChecksum: 2, tcpSeq: 3, ipId: 0x1111 })).toEqual([]);
  });
});
