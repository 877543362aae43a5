// Matching answers to probes from what ICMP errors quote — honouring the quoted IP header length
// (options), surviving 8-byte quotes, rejecting other programs' packets, and flagging NAT
// rewrites — for every transport, driven through fake sockets that hand the real transports
// hand-made packets. Also: Paris flows keep the flow identifier constant, classic ones do not.
import { describe, expect, it } from 'vitest';
import type { IcmpMessage, IcmpSocket, QueuedError } from '../../src/socket/icmp-socket.js';
import type { SendBatch } from '../../src/socket/send-batch.js';
import { readU16, readU32 } from '../../src/packet/bytes.js';
import { writeIcmpError } from '../../src/packet/icmp-error-build.js';
import { writeEcho } from '../../src/packet/icmp.js';
import { writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeIPv6Header } from '../../src/packet/ipv6.js';
import { writeTcp, TCP_FLAG } from '../../src/packet/tcp.js';
import { verifyUdpChecksum } from '../../src/packet/udp.js';
import type { ProbeReply } from '../../src/traceroute/transport.js';
import type { TransportConfig } from '../../src/traceroute/transports/transport-config.js';
import { IcmpTransport } from '../../src/traceroute/transports/icmp-transport.js';
import type { ProbeSocket, ReceivedDatagram } from '../../src/socket/probe-socket.js';
import { TcpSynTransport } from '../../src/traceroute/transports/tcp-syn-transport.js';
import { UdpDgramTransport } from '../../src/traceroute/transports/udp-dgram-transport.js';
import { UdpRawTransport } from '../../src/traceroute/transports/udp-raw-transport.js';
import { FakeClock } from '../sim/fake-network.js';

const SRC = '10.0.0.1', DST = '10.9.9.9', ROUTER = '10.1.1.1';
const SRC6 = 'fd00::1', DST6 = 'fd09::9';

/** Stands in for IcmpSocket / ProbeSocket: records what is sent, hands out queued messages. */
class FakeSocket {
  readonly mode: 'raw' | 'dgram';
  readonly identifier = 0x4242;
  readonly family: 4 | 6;
  readonly sent: Buffer[] = [];
  private inbox: Array<{ errorQueue: boolean; m: IcmpMessage | ReceivedDatagram }> = [];
  private onEvent: ((readable: boolean, errorQueue: boolean) => void) | null = null;
  constructor(family: 4 | 6, mode: 'raw' | 'dgram' = 'raw') {
    this.family = family;
    this.mode = mode;
  }
  start(cb: (readable: boolean, errorQueue: boolean) => void): void {
    this.onEvent = cb;
  }
  send(batch: SendBatch): number {
    for (let i = 0; i < batch.count; i++) {
      const off = batch.desc[i * 8]!, len = batch.desc[i * 8 + 1]!;
      this.sent.push(Buffer.from(batch.data.subarray(off, off + len)));
    }
    return batch.count;
  }
  drain(errorQueue: boolean, onMessage: (m: never) => void): number {
    const mine = this.inbox.filter((x) => x.errorQueue === errorQueue);
    this.inbox = this.inbox.filter((x) => x.errorQueue !== errorQueue);
    for (const x of mine) onMessage(x.m as never);
    return mine.length;
  }
  close(): void {}
  /** Queues a message and signals the transport, as the poller would. */
  deliver(m: Partial<IcmpMessage & ReceivedDatagram> & { buf: Buffer }, errorQueue = false): void {
    this.inbox.push({
      errorQueue,
      m: { offset: 0, length: m.buf.length, truncated: false, from: ROUTER, port: 0, ttl: 60, rxSec: 0, rxNsec: 1_000_000, queued: null, eeData: 0, ...m },
    });
    this.onEvent?.(!errorQueue, errorQueue);
  }
}

function config(family: 4 | 6, flow: 'paris' | 'classic', extra: Partial<TransportConfig> = {}): TransportConfig {
  return {
    family, target: family === 4 ? DST : DST6, source: family === 4 ? SRC : SRC6, port: 33434, flow,
    pmtu: 'dont', extensions: true, clock: new FakeClock(), ...extra,
  };
}

function collect(t: { start(cb: (r: ProbeReply) => void, f: (e: Error) => void): void }): ProbeReply[] {
  const replies: ProbeReply[] = [];
  t.start((r) => replies.push(r), (e) => { throw e; });
  return replies;
}

/** The probe as an IPv4 router quotes it: a header (with `optionBytes` of options) then the probe. */
function quoteV4(probe: Uint8Array, protocol: number, opts: { optionBytes?: number; src?: string; dst?: string; cut?: number } = {}): Uint8Array {
  const options = opts.optionBytes ? new Uint8Array(opts.optionBytes).fill(1) : undefined; // NOPs
  const header = new Uint8Array(60);
  const hl = writeIPv4Header(header, 0, { totalLength: 20 + (opts.optionBytes ?? 0) + probe.length, ttl: 1, protocol, src: opts.src ?? SRC, dst: opts.dst ?? DST, options });
  const q = new Uint8Array(hl + probe.length);
  q.set(header.subarray(0, hl));
  q.set(probe, hl);
  return opts.cut !== undefined ? q.subarray(0, hl + opts.cut) : q;
}

function quoteV6(probe: Uint8Array, nextHeader: number): Uint8Array {
  const q = new Uint8Array(40 + probe.length);
  writeIPv6Header(q, 0, { payloadLength: probe.length, nextHeader, hopLimit: 1, src: SRC6, dst: DST6 });
  q.set(probe, 40);
  return q;
}

function icmpError(family: 4 | 6, type: number, code: number, quote: Uint8Array, mtu?: number): Buffer {
  const buf = Buffer.alloc(1500);
  const len = writeIcmpError(buf, 0, { family, type, code, quote, mtu });
  return buf.subarray(0, len);
}

describe('ICMP probes', () => {
  it('matches a time-exceeded quoting the probe behind an IPv4 header with options, RTT from kernel stamps', () => {
    const sock = new FakeSocket(4);
    const t = new IcmpTransport(sock as unknown as IcmpSocket, config(4, 'paris'));
    const replies = collect(t);
    t.send([{ id: 7, ttl: 3, length: 60 }]);
    expect(sock.sent[0]!.length).toBe(40);
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(sock.sent[0]!, 1, { optionBytes: 8 })) });
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ id: 7, from: ROUTER, icmp: { type: 11, code: 0 }, final: false, reached: false, annotation: null, replyTtl: 60, flags: [] });
    expect(replies[0]!.stamp).toBe(1);
  });

  it('Paris keeps the ICMP checksum constant across probes; classic does not', () => {
    const paris = new FakeSocket(4);
    new IcmpTransport(paris as unknown as IcmpSocket, config(4, 'paris')).send([{ id: 1, ttl: 1, length: 60 }, { id: 2, ttl: 2, length: 60 }]);
    expect(readU16(paris.sent[0]!, 6)).not.toBe(readU16(paris.sent[1]!, 6));
    expect(readU16(paris.sent[0]!, 2)).toBe(readU16(paris.sent[1]!, 2));
    const classic = new FakeSocket(4);
    new IcmpTransport(classic as unknown as IcmpSocket, config(4, 'classic')).send([{ id: 1, ttl: 1, length: 60 }, { id: 2, ttl: 2, length: 60 }]);
    expect(readU16(classic.sent[0]!, 2)).not.toBe(readU16(classic.sent[1]!, 2));
  });

  it('flags a NAT that rewrote the quoted source address or checksum, and still matches', () => {
    const sock = new FakeSocket(4);
    const t = new IcmpTransport(sock as unknown as IcmpSocket, config(4, 'paris'));
    const replies = collect(t);
    t.send([{ id: 1, ttl: 5, length: 60 }, { id: 2, ttl: 6, length: 60 }]);
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(sock.sent[0]!, 1, { src: '192.168.1.10' })) });
    const rewritten = Buffer.from(sock.sent[1]!);
    rewritten[2] ^= 0x55; // checksum as a NAT that changed the echo id left it
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(rewritten, 1)) });
    expect(replies.map((r) => [r.id, r.flags])).toEqual([[1, ['nat']], [2, ['nat']]]);
  });

  it('ignores errors about other programs\' echoes: other identifier, unknown sequence, foreign cookie', () => {
    const sock = new FakeSocket(4);
    const t = new IcmpTransport(sock as unknown as IcmpSocket, config(4, 'paris'));
    const replies = collect(t);
    t.send([{ id: 1, ttl: 5, length: 60 }]);
    const other = Buffer.from(sock.sent[0]!);
    other.writeUInt16BE(0x1111, 4);
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(other, 1)) });
    const unknown = Buffer.alloc(40);
    writeEcho(unknown, 0, { family: 4, id: sock.identifier, seq: 999, payloadLength: 32 });
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(unknown, 1)) });
    const foreign = Buffer.from(sock.sent[0]!);
    foreign[8 + 5] ^= 1; // same id and sequence, another cookie in the payload
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(foreign, 1)) });
    expect(replies).toEqual([]);
    // and an 8-byte quote (RFC 792 minimum) still names the probe
    sock.deliver({ buf: icmpError(4, 11, 0, quoteV4(sock.sent[0]!, 1, { cut: 8 })) });
    expect(replies.map((r) => r.id)).toEqual([1]);
  });

  it('an echo reply from the target is reached; from elsewhere it ends the trace, flagged, without reaching it; a damaged one is dropped', () => {
    const sock = new FakeSocket(4);
    const t = new IcmpTransport(sock as unknown as IcmpSocket, config(4, 'paris'));
    const replies = collect(t);
    t.send([{ id: 1, ttl: 9, length: 60 }, { id: 2, ttl: 10, length: 60 }, { id: 3, ttl: 11, length: 60 }]);
    const reply = (i: number): Buffer => {
      const b = Buffer.from(sock.sent[i]!);
      b[0] = 0;
      b.writeUInt16BE(0, 2);
      writeEcho(b, 0, { family: 4, type: 0, id: sock.identifier, seq: readU16(b, 6), payloadLength: b.length - 8 });
      return b;
    };
    sock.deliver({ buf: reply(0), from: DST });
    sock.deliver({ buf: reply(1), from: '10.7.7.7' });
    const damaged = reply(2);
    damaged[20] ^= 0xff;
    sock.deliver({ buf: damaged, from: DST });
    expect(replies.map((r) => [r.id, r.reached, r.final, r.flags])).toEqual([[1, true, true, []], [2, false, true, ['different-address']]]);
  });

  it('ping sockets: errors from the error queue, offender as the hop, MPLS from the queued payload', () => {
    const sock = new FakeSocket(4, 'dgram');
    const t = new IcmpTransport(sock as unknown as IcmpSocket, config(4, 'paris'));
    const replies = collect(t);
    t.send([{ id: 4, ttl: 2, length: 60 }]);
    const queued: QueuedError = { errno: 113, origin: 2, type: 11, code: 0, info: 0, offender: ROUTER };
    // what the kernel queues: the quoted echo (header + payload)
    sock.deliver({ buf: Buffer.from(sock.sent[0]!), from: DST, queued }, true);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ id: 4, from: ROUTER, icmp: { type: 11, code: 0 }, final: false });
  });
});

describe('UDP probes on raw sockets', () => {
  function setup(flow: 'paris' | 'classic', family: 4 | 6 = 4): { t: UdpRawTransport; sender: FakeSocket; errors: FakeSocket; replies: ProbeReply[] } {
    const sender = new FakeSocket(family), errors = new FakeSocket(family);
    const t = new UdpRawTransport(sender as unknown as ProbeSocket, errors as unknown as IcmpSocket, 40000, config(family, flow), () => {});
    return { t, sender, errors, replies: collect(t) };
  }

  it('Paris: one source and destination port, the sequence in a valid UDP checksum', () => {
    const { t, sender } = setup('paris');
    t.send([{ id: 1, ttl: 1, length: 60 }, { id: 2, ttl: 2, length: 60 }]);
    for (const p of sender.sent) {
      expect([readU16(p, 0), readU16(p, 2)]).toEqual([40000, 33434]);
      expect(verifyUdpChecksum(p, 0, p.length, SRC, DST)).toBe(true);
    }
    expect(readU16(sender.sent[0]!, 6)).not.toBe(readU16(sender.sent[1]!, 6));
  });

  it('classic: the destination port counts up per probe', () => {
    const { t, sender } = setup('classic');
    t.send([{ id: 1, ttl: 1, length: 60 }, { id: 2, ttl: 2, length: 60 }]);
    expect(sender.sent.map((p) => readU16(p, 2))).toEqual([33434, 33435]);
  });

  it('matches 8-byte quotes by checksum (Paris) or port (classic); port unreachable from the target = reached', () => {
    for (const flow of ['paris', 'classic'] as const) {
      const { t, sender, errors, replies } = setup(flow);
      t.send([{ id: 1, ttl: 3, length: 60 }, { id: 2, ttl: 4, length: 60 }]);
      errors.deliver({ buf: icmpError(4, 11, 0, quoteV4(sender.sent[1]!, 17, { cut: 8 })) });
      errors.deliver({ buf: icmpError(4, 3, 3, quoteV4(sender.sent[0]!, 17)), from: DST });
      expect(replies.map((r) => [r.id, r.from, r.final, r.reached])).toEqual([[2, ROUTER, false, false], [1, DST, true, true]]);
    }
  });

  it('a port unreachable from another address ends the trace without reaching the target', () => {
    const { t, sender, errors, replies } = setup('paris');
    t.send([{ id: 1, ttl: 5, length: 60 }]);
    errors.deliver({ buf: icmpError(4, 3, 3, quoteV4(sender.sent[0]!, 17)), from: ROUTER });
    expect(replies.map((r) => [r.id, r.from, r.final, r.reached])).toEqual([[1, ROUTER, true, false]]);
  });

  it('NAT: a rewritten checksum still matches through the payload and is flagged', () => {
    const { t, sender, errors, replies } = setup('paris');
    t.send([{ id: 9, ttl: 3, length: 60 }]);
    const natted = Buffer.from(sender.sent[0]!);
    natted.writeUInt16BE(0x1234, 6);
    errors.deliver({ buf: icmpError(4, 11, 0, quoteV4(natted, 17)) });
    expect(replies.map((r) => [r.id, r.flags])).toEqual([[9, ['nat']]]);
  });

  it('IPv6: packet too big gives !F-<mtu> with the MTU', () => {
    const { t, sender, errors, replies } = setup('paris', 6);
    t.send([{ id: 1, ttl: 2, length: 1500 }]);
    errors.deliver({ buf: icmpError(6, 2, 0, quoteV6(sender.sent[0]!.subarray(0, 200), 17), 1280) });
    expect(replies[0]).toMatchObject({ id: 1, annotation: '!F-1280', mtu: 1280, final: true });
  });
});

describe('UDP probes without privilege (error queue)', () => {
  function setup(flow: 'paris' | 'classic'): { t: UdpDgramTransport; sock: FakeSocket; replies: ProbeReply[] } {
    const sock = new FakeSocket(4, 'dgram');
    const t = new UdpDgramTransport(sock as unknown as ProbeSocket, config(4, flow));
    return { t, sock, replies: collect(t) };
  }
  const te: QueuedError = { errno: 113, origin: 2, type: 11, code: 0, info: 0, offender: ROUTER };

  it('Paris: the quoted payload names the probe; a quote without payload cannot (stays *)', () => {
    const { t, sock, replies } = setup('paris');
    t.send([{ id: 1, ttl: 1, length: 60 }, { id: 2, ttl: 2, length: 60 }]);
    expect(sock.sent.map((p) => p.length)).toEqual([32, 32]);
    sock.deliver({ buf: sock.sent[1]!, from: DST, port: 33434, queued: te }, true);
    sock.deliver({ buf: Buffer.alloc(0), from: DST, port: 33434, queued: te }, true);
    expect(replies.map((r) => [r.id, r.from])).toEqual([[2, ROUTER]]);
  });

  it('classic: the original destination port names the probe even without payload', () => {
    const { t, sock, replies } = setup('classic');
    t.send([{ id: 1, ttl: 1, length: 60 }, { id: 2, ttl: 2, length: 60 }]);
    sock.deliver({ buf: Buffer.alloc(0), from: DST, port: 33435, queued: te }, true);
    sock.deliver({ buf: sock.sent[0]!, from: DST, port: 33434, queued: { ...te, type: 3, code: 3, offender: DST } }, true);
    expect(replies.map((r) => [r.id, r.reached])).toEqual([[2, false], [1, true]]);
  });

  it('ignores errors about datagrams to other destinations', () => {
    const { t, sock, replies } = setup('classic');
    t.send([{ id: 1, ttl: 1, length: 60 }]);
    sock.deliver({ buf: sock.sent[0]!, from: '10.3.3.3', port: 33434, queued: te }, true);
    expect(replies).toEqual([]);
  });
});

describe('TCP SYN probes', () => {
  function setup(): { t: TcpSynTransport; sender: FakeSocket; errors: FakeSocket; replies: ProbeReply[] } {
    const sender = new FakeSocket(4), errors = new FakeSocket(4);
    const t = new TcpSynTransport(sender as unknown as ProbeSocket, errors as unknown as IcmpSocket, 45000, config(4, 'paris', { port: 443 }), () => {});
    return { t, sender, errors, replies: collect(t) };
  }

  function answer(syn: Buffer, flags: number, ackDelta = 1): Buffer {
    const b = Buffer.alloc(20);
    writeTcp(b, 0, { srcPort: 443, dstPort: readU16(syn, 0), seq: 777, ackNumber: (readU32(syn, 4) + ackDelta) >>> 0, flags, src: DST, dst: SRC });
    return b;
  }

  it('matches quoted SYNs by ports and sequence, answers by ack = seq + 1; SYN-ACK and RST mean reached', () => {
    const { t, sender, errors, replies } = setup();
    t.send([{ id: 1, ttl: 2, length: 40 }, { id: 2, ttl: 8, length: 40 }, { id: 3, ttl: 9, length: 40 }]);
    expect(sender.sent.every((p) => p[13] === TCP_FLAG.SYN && readU16(p, 0) === 45000 && readU16(p, 2) === 443)).toBe(true);
    errors.deliver({ buf: icmpError(4, 11, 0, quoteV4(sender.sent[0]!, 6, { optionBytes: 4, cut: 8 })) });
    sender.deliver({ buf: answer(sender.sent[1]!, TCP_FLAG.SYN | TCP_FLAG.ACK), from: DST });
    sender.deliver({ buf: answer(sender.sent[2]!, TCP_FLAG.RST | TCP_FLAG.ACK), from: DST });
    expect(replies.map((r) => [r.id, r.from, r.final, r.reached, r.icmp?.type ?? null])).toEqual([
      [1, ROUTER, false, false, 11], [2, DST, true, true, null], [3, DST, true, true, null],
    ]);
  });

  it('ignores answers that acknowledge another sequence, come from another port, or are plain ACKs', () => {
    const { t, sender, replies } = setup();
    t.send([{ id: 1, ttl: 8, length: 40 }]);
    sender.deliver({ buf: answer(sender.sent[0]!, TCP_FLAG.RST | TCP_FLAG.ACK, 2), from: DST });
    const otherPort = answer(sender.sent[0]!, TCP_FLAG.RST | TCP_FLAG.ACK);
    otherPort.writeUInt16BE(444, 0);
    sender.deliver({ buf: otherPort, from: DST });
    sender.deliver({ buf: answer(sender.sent[0]!, TCP_FLAG.ACK), from: DST });
    expect(replies).toEqual([]);
  });
});
