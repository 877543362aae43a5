// TCP SYN probes (traceroute -T) on a raw TCP socket: SYNs built in user space, the probe's
// sequence in the low 16 bits of the TCP sequence number (a session cookie in the high 16), so
// both ICMP quotes (ports + sequence are in the first 8 bytes) and answers (ack = seq + 1) name
// it. SYN-ACK or RST from the destination means reached; errors come whole from a raw ICMP
// socket filtered to quotes of our source ports. Paris keeps one source port; classic counts up.
import { randomInt } from 'node:crypto';
import { writeAddress } from '../../icmp/address-bytes.js';
import type { IcmpMessage, IcmpSocket } from '../../icmp/icmp-socket.js';
import { SendBatch } from '../../icmp/send-batch.js';
import { parseIcmpError, quoteMismatches } from '../../packet/icmp-error-parse.js';
import { parseTcpHeader, TCP_FLAG, TCP_HEADER_LENGTH, writeTcp } from '../../packet/tcp.js';
import { decodeError, extensionInfo, NO_EXTENSIONS } from '../reply-decoding.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import type { TracerouteProbeFlag } from '../types.js';
import { WireIds } from '../wire-ids.js';
import { ERRNO, ipHeaderLength, receiveStamp, sendBatchThroughPendingErrors, sendOutcomes, type TransportConfig } from './common.js';
import type { ProbeSocket, ReceivedDatagram } from './probe-socket.js';

/** classic: source ports sourcePort … sourcePort + CLASSIC_TCP_PORTS - 1 */
export const CLASSIC_TCP_PORTS = 16;

export class TcpSynTransport implements ProbeTransport {
  readonly method = 'tcp' as const;
  readonly socket = 'raw' as const;
  readonly flow;
  readonly family: 4 | 6;
  readonly minLength: number;
  /** SYNs carry no data: an answer's ack would then depend on its length */
  readonly sizable = false;
  private readonly ids = new WireIds(0, 0xffff, randomInt(0, 0x10000));
  private readonly cookie = randomInt(0, 0x10000);
  private readonly dest = Buffer.alloc(16);
  private readonly sourcePorts = new Map<number, number>();
  private onReply: (r: ProbeReply) => void = () => {};
  private onFailure: (e: Error) => void = () => {};
  private closed = false;
  private draining = false;

  /**
   * sender: raw TCP socket bound to the source address, filtered to segments for our ports;
   * errors: raw ICMP socket filtered to errors quoting them. The caller holds sourcePort
   * (classic: the range from it) with bound TCP sockets and releases them in onClose.
   */
  constructor(
    private readonly sender: ProbeSocket,
    private readonly errors: IcmpSocket,
    private readonly sourcePort: number,
    private readonly config: TransportConfig,
    private readonly onClose: () => void,
  ) {
    this.family = config.family;
    this.flow = config.flow;
    this.minLength = ipHeaderLength(config.family) + TCP_HEADER_LENGTH;
    writeAddress(config.target, this.dest, 0);
  }

  start(onReply: (r: ProbeReply) => void, onFailure: (e: Error) => void): void {
    this.onReply = onReply;
    this.onFailure = onFailure;
    this.sender.start((readable, errorQueue) => this.guarded(() => this.read(readable, errorQueue)));
    this.errors.start((readable, errorQueue) => this.guarded(() => this.read(readable, errorQueue)));
  }

  poll(): void {
    this.read(true, true);
  }

  private read(readable: boolean, errorQueue: boolean): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      if (errorQueue) {
        this.sender.drain(true, () => {});
        this.errors.drain(true, () => {});
      }
      if (readable) {
        this.sender.drain(false, (m) => this.segment(m));
        this.errors.drain(false, (m) => this.error(m));
      }
    } finally {
      this.draining = false;
    }
  }

  private portFor(wire: number): number {
    return this.flow === 'paris' ? this.sourcePort : this.sourcePort + (wire % CLASSIC_TCP_PORTS);
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const batch = new SendBatch(probes.length, Math.max(...probes.map((p) => p.length)));
    for (const p of probes) {
      const wire = this.ids.allocate(p.id);
      const srcPort = this.portFor(wire);
      this.sourcePorts.set(wire, srcPort);
      const len = writeTcp(batch.data, batch.nextOffset(), {
        srcPort, dstPort: this.config.port, seq: ((this.cookie << 16) | wire) >>> 0, flags: TCP_FLAG.SYN, window: 5840,
        src: this.config.source, dst: this.config.target,
      });
      batch.push(len, this.family, this.dest, 0, 0, p.ttl);
    }
    return sendOutcomes(batch, sendBatchThroughPendingErrors((b) => this.sender.send(b), batch), this.config.clock, () => this.localMtu());
  }

  release(id: number): void {
    const wire = this.ids.wireOf(id);
    if (wire !== undefined) this.sourcePorts.delete(wire);
    this.ids.release(id);
  }

  /** Errors in a poll callback go to the engine, never up into the addon (which would abort). */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.onFailure(e as Error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sender.close();
    this.errors.close();
    this.onClose();
  }

  private localMtu(): number {
    let mtu = 0;
    if (this.draining) return mtu;
    this.sender.drain(true, (m) => {
      if (m.queued?.origin === 1 && m.queued.errno === ERRNO.EMSGSIZE) mtu = m.queued.info;
    });
    return mtu;
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
    if (id === undefined || this.sourcePorts.get(wire) !== h.dstPort) return;
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
    const flags: TracerouteProbeFlag[] = [];
    const rewritten = quoteMismatches(q, { src: this.config.source, dst: this.config.target, srcPort: this.sourcePorts.get(wire) });
    if (rewritten.length) flags.push('nat');
    const d = decodeError(this.family, err.type, err.code, err.mtu);
    this.onReply({
      id, stamp: receiveStamp(this.config.clock, m.rxSec, m.rxNsec), from: m.from,
      icmp: { type: err.type, code: err.code }, ...d,
      ...(this.config.extensions ? extensionInfo(m.buf, err.extensions) : NO_EXTENSIONS),
      replyTtl: m.ttl, flags,
    });
  }
}
