// UDP probes built in user space on a raw UDP socket (CAP_NET_RAW), answers read whole from a
// raw ICMP socket filtered to errors quoting our source port. Paris (default): both ports fixed,
// the probe's sequence is the UDP checksum (within the 8 quoted bytes every router returns),
// made to come out right by a compensation word in the payload. Classic: the destination port
// counts up. NAT: a quote whose addresses, ports or checksum differ from what was sent.
import { randomInt } from 'node:crypto';
import { writeAddress } from '../../icmp/address-bytes.js';
import type { IcmpMessage, IcmpSocket } from '../../icmp/icmp-socket.js';
import { SendBatch } from '../../icmp/send-batch.js';
import { readU16 } from '../../packet/bytes.js';
import { parseIcmpError, quoteMismatches } from '../../packet/icmp-error-parse.js';
import { writeUdp, writeUdpWithChecksum } from '../../packet/udp.js';
import { COMPENSATION_OFFSET, PAYLOAD_MIN, readProbePayload, writeProbePayload } from '../probe-payload.js';
import { decodeError, extensionInfo, NO_EXTENSIONS } from '../reply-decoding.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import type { TracerouteProbeFlag } from '../types.js';
import { WireIds } from '../wire-ids.js';
import { ERRNO, ipHeaderLength, receiveStamp, sendBatchThroughPendingErrors, sendOutcomes, type TransportConfig } from './common.js';
import type { ProbeSocket } from './probe-socket.js';
import { CLASSIC_PORTS } from './udp-dgram-transport.js';

const UDP_HEADER = 8;

export class UdpRawTransport implements ProbeTransport {
  readonly method = 'udp' as const;
  readonly socket = 'raw' as const;
  readonly flow;
  readonly family: 4 | 6;
  readonly minLength: number;
  readonly sizable = true;
  private readonly ids: WireIds;
  private readonly cookie = randomInt(0, 0x100000000);
  private readonly dest = Buffer.alloc(16);
  /** per wire value: the checksum sent */
  private readonly checksums = new Map<number, number>();
  private onReply: (r: ProbeReply) => void = () => {};
  private onFailure: (e: Error) => void = () => {};
  private closed = false;
  private draining = false;

  /**
   * sender: raw UDP socket bound to the source address; errors: raw ICMP socket filtered to
   * errors quoting sourcePort; sourcePort is held by a UDP socket the caller keeps open.
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
    this.minLength = ipHeaderLength(config.family) + UDP_HEADER + PAYLOAD_MIN;
    // 0xffff is avoided: a checksum that comes out 0 is sent as 0xffff
    this.ids = config.flow === 'paris' ? new WireIds(1, 0xfffe) : new WireIds(config.port, Math.min(0xffff, config.port + CLASSIC_PORTS - 1));
    writeAddress(config.target, this.dest, 0);
  }

  start(onReply: (r: ProbeReply) => void, onFailure: (e: Error) => void): void {
    this.onReply = onReply;
    this.onFailure = onFailure;
    // the sender's error queue only matters for a local EMSGSIZE (read while sending)
    this.sender.start((_readable, errorQueue) => this.guarded(() => this.read(false, errorQueue)));
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
      if (readable) this.errors.drain(false, (m) => this.received(m));
    } finally {
      this.draining = false;
    }
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const batch = new SendBatch(probes.length, Math.max(...probes.map((p) => p.length)));
    const { source, target } = this.config;
    for (const p of probes) {
      const wire = this.ids.allocate(p.id);
      const off = batch.nextOffset();
      const payload = p.length - ipHeaderLength(this.family) - UDP_HEADER;
      writeProbePayload(batch.data, off + UDP_HEADER, payload, wire, this.cookie);
      const fields = { srcPort: this.sourcePort, dstPort: this.flow === 'paris' ? this.config.port : wire, payloadLength: payload, src: source, dst: target };
      const len = this.flow === 'paris' ? writeUdpWithChecksum(batch.data, off, fields, wire, COMPENSATION_OFFSET) : writeUdp(batch.data, off, fields);
      this.checksums.set(wire, readU16(batch.data, off + 6));
      batch.push(len, this.family, this.dest, 0, 0, p.ttl);
    }
    return sendOutcomes(batch, sendBatchThroughPendingErrors((b) => this.sender.send(b), batch), this.config.clock, () => this.localMtu());
  }

  release(id: number): void {
    const wire = this.ids.wireOf(id);
    if (wire !== undefined) this.checksums.delete(wire);
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

  private received(m: IcmpMessage): void {
    const err = parseIcmpError(m.buf, m.offset, m.length, this.family);
    const q = err?.quote;
    const t = q?.transport;
    if (!err || !q || !t || t.kind !== 'udp' || t.srcPort !== this.sourcePort) return;
    const quotedPayload = q.transportLength - UDP_HEADER;
    const fromPayload = quotedPayload >= PAYLOAD_MIN ? readProbePayload(m.buf, q.transportOffset + UDP_HEADER, quotedPayload, this.cookie) : null;
    if (quotedPayload >= PAYLOAD_MIN && fromPayload === null) return; // someone else's datagram from this port
    let wire: number;
    if (this.flow === 'paris') {
      // a NAT that rewrote the checksum still leaves the sequence in the payload
      wire = fromPayload ?? t.checksum;
    } else {
      wire = t.dstPort;
      if (fromPayload !== null && fromPayload !== wire) return;
    }
    const id = this.ids.probeOf(wire);
    if (id === undefined) return;
    const flags: TracerouteProbeFlag[] = [];
    const rewritten = quoteMismatches(q, {
      src: this.config.source, dst: this.config.target, srcPort: this.sourcePort,
      dstPort: this.flow === 'paris' ? this.config.port : wire, udpChecksum: this.checksums.get(wire),
    });
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
