import { describe, expect, it } from 'vitest';
import {
  ICMPV4_TYPE, ICMPV6_TYPE, addressBytes, echoReplyType, echoRequestType, ipv4HeaderLength, parseEcho,
  verifyChecksum, verifyTransportChecksum, writeEcho, writeEchoWithChecksum,
} from '../../src/packet/index.js';
import type { EchoMessage } from '../../src/packet/index.js';
import { captured, strictBytes } from '../fixtures/packets/captures.js';

describe('echo encode', () => {
  it('reproduces the request iputils ping sent, byte for byte', () => {
    for (const name of ['ping4', 'ping4_odd']) {
      const frame = captured(name)[0];
      const icmp = frame.subarray(ipv4HeaderLength(frame));
      const buf = Buffer.alloc(200, 0xee);
      const len = writeEcho(buf, 10, { family: 4, id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6), payload: icmp.subarray(8) });
      expect(len).toBe(icmp.length);
      expect(buf.subarray(10, 10 + len).equals(icmp)).toBe(true);
      expect(buf[9]).toBe(0xee);
      expect(buf[10 + len]).toBe(0xee);
    }
  });

  it('reproduces the kernel-checksummed ICMPv6 request when given the addresses', () => {
    const frame = captured('ping6')[0];
    const icmp = frame.subarray(40);
    const buf = Buffer.alloc(icmp.length);
    writeEcho(buf, 0, { family: 6, id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6), payload: icmp.subarray(8), src: '::1', dst: '::1' });
    expect(buf.equals(icmp)).toBe(true);
  });

  it('leaves the ICMPv6 checksum 0 for the kernel by default', () => {
    const buf = Buffer.alloc(16);
    expect(writeEcho(buf, 0, { family: 6, id: 1, seq: 2, payload: Buffer.from('abcdefgh') })).toBe(16);
    expect([buf[0], buf[2], buf[3]]).toEqual([128, 0, 0]);
  });

  it('uses a payload already in place without copying it', () => {
    const buf = Buffer.alloc(64);
    buf.write('cookie!!', 8);
    const len = writeEcho(buf, 0, { family: 4, type: ICMPV4_TYPE.ECHO_REPLY, id: 0xffff, seq: 0, payloadLength: 8 });
    expect(len).toBe(16);
    expect(buf.toString('latin1', 8, 16)).toBe('cookie!!');
    expect(verifyChecksum(buf, 0, len)).toBe(true);
    // Passing a view of the same bytes is also fine.
    expect(writeEcho(buf, 0, { family: 4, id: 1, seq: 1, payload: buf.subarray(8, 16) })).toBe(16);
    expect(buf.toString('latin1', 8, 16)).toBe('cookie!!');
  });

  it('rejects bad fields and too-small buffers', () => {
    const buf = Buffer.alloc(16);
    expect(() => writeEcho(buf, 0, { family: 4, id: 0x10000, seq: 0 })).toThrow(RangeError);
    expect(() => writeEcho(buf, 0, { family: 4, id: 0, seq: -1 })).toThrow(RangeError);
    expect(() => writeEcho(buf, 0, { family: 4, id: 0, seq: 1.5 })).toThrow(RangeError);
    expect(() => writeEcho(buf, 9, { family: 4, id: 0, seq: 0 })).toThrow(RangeError);
    expect(() => writeEcho(buf, 0, { family: 4, id: 0, seq: 0, payload: new Uint8Array(9) })).toThrow(RangeError);
  });

  it('knows each family\'s echo types', () => {
    expect([echoRequestType(4), echoReplyType(4), echoRequestType(6), echoReplyType(6)]).toEqual([8, 0, 128, 129]);
  });
});

describe('echo decode', () => {
  it('decodes captured requests and replies of both families', () => {
    const [req4, rep4] = captured('ping4');
    const r = parseEcho(rep4, 20, undefined, 4);
    expect(r).toEqual({ type: 0, code: 0, checksum: 0xa816, id: 0x108d, seq: 1, payloadOffset: 28, payloadLength: 56 });
    expect(parseEcho(req4, 20, undefined, 4)?.type).toBe(8);
    const rep6 = captured('ping6')[1];
    expect(parseEcho(rep6, 40, undefined, 6)).toMatchObject({ type: ICMPV6_TYPE.ECHO_REPLY, seq: 1, payloadOffset: 48, payloadLength: 56 });
    expect(verifyTransportChecksum(rep6, 40, 64, addressBytes('::1'), addressBytes('::1'), 58)).toBe(true);
  });

  it('finds the echo behind IP options', () => {
    const reply = captured('ping4_record_route')[1];
    const off = ipv4HeaderLength(reply);
    expect(off).toBe(60);
    expect(parseEcho(reply, off, undefined, 4)).toMatchObject({ type: 0, seq: 1, payloadLength: 56 });
    expect(verifyChecksum(reply, off, reply.length - off)).toBe(true);
  });

  it('fills a caller-provided object (no allocation per packet)', () => {
    const out = {} as EchoMessage;
    const frame = captured('ping4')[1];
    expect(parseEcho(frame, 20, frame.length - 20, 4, out)).toBe(out);
    expect(out.id).toBe(0x108d);
  });

  it('returns null for short input, the wrong family or non-echo types', () => {
    const frame = captured('ping4')[1];
    expect(parseEcho(strictBytes(frame.subarray(20, 27)), 0, undefined, 4)).toBe(null);
    expect(parseEcho(frame, 20, 7, 4)).toBe(null);
    expect(parseEcho(frame, 20, undefined, 6)).toBe(null);
    expect(parseEcho(captured('udp4_port_unreachable')[1], 20, undefined, 4)).toBe(null);
    expect(parseEcho(frame, 500, 8, 4)).toBe(null);
  });

  it('detects a corrupted IPv4 reply through its checksum', () => {
    const frame = Buffer.from(captured('ping4')[1]);
    frame[40] ^= 0x01;
    expect(verifyChecksum(frame, 20, frame.length - 20)).toBe(false);
  });
});

describe('Paris fixed checksum', () => {
  it('keeps the ICMPv4 checksum constant across sequence numbers', () => {
    const buf = Buffer.alloc(64);
    for (let seq = 0; seq < 2000; seq += 7) {
      const len = writeEchoWithChecksum(buf, 0, { family: 4, id: 0x4242, seq, payload: Buffer.alloc(32, seq & 0xff) }, 0xbeef);
      expect(buf.readUInt16BE(2)).toBe(0xbeef);
      expect(verifyChecksum(buf, 0, len)).toBe(true);
      expect(parseEcho(buf, 0, len, 4)).toMatchObject({ id: 0x4242, seq, checksum: 0xbeef });
    }
  });

  it('touches only the two compensation bytes', () => {
    const buf = Buffer.alloc(40);
    const payload = Buffer.from('0123456789abcdef');
    writeEchoWithChecksum(buf, 0, { family: 4, id: 1, seq: 2, payload }, 0x1234, 6);
    const written = buf.subarray(8, 24);
    for (let i = 0; i < 16; i++) if (i !== 6 && i !== 7) expect(written[i]).toBe(payload[i]);
  });

  it('handles the extreme checksums 0 and 0xffff and odd payload lengths', () => {
    const buf = Buffer.alloc(64);
    for (const c of [0, 1, 0xfffe, 0xffff]) {
      const len = writeEchoWithChecksum(buf, 0, { family: 4, id: 7, seq: 9, payload: Buffer.alloc(11, 0x5a) }, c, 8);
      expect(buf.readUInt16BE(2)).toBe(c);
      expect(verifyChecksum(buf, 0, len)).toBe(true);
    }
  });

  it('makes the kernel-computed ICMPv6 checksum come out constant (pseudo header included)', () => {
    const buf = Buffer.alloc(64);
    const src = 'fd99:1::1', dst = 'fd99:4::2';
    for (let seq = 0; seq < 300; seq += 11) {
      const len = writeEchoWithChecksum(buf, 0, { family: 6, id: 5, seq, payload: Buffer.alloc(24), src, dst }, 0x7777);
      expect(buf.readUInt16BE(2)).toBe(0x7777);
      expect(verifyTransportChecksum(buf, 0, len, addressBytes(src), addressBytes(dst), 58)).toBe(true);
      // What the kernel does: zero the field and compute.
      const copy = Buffer.from(buf.subarray(0, len)); copy[2] = 0; copy[3] = 0;
      const round = Buffer.alloc(len);
      writeEcho(round, 0, { family: 6, id: 5, seq, payload: copy.subarray(8), src, dst });
      expect(round.readUInt16BE(2)).toBe(0x7777);
    }
  });

  it('rejects a misplaced compensation word or missing IPv6 addresses', () => {
    const buf = Buffer.alloc(64);
    expect(() => writeEchoWithChecksum(buf, 0, { family: 4, id: 1, seq: 1, payload: Buffer.alloc(1) }, 5)).toThrow(RangeError);
    expect(() => writeEchoWithChecksum(buf, 0, { family: 4, id: 1, seq: 1, payload: Buffer.alloc(8) }, 5, 3)).toThrow(RangeError);
    expect(() => writeEchoWithChecksum(buf, 0, { family: 4, id: 1, seq: 1, payload: Buffer.alloc(8) }, 5, 8)).toThrow(RangeError);
    expect(() => writeEchoWithChecksum(buf, 0, { family: 6, id: 1, seq: 1, payload: Buffer.alloc(8) }, 5)).toThrow(TypeError);
    expect(() => writeEchoWithChecksum(buf, 0, { family: 4, id: 1, seq: 1, payload: Buffer.alloc(8) }, 0x10000)).toThrow(RangeError);
  });
});
