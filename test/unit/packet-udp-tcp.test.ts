import { describe, expect, it } from 'vitest';
import {
  TCP_FLAG, addressBytes, parseTcpHeader, parseUdpHeader, udpChecksum, verifyTcpChecksum, verifyTransportChecksum,
  verifyUdpChecksum, writeTcp, writeTcpSyn, writeUdp, writeUdpWithChecksum,
} from '../../src/packet/index.js';
import type { TcpHeader, UdpHeader } from '../../src/packet/index.js';
import { captured, strictBytes } from '../fixtures/packets/captures.js';

describe('UDP', () => {
  it('decodes a captured datagram', () => {
    const f = captured('udp4_port_unreachable')[0];
    expect(parseUdpHeader(f, 20)).toEqual({ srcPort: 40001, dstPort: 33434, length: 26, checksum: 0xfe2d });
    const out = {} as UdpHeader;
    expect(parseUdpHeader(f, 20, 8, out)).toBe(out);
    expect(parseUdpHeader(strictBytes(f.subarray(20, 27)), 0)).toBe(null);
  });

  it('computes IPv4 and IPv6 checksums that verify, and detects corruption', () => {
    for (const [src, dst] of [['10.99.1.1', '10.99.4.2'], ['fd99:1::1', 'fd99:4::2']]) {
      const buf = Buffer.alloc(64);
      const len = writeUdp(buf, 3, { srcPort: 40000, dstPort: 33434, payload: Buffer.from('probe payload'), src, dst });
      expect(len).toBe(21);
      expect(verifyUdpChecksum(buf, 3, len, src, dst)).toBe(true);
      expect(verifyTransportChecksum(buf, 3, len, addressBytes(src), addressBytes(dst), 17)).toBe(true);
      expect(udpChecksum(buf, 3, len, src, dst)).toBe(buf.readUInt16BE(9));
      // The pseudo header binds the addresses: a different destination fails.
      expect(verifyUdpChecksum(buf, 3, len, src, src)).toBe(false);
      buf[15] ^= 0x10;
      expect(verifyUdpChecksum(buf, 3, len, src, dst)).toBe(false);
    }
  });

  it('treats checksum 0 as none on IPv4 only', () => {
    const buf = Buffer.alloc(16);
    writeUdp(buf, 0, { srcPort: 1, dstPort: 2, payloadLength: 0 });
    expect(buf.readUInt16BE(6)).toBe(0);
    expect(verifyUdpChecksum(buf, 0, 8, '1.2.3.4', '5.6.7.8')).toBe(true);
    expect(verifyUdpChecksum(buf, 0, 8, '::1', '::2')).toBe(false);
    expect(verifyUdpChecksum(buf, 0, 20, '1.2.3.4', '5.6.7.8')).toBe(false);
  });

  it('sends a computed 0 as 0xffff', () => {
    // Find a payload word that makes the sum come out to 0, then check the encoding.
    const buf = Buffer.alloc(16);
    writeUdp(buf, 0, { srcPort: 1, dstPort: 2, payload: Buffer.alloc(2), src: '10.0.0.1', dst: '10.0.0.2' });
    const c = buf.readUInt16BE(6);
    const fix = Buffer.alloc(2); fix.writeUInt16BE(c === 0xffff ? 0 : c);
    writeUdp(buf, 0, { srcPort: 1, dstPort: 2, payload: fix, src: '10.0.0.1', dst: '10.0.0.2' });
    expect(buf.readUInt16BE(6)).toBe(0xffff);
    expect(verifyUdpChecksum(buf, 0, 10, '10.0.0.1', '10.0.0.2')).toBe(true);
  });

  it('Paris: the UDP checksum carries a chosen value (the sequence) while ports stay fixed', () => {
    const buf = Buffer.alloc(64);
    for (const [src, dst] of [['10.99.1.1', '10.99.4.2'], ['fd99:1::1', 'fd99:4::2']]) {
      for (let seq = 1; seq < 5000; seq += 123) {
        const len = writeUdpWithChecksum(buf, 0, { srcPort: 33000, dstPort: 33434, payload: Buffer.alloc(12), src, dst }, seq, 2);
        expect(buf.readUInt16BE(6)).toBe(seq);
        expect(verifyUdpChecksum(buf, 0, len, src, dst)).toBe(true);
        expect(udpChecksum(buf, 0, len, src, dst)).toBe(seq);
      }
    }
    expect(() => writeUdpWithChecksum(buf, 0, { srcPort: 1, dstPort: 2, payload: Buffer.alloc(4), src: '::1', dst: '::1' }, 0)).toThrow(RangeError);
    expect(() => writeUdpWithChecksum(buf, 0, { srcPort: 1, dstPort: 2, payload: Buffer.alloc(1), src: '::1', dst: '::1' }, 5)).toThrow(RangeError);
    expect(() => writeUdpWithChecksum(buf, 0, { srcPort: 1, dstPort: 2, payload: Buffer.alloc(4) }, 5)).toThrow(TypeError);
  });

  it('rejects bad fields', () => {
    const buf = Buffer.alloc(16);
    expect(() => writeUdp(buf, 0, { srcPort: 65536, dstPort: 1 })).toThrow(RangeError);
    expect(() => writeUdp(buf, 10, { srcPort: 1, dstPort: 1 })).toThrow(RangeError);
    expect(() => writeUdp(buf, 0, { srcPort: 1, dstPort: 1, src: '1.2.3.4', dst: '::1' })).toThrow(TypeError);
    expect(() => udpChecksum(buf, 0, 4, '1.2.3.4', '1.2.3.4')).toThrow(RangeError);
  });
});

describe('TCP', () => {
  it('decodes the captured SYN (with options) and RST/ACK', () => {
    const [syn, rst] = captured('tcp4_rst');
    const s = parseTcpHeader(syn, 20)!;
    expect(s).toMatchObject({ dstPort: 9, headerLength: 40, syn: true, ack: false, rst: false, fin: false, flags: TCP_FLAG.SYN });
    const r = parseTcpHeader(rst, 20)!;
    expect(r).toMatchObject({ srcPort: 9, dstPort: s.srcPort, headerLength: 20, rst: true, ack: true, syn: false, window: 0 });
    expect(r.ackNumber).toBe((s.seq + 1) >>> 0);
    const r6 = parseTcpHeader(captured('tcp6_rst')[1], 40)!;
    expect(r6).toMatchObject({ rst: true, ack: true });
  });

  it('writes a 20-byte SYN probe that verifies, both families', () => {
    for (const [src, dst] of [['10.99.1.1', '10.99.4.2'], ['fd99:1::1', 'fd99:4::2']]) {
      const buf = Buffer.alloc(40);
      expect(writeTcpSyn(buf, 0, { srcPort: 50000, dstPort: 80, seq: 0xfedcba98, src, dst })).toBe(20);
      expect(verifyTcpChecksum(buf, 0, 20, src, dst)).toBe(true);
      const out = {} as TcpHeader;
      expect(parseTcpHeader(buf, 0, 20, out)).toBe(out);
      expect(out).toEqual({ srcPort: 50000, dstPort: 80, seq: 0xfedcba98, ackNumber: 0, headerLength: 20, flags: 2, syn: true, ack: false, rst: false, fin: false, window: 65535, checksum: buf.readUInt16BE(16), urgent: 0 });
      buf[5] ^= 1;
      expect(verifyTcpChecksum(buf, 0, 20, src, dst)).toBe(false);
    }
  });

  it('reproduces the kernel RST byte for byte', () => {
    const rst = captured('tcp4_rst')[1];
    const h = parseTcpHeader(rst, 20)!;
    const buf = Buffer.alloc(20);
    writeTcp(buf, 0, { srcPort: h.srcPort, dstPort: h.dstPort, seq: h.seq, ackNumber: h.ackNumber, flags: h.flags, window: h.window, src: '127.0.0.1', dst: '127.0.0.1' });
    expect(buf.equals(rst.subarray(20))).toBe(true);
  });

  it('writes SYN-ACK replies with payload for the simulator', () => {
    const buf = Buffer.alloc(40);
    const len = writeTcp(buf, 0, { srcPort: 80, dstPort: 50000, seq: 1, ackNumber: 0xffffffff, flags: TCP_FLAG.SYN | TCP_FLAG.ACK, payload: Buffer.from('x'), src: '::1', dst: '::1' });
    expect(len).toBe(21);
    expect(verifyTcpChecksum(buf, 0, len, '::1', '::1')).toBe(true);
    expect(parseTcpHeader(buf, 0)).toMatchObject({ syn: true, ack: true, ackNumber: 0xffffffff });
  });

  it('rejects bad fields and returns null on short input', () => {
    const buf = Buffer.alloc(40);
    expect(() => writeTcpSyn(buf, 0, { srcPort: 1, dstPort: 1, seq: 2 ** 32, src: '::1', dst: '::1' })).toThrow(RangeError);
    expect(() => writeTcpSyn(buf, 30, { srcPort: 1, dstPort: 1, seq: 1, src: '::1', dst: '::1' })).toThrow(RangeError);
    expect(() => writeTcpSyn(buf, 0, { srcPort: 1, dstPort: 1, seq: 1, src: '::1', dst: '1.1.1.1' })).toThrow(TypeError);
    expect(parseTcpHeader(strictBytes(buf.subarray(0, 19)), 0)).toBe(null);
    expect(verifyTcpChecksum(buf, 0, 10, '::1', '::1')).toBe(false);
  });
});
