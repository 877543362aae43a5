// UDP probes built in user space on a raw UDP socket (CAP_NET_RAW), answers read whole from a
// raw ICMP socket filtered to errors quoting our source port. Paris (default): both ports fixed,
// the probe's sequence is the UDP checksum (within the 8 quoted bytes every router returns),
// made to come out right by a compensation word in the payload. Classic: the destination port
// counts up. Multipath flows (ProbeRequest.flow, Paris only) are destination ports port + flow.
// NAT: a quote whose addresses, ports or checksum differ from what was sent.
import { randomInt } from './random-int.js';
import type { IcmpMessage } from '../../socket/icmp-socket.js';
import { readU16 } from '../../packet/bytes.js';
import { parseIcmpError } from '../../packet/icmp-error-parse.js';
import { writeUdp, writeUdpWithChecksum } from '../../packet/udp.js';
import { COMPENSATION_OFFSET, PAYLOAD_MIN, readProbePayload, writeProbePayload } from '../probe-payload.js';
import type { ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import { WireIds } from '../wire-ids.js';
import { ipHeaderLength, probeBatch } from './probe-batch.js';
import { icmpErrorReply, natFlags } from './error-replies.js';
import { RawPairTransport } from './raw-pair-transport.js';
import { CLASSIC_PORTS, udpFlowIds } from './udp-dgram-transport.js';

const UDP_HEADER = 8;

/**
 * sender: raw UDP socket bound to the source address; errors: raw ICMP socket filtered to
 * errors quoting sourcePort.
 */
export class UdpRawTransport extends RawPairTransport implements ProbeTransport {
  readonly method = 'udp' as const;
  readonly socket = 'raw' as const;
  readonly minLength = ipHeaderLength(this.family) + UDP_HEADER + PAYLOAD_MIN;
  readonly sizable = true;
  /** classic probes are told apart by their port, so only Paris ones can carry a flow */
  readonly flowIds = this.flow === 'paris' ? udpFlowIds(this.config.port) : 0;
  /** per wire value: the checksum and destination port sent (Paris: 0xffff is avoided, a checksum that comes out 0 is sent as 0xffff) */
  private readonly ids: WireIds<{ checksum: number; port: number }> = this.flow === 'paris'
    ? new WireIds(1, 0xfffe)
    : new WireIds(this.config.port, Math.min(0xffff, this.config.port + CLASSIC_PORTS - 1));
  private readonly cookie = randomInt(0, 0x100000000);

  protected override startSockets(): void {
    // the sender's error queue only matters for a local EMSGSIZE (read while sending)
    this.sender.start((_readable, errorQueue) => this.onSocketEvent(false, errorQueue));
    this.errors.start((readable, errorQueue) => this.onSocketEvent(readable, errorQueue));
  }

  protected override drainSockets(readable: boolean, errorQueue: boolean): void {
    if (errorQueue) this.discardErrorQueues();
    if (readable) this.errors.drain(false, (m) => this.received(m));
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const batch = probeBatch(probes);
    const { source, target } = this.config;
    for (const p of probes) {
      const wire = this.ids.allocate(p.id);
      const off = batch.nextOffset();
      const payload = p.length - ipHeaderLength(this.family) - UDP_HEADER;
      writeProbePayload(batch.data, off + UDP_HEADER, payload, wire, this.cookie);
      const dstPort = this.flow !== 'paris' ? wire : p.flow !== undefined && this.flowIds > 0 ? this.config.port + (p.flow % this.flowIds) : this.config.port;
      const fields = { srcPort: this.sourcePort, dstPort, payloadLength: payload, src: source, dst: target };
      const len = this.flow === 'paris' ? writeUdpWithChecksum(batch.data, off, fields, wire, COMPENSATION_OFFSET) : writeUdp(batch.data, off, fields);
      this.ids.noteSent(wire, { checksum: readU16(batch.data, off + 6), port: dstPort });
      batch.push(len, this.family, this.dest, 0, 0, p.ttl, -1, this.config.scopeId, this.flowLabel(p.flow));
    }
    return this.sendProbes(this.sender, batch);
  }

  release(id: number): void {
    this.ids.release(id);
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
    const sent = this.ids.sentOn(wire);
    const flags = natFlags(q, { src: this.config.source, dst: this.config.target, srcPort: this.sourcePort, dstPort: sent?.port, udpChecksum: sent?.checksum });
    this.onReply(icmpErrorReply(this.config, id, m, err, flags));
  }
}
