// What a received ICMP message means to a run: echo replies checked against identifier,
// sequence, cookie and checksum; ICMP errors quoting our probes (raw: the packet, ping
// sockets: the error queue); local errors; and the payload layout behind the checks.
import { describe, expect, it } from 'vitest';
import type { IcmpMessage, QueuedError } from '../../src/socket/icmp-socket.js';
import { writeEcho } from '../../src/packet/icmp.js';
import { writeIcmpError } from '../../src/packet/icmp-error-build.js';
import { writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeIPv6Header } from '../../src/packet/ipv6.js';
import { verifyChecksum } from '../../src/packet/checksum.js';
import { EchoTemplate } from '../../src/ping/echo-template.js';
import { PayloadLayout, parsePattern } from '../../src/ping/payload.js';
import { classifyMessage, newMatchResult, type MatchContext } from '../../src/ping/reply-matcher.js';

const COOKIE = Buffer.from('0123456789abcdef', 'hex');
const ID = 0x1234;

function echo(family: 4 | 6, type: number, seq32: number, payload: PayloadLayout, id = ID): Buffer {
  const buf = Buffer.alloc(8 + payload.size);
  payload.write(buf, 8, seq32);
  writeEcho(buf, 0, { family, type, id, seq: seq32 & 0xffff, payloadLength: payload.size });
  return buf;
}

function message(buf: Buffer, from: string, queued: QueuedError | null = null): IcmpMessage {
  return { buf, offset: 0, length: buf.length, truncated: false, from, ttl: 64, tos: 0, rxSec: 1, rxNsec: 0, queued };
}

function ctx(family: 4 | 6, mode: 'raw' | 'dgram', size = 56): MatchContext {
  return { family, mode, identifier: ID, payload: new PayloadLayout(size, null, COOKIE) };
}

/** An ICMP error quoting our echo request to dst (IP header + the whole echo). */
function icmpError(family: 4 | 6, type: number, code: number, dst: string, request: Buffer, mtu?: number): Buffer {
  const ipLen = family === 4 ? 20 : 40;
  const quote = Buffer.alloc(ipLen + request.length);
  if (family === 4) writeIPv4Header(quote, 0, { totalLength: quote.length, ttl: 1, protocol: 1, src: '10.0.0.1', dst });
  else writeIPv6Header(quote, 0, { payloadLength: request.length, nextHeader: 58, hopLimit: 1, src: 'fd00::1', dst });
  request.copy(quote, ipLen);
  const out = Buffer.alloc(8 + quote.length);
  writeIcmpError(out, 0, { family, type, code, mtu, quote });
  return out;
}

describe('payload', () => {
  it('carries the 32-bit sequence, the cookie, then the fill: byte index or the pattern repeated', () => {
    const p = new PayloadLayout(20, null, COOKIE);
    const b = Buffer.alloc(20);
    p.write(b, 0, 0x01020304);
    expect(b.toString('hex')).toBe('01020304' + '0123456789abcdef' + '0c0d0e0f10111213');
    const q = new PayloadLayout(16, parsePattern('abc'), COOKIE);
    const c = Buffer.alloc(16);
    q.write(c, 0, 1);
    expect(c.subarray(12).toString('hex')).toBe('ab0cab0c');
    expect(q.firstBadByte(c, 0, 16)).toBe(-1);
    c[14] = 0;
    expect(q.firstBadByte(c, 0, 16)).toBe(14);
    expect(q.firstBadByte(c, 0, 13)).toBe(13);
    expect(q.expectedByte(14, 1)).toBe(0xab);
  });

  it('fits what it can of the head in a short payload', () => {
    const p = new PayloadLayout(6, null, COOKIE);
    const b = Buffer.alloc(6);
    p.write(b, 0, 7);
    expect(b.toString('hex')).toBe('000000070123');
    expect(p.cookieMatches(b, 0, 6)).toBe(true);
    b[5] = 0;
    expect(p.cookieMatches(b, 0, 6)).toBe(false);
  });

  it('parses -p patterns as iputils does', () => {
    expect(parsePattern('ff00')!.toString('hex')).toBe('ff00');
    expect(parsePattern('abc')!.toString('hex')).toBe('ab0c');
    expect(parsePattern('zz')).toBeNull();
    expect(parsePattern('0'.repeat(40))!.length).toBe(16);
  });
});

describe('echo requests from the template', () => {
  it('equal an echo encoded from scratch, IPv4 checksum included, for any sequence and size', () => {
    for (const size of [0, 3, 4, 11, 12, 13, 56, 1472]) {
      for (const family of [4, 6] as const) {
        const payload = new PayloadLayout(size, size > 20 ? parsePattern('ff00a5') : null, COOKIE);
        const template = new EchoTemplate(family, ID, payload);
        for (const seq32 of [0, 1, 0xffff, 0x10000, 0x12345678, 0xfffffffe, 0xffffffff]) {
          const got = Buffer.alloc(8 + size + 4, 0xaa);
          expect(template.write(got, 2, seq32)).toBe(8 + size);
          const want = echo(family, family === 4 ? 8 : 128, seq32, payload);
          expect(got.subarray(2, 2 + 8 + size).toString('hex'), `size ${size} seq ${seq32}`).toBe(want.toString('hex'));
          if (family === 4) expect(verifyChecksum(got, 2, 8 + size)).toBe(true);
          expect(got[0]).toBe(0xaa);
        }
      }
    }
  });
});

describe('echo replies', () => {
  const c4 = ctx(4, 'raw');
  it('accepts ours and reads both sequences', () => {
    const r = classifyMessage(message(echo(4, 0, 0x12345, c4.payload), '127.0.0.1'), c4, newMatchResult());
    expect(r).toMatchObject({ kind: 'reply', wireSeq: 0x2345, seq32: 0x12345, checksumOk: true, payloadOffset: 8, payloadLength: 56 });
  });

  it('notices a bad IPv4 checksum on raw sockets only', () => {
    const buf = echo(4, 0, 9, c4.payload);
    buf[2]! ^= 1;
    expect(classifyMessage(message(buf, '127.0.0.1'), c4, newMatchResult()).checksumOk).toBe(false);
    expect(classifyMessage(message(buf, '127.0.0.1'), ctx(4, 'dgram'), newMatchResult()).checksumOk).toBe(true);
  });

  it('ignores another identifier, another cookie, a sequence that disagrees with the payload, a request', () => {
    const out = newMatchResult();
    expect(classifyMessage(message(echo(4, 0, 9, c4.payload, ID + 1), '127.0.0.1'), c4, out).reason).toBe('another identifier');
    const other = new PayloadLayout(56, null, Buffer.alloc(8, 7));
    expect(classifyMessage(message(echo(4, 0, 9, other), '127.0.0.1'), c4, out).reason).toBe('another cookie');
    const skew = echo(4, 0, 9, c4.payload);
    skew.writeUInt16BE(10, 6);
    expect(classifyMessage(message(skew, '127.0.0.1'), c4, out).reason).toBe('sequence disagrees with the payload');
    expect(classifyMessage(message(echo(4, 8, 9, c4.payload), '127.0.0.1'), c4, out).kind).toBe('ignore');
    expect(classifyMessage(message(Buffer.alloc(4), '127.0.0.1'), c4, out).kind).toBe('ignore');
  });

  it('matches ICMPv6 echo replies (type 129)', () => {
    const c6 = ctx(6, 'dgram');
    expect(classifyMessage(message(echo(6, 129, 3, c6.payload), '::1'), c6, newMatchResult())).toMatchObject({ kind: 'reply', seq32: 3 });
  });

  it('falls back to the wire sequence when the payload is too short for its head', () => {
    const c = ctx(4, 'raw', 2);
    expect(classifyMessage(message(echo(4, 0, 0x10005, c.payload), '127.0.0.1'), c, newMatchResult())).toMatchObject({ kind: 'reply', wireSeq: 5, seq32: -1 });
  });
});

describe('ICMP errors', () => {
  it('reads an IPv4 error packet on a raw socket: type, code, MTU, router, quoted destination and sequence', () => {
    const c4 = ctx(4, 'raw');
    const request = echo(4, 8, 0x20007, c4.payload);
    const r = classifyMessage(message(icmpError(4, 3, 4, '10.9.0.1', request, 1400), '10.0.2.2'), c4, newMatchResult());
    expect(r).toMatchObject({ kind: 'icmp-error', type: 3, code: 4, mtu: 1400, router: '10.0.2.2', destination: '10.9.0.1', wireSeq: 7, seq32: 0x20007 });
  });

  it('reads an IPv6 error packet (time exceeded) and skips one about another identifier', () => {
    const c6 = ctx(6, 'raw');
    const request = echo(6, 128, 4, c6.payload);
    expect(classifyMessage(message(icmpError(6, 3, 0, 'fd00::9', request), 'fd00::2'), c6, newMatchResult())).toMatchObject({ kind: 'icmp-error', type: 3, code: 0, router: 'fd00::2', seq32: 4 });
    const foreign = echo(6, 128, 4, c6.payload, ID + 1);
    expect(classifyMessage(message(icmpError(6, 1, 0, 'fd00::9', foreign), 'fd00::2'), c6, newMatchResult()).kind).toBe('ignore');
  });

  it('matches on the 8 quoted bytes alone when a router quotes no more', () => {
    const c4 = ctx(4, 'raw');
    const request = echo(4, 8, 11, c4.payload).subarray(0, 8);
    expect(classifyMessage(message(icmpError(4, 11, 0, '10.9.0.1', Buffer.from(request)), '10.0.1.2'), c4, newMatchResult())).toMatchObject({ kind: 'icmp-error', wireSeq: 11, seq32: -1 });
  });

  it('reads ping-socket errors from the error queue, and leaves raw sockets to the packet', () => {
    const c = ctx(4, 'dgram');
    const request = echo(4, 8, 5, c.payload);
    const q: QueuedError = { errno: 113, origin: 2, type: 3, code: 1, info: 0, offender: '10.0.3.2' };
    expect(classifyMessage(message(request, '10.9.0.1', q), c, newMatchResult())).toMatchObject({ kind: 'icmp-error', type: 3, code: 1, router: '10.0.3.2', destination: '10.9.0.1', seq32: 5 });
    expect(classifyMessage(message(request, '10.9.0.1', q), ctx(4, 'raw'), newMatchResult()).kind).toBe('ignore');
    const ptb: QueuedError = { errno: 90, origin: 3, type: 2, code: 0, info: 1280, offender: 'fd00::2' };
    expect(classifyMessage(message(echo(6, 128, 5, c.payload), 'fd00::9', ptb), ctx(6, 'dgram'), newMatchResult())).toMatchObject({ kind: 'icmp-error', mtu: 1280 });
  });

  it('passes local errors (EMSGSIZE with the MTU) through for both modes', () => {
    const q: QueuedError = { errno: 90, origin: 1, type: 0, code: 0, info: 1400, offender: null };
    for (const mode of ['raw', 'dgram'] as const) {
      expect(classifyMessage(message(Buffer.alloc(0), '10.9.0.1', q), ctx(4, mode), newMatchResult())).toMatchObject({ kind: 'local-error', errno: 90, mtu: 1400, destination: '10.9.0.1' });
    }
  });

  it('leaves redirects and source quench alone (they do not end a probe)', () => {
    const c4 = ctx(4, 'raw');
    const request = echo(4, 8, 5, c4.payload);
    expect(classifyMessage(message(icmpError(4, 5, 1, '10.9.0.1', request), '10.0.0.1'), c4, newMatchResult()).kind).toBe('ignore');
  });
});
