// UDP probes without privileges (tracepath, traceroute's default method): one UDP socket with
// IP_RECVERR, the TTL of each probe as ancillary data, answers read from the error queue
// (offender, type, code, the original destination, the quoted bytes after the UDP header).
// Paris: one source port (the socket's) and one destination port, the probe identified by the
// sequence its payload carries — so routers that quote only 8 bytes stay anonymous (`*`).
// Classic: the destination port counts up per probe and identifies it, like traceroute.
// Multipath flows (ProbeRequest.flow) are destination ports port + flow, the probe still
// identified by its payload.
import { randomInt } from './random-int.js';
import type { ProbeSocket, ReceivedDatagram } from '../../socket/probe-socket.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6 } from '../../socket/received-message.js';
import { PAYLOAD_MIN, readProbePayload, writeProbePayload } from '../probe-payload.js';
import type { ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import { WireIds } from '../wire-ids.js';
import { ipHeaderLength, probeBatch } from './probe-batch.js';
import type { TransportConfig } from './transport-config.js';
import { DrainingTransport } from './draining-transport.js';
import { queuedErrorReply } from './error-replies.js';

const UDP_HEADER = 8;
/** classic: destination ports port … port + CLASSIC_PORTS - 1 */
export const CLASSIC_PORTS = 1024;
/** multipath flows: destination ports port … port + UDP_FLOW_IDS - 1 (fewer when that passes 65535) */
export const UDP_FLOW_IDS = 4096;

/** How many flow ids (destination ports from `port` on) fit below 65536. */
export function udpFlowIds(port: number): number {
  return Math.min(UDP_FLOW_IDS, 0x10000 - port);
}

export class UdpDgramTransport extends DrainingTransport implements ProbeTransport {
  readonly method = 'udp' as const;
  readonly socket = 'dgram' as const;
  readonly minLength: number;
  readonly sizable = true;
  readonly flowIds: number;
  /** per wire value: the payload length and destination port sent */
  private readonly ids: WireIds<{ payload: number; port: number }>;
  private readonly cookie = randomInt(0, 0x100000000);

  constructor(private readonly sock: ProbeSocket, config: TransportConfig) {
    super(config);
    this.minLength = ipHeaderLength(config.family) + UDP_HEADER + PAYLOAD_MIN;
    // classic probes are told apart by their port, so only Paris ones can carry a flow
    this.flowIds = config.flow === 'paris' ? udpFlowIds(config.port) : 0;
    this.ids = config.flow === 'paris' ? new WireIds(1, 0xffff) : new WireIds(config.port, Math.min(0xffff, config.port + CLASSIC_PORTS - 1));
  }

  protected override startSockets(): void {
    this.sock.start((readable, errorQueue) => this.onSocketEvent(readable, errorQueue));
  }

  protected override drainSockets(readable: boolean, errorQueue: boolean): void {
    if (errorQueue) this.sock.drain(true, (m) => this.queued(m, false));
    // datagrams from an open port on the target are not answers we use: discard them
    if (readable) this.sock.drain(false, () => {});
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const batch = probeBatch(probes);
    for (const p of probes) {
      const wire = this.ids.allocate(p.id);
      const payload = p.length - ipHeaderLength(this.family) - UDP_HEADER;
      writeProbePayload(batch.data, batch.nextOffset(), payload, wire, this.cookie);
      const port = p.flow !== undefined && this.flowIds > 0 ? this.config.port + (p.flow % this.flowIds) : this.flow === 'paris' ? this.config.port : wire;
      this.ids.noteSent(wire, { payload, port });
      batch.push(payload, this.family, this.dest, 0, port, p.ttl, -1, this.config.scopeId, this.flowLabel(p.flow));
    }
    return this.sendProbes(this.sock, batch, (m) => this.queued(m, true));
  }

  release(id: number): void {
    this.ids.release(id);
  }

  protected override closeSockets(): void {
    this.sock.close();
  }

  private queued(m: ReceivedDatagram, whileSending: boolean): void {
    const e = m.queued;
    if (!e || (e.origin !== ORIGIN_ICMP && e.origin !== ORIGIN_ICMP6) || m.from !== this.config.target) return;
    // the payload (if quoted) names the probe; classic probes are also told by their port
    const fromPayload = m.length >= PAYLOAD_MIN ? readProbePayload(m.buf, m.offset, m.length, this.cookie) : null;
    let wire: number | null;
    if (this.flow === 'paris') {
      // the port must be the one this probe went to (Paris: the fixed port; multipath: its flow's)
      wire = fromPayload;
      if (wire === null || m.port !== this.ids.sentOn(wire)?.port) return;
    } else {
      wire = m.port;
      if (m.length >= PAYLOAD_MIN && fromPayload !== wire) return;
    }
    const id = wire === null ? undefined : this.ids.probeOf(wire);
    if (id === undefined || wire === null || !e.offender) return;
    const quote = { offset: m.offset, length: m.length, headerLength: ipHeaderLength(this.family) + UDP_HEADER, sentPayload: this.ids.sentOn(wire)?.payload ?? PAYLOAD_MIN };
    const reply = queuedErrorReply(this.config, id, m, e, e.offender, quote, []);
    this.deliver(reply, whileSending);
  }
}
