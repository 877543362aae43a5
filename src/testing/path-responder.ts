// The network behind a TUN device, as a script: probes the kernel routes into the TUN are read
// here and answered as a path of hops would — time exceeded from hop k for TTL k, the
// destination's echo reply / port unreachable / TCP RST past the last hop — with per-hop delay,
// loss, reordering, duplicates, RFC 4884/4950 extensions, NAT-rewritten quotes, malformed
// packets and unreachable codes, things kernels in namespaces cannot be made to do.
import { native, type Poller } from '../native.js';
import { testingAddon } from './tun-addon.js';
import { readU16, readU32 } from '../packet/bytes.js';
import { internetChecksum, pseudoHeaderSum } from '../packet/checksum.js';
import { writeIcmpError } from '../packet/icmp-error-build.js';
import { mplsExtensionObject, type MplsLabelStackEntry } from '../packet/icmp-extensions.js';
import { writeEcho } from '../packet/icmp.js';
import { parseIPv4Header, writeIPv4Header } from '../packet/ipv4.js';
import { parseIPv6Header, skipIPv6ExtensionHeaders, writeIPv6Header } from '../packet/ipv6.js';
import { toAddressBytes } from '../packet/address.js';
import { TCP_FLAG, writeTcp } from '../packet/tcp.js';

export interface SimHop {
  v4: string;
  v6: string;
  /** ms before the answer leaves (default 0) */
  delayMs?: number;
  /** extra delay for the n-th probe reaching this hop (reordering: make earlier ones slower) */
  extraDelay?: (n: number) => number;
  /** answer only the probes for which this says yes (n counts probes reaching this hop) */
  answers?: (n: number) => boolean;
  /** send every answer twice */
  duplicate?: boolean;
  mpls?: MplsLabelStackEntry[];
  extensionForm?: 'compliant' | 'non-compliant';
  /** quote only the IP header + 8 bytes (RFC 792 minimum) */
  shortQuote?: boolean;
  /** rewrite the quote as a NAT that did not restore it: the source address, or the transport checksum */
  nat?: 'source' | 'checksum';
  /** answer with destination unreachable of this code instead of time exceeded (ends the path here) */
  unreachableCode?: number;
  /** malformed answers sent before the real one */
  malformed?: boolean;
  /** reply TTL (default 64 - hop index) */
  replyTtl?: number;
  /** up to this many ms more, uniformly at random, per answer (on top of delayMs) */
  jitterMs?: number;
  /** ICMP rate limiting as a router does it: a token bucket of `burst` answers refilled at `perSecond` */
  rateLimit?: { perSecond: number; burst: number };
  /** other routers at this distance: a load balancer in front spreads probes over them and this hop */
  alternates?: Array<{ v4: string; v6: string }>;
  /** how alternates are chosen: per probe in turn, or by a hash of the flow (default) */
  balance?: 'per-packet' | 'per-flow';
}

export interface SimScenario {
  hops: SimHop[];
  /** the destination's addresses; probes past the last hop reach it */
  destination: { v4: string; v6: string; delayMs?: number; tcpOpenPorts?: number[]; silent?: boolean };
}

interface Probe {
  family: 4 | 6;
  /** the whole IP packet */
  packet: Uint8Array;
  src: string;
  dst: string;
  ttl: number;
  protocol: number;
  /** offset of the transport header */
  l4: number;
}

const SLOT = 65536;

/**
 * What a per-flow load balancer hashes beyond the addresses: the ports of UDP and TCP, the
 * first 4 bytes (type, code, checksum) of ICMP.
 */
function flowOf(p: Probe): string {
  const b = p.packet;
  if (p.protocol === 17 || p.protocol === 6) return `${readU16(b, p.l4)}>${readU16(b, p.l4 + 2)}`;
  return `${b[p.l4]}/${b[p.l4 + 1]}/${readU16(b, p.l4 + 2)}`;
}

export class PathResponder {
  private readonly n = native();
  private readonly tun = testingAddon();
  private poller: Poller | null = null;
  private readonly rbuf = Buffer.alloc(SLOT * 4);
  private readonly lengths = new Int32Array(4);
  private readonly perHop = new Map<number, number>();
  private readonly buckets = new Map<number, { tokens: number; at: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** every probe seen, for assertions */
  readonly seen: Array<{ family: 4 | 6; ttl: number; protocol: number; length: number; flow: string }> = [];
  private closed = false;

  constructor(private readonly fd: number, private scenario: SimScenario) {}

  start(): void {
    this.poller = new this.n.Poller(this.fd, () => this.read());
    this.poller.start(1);
  }

  /** Replaces the script (counters restart). */
  setScenario(s: SimScenario): void {
    this.scenario = s;
    this.perHop.clear();
    this.buckets.clear();
    this.seen.length = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.poller?.close();
  }

  private read(): void {
    for (;;) {
      const got = this.tun.readPackets(this.fd, this.rbuf, SLOT, 4, this.lengths);
      for (let i = 0; i < got; i++) this.handle(new Uint8Array(this.rbuf.subarray(i * SLOT, i * SLOT + this.lengths[i]!)));
      if (got < 4) return;
    }
  }

  private parse(pkt: Uint8Array): Probe | null {
    if (pkt.length < 1) return null;
    if (pkt[0]! >> 4 === 4) {
      const h = parseIPv4Header(pkt, 0, pkt.length);
      if (!h || h.fragmentOffset !== 0) return null;
      return { family: 4, packet: pkt, src: h.src, dst: h.dst, ttl: h.ttl, protocol: h.protocol, l4: h.headerLength };
    }
    const h = parseIPv6Header(pkt, 0, pkt.length);
    if (!h) return null;
    const upper = skipIPv6ExtensionHeaders(pkt, 40, pkt.length - 40, h.nextHeader);
    if (!upper || upper.fragment) return null;
    return { family: 6, packet: pkt, src: h.src, dst: h.dst, ttl: h.hopLimit, protocol: upper.protocol, l4: upper.offset };
  }

  private handle(pkt: Uint8Array): void {
    const p = this.parse(pkt);
    const { hops, destination } = this.scenario;
    if (!p || (p.dst !== (p.family === 4 ? destination.v4 : destination.v6))) return;
    // neighbour discovery and the like are not probes
    if (p.protocol === 58 && pkt[p.l4]! >= 130 && pkt[p.l4]! !== 128) return;
    this.seen.push({ family: p.family, ttl: p.ttl, protocol: p.protocol, length: pkt.length, flow: flowOf(p) });
    const index = Math.min(p.ttl, hops.length + 1) - 1;
    const hop = hops[index];
    const n = this.perHop.get(index) ?? 0;
    this.perHop.set(index, n + 1);
    if (hop) {
      if (hop.answers && !hop.answers(n)) return;
      if (hop.rateLimit && !this.takeToken(index, hop.rateLimit)) return;
      const delay = (hop.delayMs ?? 0) + (hop.extraDelay?.(n) ?? 0) + (hop.jitterMs ? Math.random() * hop.jitterMs : 0);
      const router = this.balanced(hop, n, p);
      const from = p.family === 4 ? router.v4 : router.v6;
      const ttl = hop.replyTtl ?? 64 - index;
      const answers: Uint8Array[] = [];
      if (hop.malformed) answers.push(...this.malformed(p, from, ttl));
      const type = hop.unreachableCode !== undefined ? (p.family === 4 ? 3 : 1) : p.family === 4 ? 11 : 3;
      answers.push(this.icmpError(p, from, ttl, type, hop.unreachableCode ?? 0, hop));
      if (hop.duplicate) answers.push(answers[answers.length - 1]!);
      this.later(delay, answers);
      return;
    }
    if (destination.silent) return;
    const from = p.family === 4 ? destination.v4 : destination.v6;
    const ttl = 64 - hops.length;
    const answer = this.destinationAnswer(p, from, ttl);
    if (answer) this.later(destination.delayMs ?? 0, [answer]);
  }

  /** The router of this hop that answers probe n: the hop itself or one of its alternates. */
  private balanced(hop: SimHop, n: number, p: Probe): { v4: string; v6: string } {
    const routers = [hop, ...(hop.alternates ?? [])];
    if (routers.length === 1) return hop;
    if (hop.balance === 'per-packet') return routers[n % routers.length]!;
    let h = 0;
    for (const c of `${p.src}>${p.dst}/${p.protocol}/${flowOf(p)}`) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
    return routers[h % routers.length]!;
  }

  /** One answer's worth from hop `index`'s token bucket, refilled by the time passed. */
  private takeToken(index: number, limit: { perSecond: number; burst: number }): boolean {
    const now = performance.now();
    const b = this.buckets.get(index) ?? { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    this.buckets.set(index, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private later(ms: number, packets: Uint8Array[]): void {
    const send = (): void => {
      if (this.closed) return;
      for (const pkt of packets) this.tun.writePacket(this.fd, Buffer.from(pkt.buffer, pkt.byteOffset, pkt.length), 0, pkt.length);
    };
    if (ms <= 0) {
      send();
      return;
    }
    // Node's timers run on the loop's millisecond clock and can fire a fraction of a millisecond
    // early: a delay the user asserts on must never come short, so an early timer waits again
    const due = performance.now() + ms;
    const arm = (wait: number): void => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        const left = due - performance.now();
        if (left > 0) arm(Math.ceil(left));
        else send();
      }, wait);
      this.timers.add(t);
    };
    arm(ms);
  }

  /** Wraps an ICMP/transport message into an IP packet from `from` to the probe's source. */
  private ipPacket(family: 4 | 6, from: string, to: string, ttl: number, protocol: number, body: Uint8Array): Uint8Array {
    const hl = family === 4 ? 20 : 40;
    const out = new Uint8Array(hl + body.length);
    if (family === 4) writeIPv4Header(out, 0, { totalLength: out.length, ttl, protocol, src: from, dst: to, id: (Math.random() * 0xffff) | 0 });
    else writeIPv6Header(out, 0, { payloadLength: body.length, nextHeader: protocol, hopLimit: ttl, src: from, dst: to });
    out.set(body, hl);
    return out;
  }

  /** The probe as the hop quotes it: TTL as it arrived there (1), maybe cut or rewritten. */
  private quote(p: Probe, hop: SimHop | null): Uint8Array {
    const limit = hop?.shortQuote ? p.l4 + 8 : p.family === 4 ? 576 - 28 : 1280 - 48;
    const q = p.packet.slice(0, Math.min(p.packet.length, limit));
    if (p.family === 4) {
      q[8] = 1;
      if (hop?.nat === 'source') q.set(toAddressBytes('192.0.2.77', 4), 12);
      q[10] = 0;
      q[11] = 0;
      const sum = internetChecksum(q, 0, p.l4);
      q[10] = sum >> 8;
      q[11] = sum & 0xff;
    } else {
      q[7] = 1;
      if (hop?.nat === 'source') q.set(toAddressBytes('fd00:77::77', 6), 8);
    }
    if (hop?.nat === 'checksum') {
      // UDP checksum at +6, ICMP at +2: what a NAT changed and did not put back
      const at = p.protocol === 17 ? p.l4 + 6 : p.protocol === 1 || p.protocol === 58 ? p.l4 + 2 : -1;
      if (at >= 0 && at + 1 < q.length) q[at + 1] ^= 0x5a;
    }
    return q;
  }

  private icmpError(p: Probe, from: string, ttl: number, type: number, code: number, hop: SimHop | null, quoteOverride?: Uint8Array): Uint8Array {
    const quote = quoteOverride ?? this.quote(p, hop);
    const body = new Uint8Array(8 + quote.length + 512);
    const extensions = hop?.mpls ? [mplsExtensionObject(hop.mpls)] : undefined;
    const len = writeIcmpError(body, 0, {
      family: p.family, type, code, quote, extensions, extensionForm: hop?.extensionForm,
      ...(p.family === 6 ? { src: from, dst: p.src } : {}),
    });
    return this.ipPacket(p.family, from, p.src, ttl, p.family === 4 ? 1 : 58, body.subarray(0, len));
  }

  private destinationAnswer(p: Probe, from: string, ttl: number): Uint8Array | null {
    const pkt = p.packet;
    if (p.protocol === 1 || p.protocol === 58) {
      if (pkt[p.l4] !== (p.family === 4 ? 8 : 128)) return null;
      const echo = pkt.slice(p.l4);
      const len = writeEcho(echo, 0, {
        family: p.family, type: p.family === 4 ? 0 : 129, id: readU16(echo, 4), seq: readU16(echo, 6), payloadLength: echo.length - 8,
        ...(p.family === 6 ? { src: from, dst: p.src } : {}),
      });
      return this.ipPacket(p.family, from, p.src, ttl, p.protocol, echo.subarray(0, len));
    }
    if (p.protocol === 17) return this.icmpError(p, from, ttl, p.family === 4 ? 3 : 1, p.family === 4 ? 3 : 4, null);
    if (p.protocol === 6) {
      const srcPort = readU16(pkt, p.l4), dstPort = readU16(pkt, p.l4 + 2), seq = readU32(pkt, p.l4 + 4);
      if (!(pkt[p.l4 + 13]! & TCP_FLAG.SYN)) return null;
      const open = this.scenario.destination.tcpOpenPorts?.includes(dstPort) ?? false;
      const seg = new Uint8Array(20);
      writeTcp(seg, 0, {
        srcPort: dstPort, dstPort: srcPort, seq: open ? 1000 : 0, ackNumber: (seq + 1) >>> 0,
        flags: open ? TCP_FLAG.SYN | TCP_FLAG.ACK : TCP_FLAG.RST | TCP_FLAG.ACK, window: open ? 65535 : 0, src: from, dst: p.src,
      });
      return this.ipPacket(p.family, from, p.src, ttl, 6, seg);
    }
    return null;
  }

  /** Answers no parser should trust: bad checksum, a quote cut inside its IP header, a lying RFC 4884 length, nonsense types. */
  private malformed(p: Probe, from: string, ttl: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const good = this.icmpError(p, from, ttl, p.family === 4 ? 11 : 3, 0, null);
    const hl = p.family === 4 ? 20 : 40;
    if (p.family === 4) {
      const badSum = good.slice();
      badSum[hl + 2] ^= 0xff;
      out.push(badSum);
    }
    out.push(this.icmpError(p, from, ttl, p.family === 4 ? 11 : 3, 0, null, p.packet.slice(0, 6)));
    const lying = good.slice();
    lying[hl + (p.family === 4 ? 5 : 4)] = 250; // extension length far beyond the message
    if (p.family === 4) {
      lying[hl + 2] = 0;
      lying[hl + 3] = 0;
      const sum = internetChecksum(lying, hl, lying.length - hl);
      lying[hl + 2] = sum >> 8;
      lying[hl + 3] = sum & 0xff;
    } else {
      lying[hl + 2] = 0;
      lying[hl + 3] = 0;
      const sum = internetChecksum(lying, hl, lying.length - hl, pseudoHeaderSum(toAddressBytes(from, 6), toAddressBytes(p.src, 6), 58, lying.length - hl));
      lying[hl + 2] = sum >> 8;
      lying[hl + 3] = sum & 0xff;
    }
    out.push(lying);
    out.push(this.ipPacket(p.family, from, p.src, ttl, p.family === 4 ? 1 : 58, Uint8Array.from([p.family === 4 ? 11 : 3, 0])));
    return out;
  }
}
