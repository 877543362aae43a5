// TCP SYN probes (traceroute -T) on a raw TCP socket: SYNs built in user space, the probe's
// sequence in the low 16 bits of the TCP sequence number (a session cookie in the high 16), so
// both ICMP quotes (ports + sequence are in the first 8 bytes) and answers (ack = seq + 1) name
// it. SYN-ACK or RST from the destination means reached; errors come whole from a raw ICMP
// socket filtered to quotes of our source ports. Paris keeps one source port; classic counts up;
// multipath flows (ProbeRequest.flow) are source ports of a held range.
import { randomInt } from './random-int.js';
import type { IcmpMessage, IcmpSocket } from '../../socket/icmp-socket.js';
import type { ProbeSocket, ReceivedDatagram } from '../../socket/probe-socket.js';
import { parseIcmpError } from '../../packet/icmp-error-parse.js';
import { parseTcpHeader, TCP_FLAG, TCP_HEADER_LENGTH, writeTcp } from '../../packet/tcp.js';
import { NO_EXTENSIONS } from '../reply-decoding.js';
import type { ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import { WireIds } from '../wire-ids.js';
import { ipHeaderLength, probeBatch } from './probe-batch.js';
import { receiveStamp } from './receive-stamp.js';
import { icmpErrorReply, natFlags } from './error-replies.js';
import { RawPairTransport } from './raw-pair-transport.js';
import type { TransportConfig } from './transport-config.js';

/** classic: source ports sourcePort … sourcePort + CLASSIC_TCP_PORTS - 1 */
export const CLASSIC_TCP_PORTS = 16;
/** multipath: flow f leaves from source port sourcePort + f (each port held by a bound socket) */
export const MULTIPATH_TCP_PORTS = 128;

/**
 * sender: raw TCP socket bound to the source address, filtered to segments for our ports;
 * errors: raw ICMP socket filtered to errors quoting them; sourcePort: the first of our ports
 * (classic: the range from it).
 */
export class TcpSynTransport extends RawPairTransport implements ProbeTransport {
  readonly method = 'tcp' as const;
  readonly socket = 'raw' as const;
  readonly minLength = ipHeaderLength(this.family) + TCP_HEADER_LENGTH;
  /** SYNs carry no data: an answer's ack would then depend on its length */
  readonly sizable = false;
  /** multipath: one flow per held source port */
  readonly flowIds: number;
  /** per wire value: the source port sent from */
  private readonly ids = new WireIds<number>(0, 0xffff, randomInt(0, 0x10000));
  private readonly cookie = randomInt(0, 0x10000);

  /** flowPorts: source ports held from sourcePort on for multipath flows (0: none) */
  constructor(sender: ProbeSocket, errors: IcmpSocket, sourcePort: number, config: TransportConfig, onClose: () => void, flowPorts = 0) {
    super(sender, errors, sourcePort, config, onClose);
    this.flowIds = flowPorts;
  }

  protected override startSockets(): void {
    this.sender.start((readable, errorQueue) => this.onSocketEvent(readable, errorQueue));
    this.errors.start((readable, errorQueue) => this.onSocketEvent(readable, errorQueue));
  }

  protected override drainSockets(readable: boolean, errorQueue: boolean): void {
    if (errorQueue) this.discardErrorQueues();
    if (readable) {
      this.sender.drain(false, (m) => this.segment(m));
      this.errors.drain(false, (m) => this.error(m));
    }
  }

  private portFor(wire: number, flow: number | undefined): number {
    if (flow !== undefined && this.flowIds > 0) return this.sourcePort + (flow % this.flowIds);
    return this.flow === 'paris' ? this.sourcePort : this.sourcePort + (wire % CLASSIC_TCP_PORTS);
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const batch = probeBatch(probes);
    for (const p of probes) {
      const wire = this.ids.allocate(p.id);
      const srcPort = this.portFor(wire, p.flow);
      this.ids.noteSent(wire, srcPort);
      const len = writeTcp(batch.data, batch.nextOffset(), {
        srcPort, dstPort: this.config.port, seq: ((this.cookie << 16) | wire) >>> 0, flags: TCP_FLAG.SYN, window: 5840,
        src: this.config.source, dst: this.config.target,
      });
      batch.push(len, this.family, this.dest, 0, 0, p.ttl, -1, this.config.scopeId, this.flowLabel(p.flow));
    }
    return this.sendProbes(this.sender, batch);
  }

  release(id: number): void {
    this.ids.release(id);
  }

  /** The wire value of a TCP sequence number we sent, or null when the cookie is not ours. */
  private wireOfSeq(seq: number): number | null {
    return seq >>> 16 === this.cookie ? seq & 0xffff : null;
  }

  /** SYN-ACK or RST answering a probe. */
  private segment(m: ReceivedDatagram): void {
    const h = parseTcpHeader(m.buf, m.offset, m.length);
    if (!h || h.srcPort !== this.config.port || !(h.rst || (h.syn && h.ack))) return;
    // No checksum check: a segment a local peer made over veth still carries the partial
    // checksum of offloading (CHECKSUM_PARTIAL) when a raw socket copies it. Matching is strict
    // instead: source, both ports, and the acknowledged sequence with its 16-bit cookie.
    const wire = h.ack ? this.wireOfSeq((h.ackNumber - 1) >>> 0) : null;
    if (wire === null) return;
    const id = this.ids.probeOf(wire);
    if (id === undefined || this.ids.sentOn(wire) !== h.dstPort) return;
    const reached = m.from === this.config.target;
    this.onReply({
      id, stamp: receiveStamp(this.config.clock, m.rxSec, m.rxNsec), from: m.from, icmp: null,
      annotation: null, final: true, reached, mtu: null, ...NO_EXTENSIONS, replyTtl: m.ttl,
      flags: reached ? [] : ['different-address'],
    });
  }

  private error(m: IcmpMessage): void {
    const err = parseIcmpError(m.buf, m.offset, m.length, this.family);
    const q = err?.quote;
    const t = q?.transport;
    if (!err || !q || !t || t.kind !== 'tcp' || t.dstPort !== this.config.port) return;
    const wire = this.wireOfSeq(t.seq);
    if (wire === null) return;
    const id = this.ids.probeOf(wire);
    if (id === undefined) return;
    const flags = natFlags(q, { src: this.config.source, dst: this.config.target, srcPort: this.ids.sentOn(wire) });
    this.onReply(icmpErrorReply(this.config, id, m, err, flags));
  }
}
