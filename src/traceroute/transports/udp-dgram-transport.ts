// UDP probes without privileges (tracepath, traceroute's default method): one UDP socket with
// IP_RECVERR, the TTL of each probe as ancillary data, answers read from the error queue
// (offender, type, code, the original destination, the quoted bytes after the UDP header).
// Paris: one source port (the socket's) and one destination port, the probe identified by the
// sequence its payload carries — so routers that quote only 8 bytes stay anonymous (`*`).
// Classic: the destination port counts up per probe and identifies it, like traceroute.
import { randomInt } from 'node:crypto';
import { writeAddress } from '../../icmp/address-bytes.js';
import { SendBatch } from '../../icmp/send-batch.js';
import { PAYLOAD_MIN, readProbePayload, writeProbePayload } from '../probe-payload.js';
import { decodeError, NO_EXTENSIONS, queuedExtensions } from '../reply-decoding.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import { WireIds } from '../wire-ids.js';
import { DeferredReplies, ERRNO, ipHeaderLength, receiveStamp, sendBatchThroughPendingErrors, sendOutcomes, type TransportConfig } from './common.js';
import type { ProbeSocket, ReceivedDatagram } from './probe-socket.js';

const UDP_HEADER = 8;
/** classic: destination ports port … port + CLASSIC_PORTS - 1 */
export const CLASSIC_PORTS = 1024;

export class UdpDgramTransport implements ProbeTransport {
  readonly method = 'udp' as const;
  readonly socket = 'dgram' as const;
  readonly flow;
  readonly family: 4 | 6;
  readonly minLength: number;
  readonly sizable = true;
  private readonly ids: WireIds;
  private readonly cookie = randomInt(0, 0x100000000);
  private readonly dest = Buffer.alloc(16);
  private readonly sentPayload = new Map<number, number>();
  private onReply: (r: ProbeReply) => void = () => {};
  private onFailure: (e: Error) => void = () => {};
  private deferred: DeferredReplies | null = null;
  private closed = false;
  private draining = false;

  constructor(private readonly sock: ProbeSocket, private readonly config: TransportConfig) {
    this.family = config.family;
    this.flow = config.flow;
    this.minLength = ipHeaderLength(config.family) + UDP_HEADER + PAYLOAD_MIN;
    this.ids = config.flow === 'paris' ? new WireIds(1, 0xffff) : new WireIds(config.port, Math.min(0xffff, config.port + CLASSIC_PORTS - 1));
    writeAddress(config.target, this.dest, 0);
  }

  start(onReply: (r: ProbeReply) => void, onFailure: (e: Error) => void): void {
    this.onReply = onReply;
    this.onFailure = onFailure;
    this.deferred = new DeferredReplies(onReply);
    this.sock.start((readable, errorQueue) => this.guarded(() => this.read(readable, errorQueue)));
  }

  poll(): void {
    this.read(true, true);
  }

  private read(readable: boolean, errorQueue: boolean): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      if (errorQueue) this.sock.drain(true, (m) => this.queued(m, false));
      // datagrams from an open port on the target are not answers we use: discard them
      if (readable) this.sock.drain(false, () => {});
    } finally {
      this.draining = false;
    }
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const batch = new SendBatch(probes.length, Math.max(...probes.map((p) => p.length)));
    for (const p of probes) {
      const wire = this.ids.allocate(p.id);
      const payload = p.length - ipHeaderLength(this.family) - UDP_HEADER;
      writeProbePayload(batch.data, batch.nextOffset(), payload, wire, this.cookie);
      this.sentPayload.set(wire, payload);
      const port = this.flow === 'paris' ? this.config.port : wire;
      batch.push(payload, this.family, this.dest, 0, port, p.ttl);
    }
    return sendOutcomes(batch, sendBatchThroughPendingErrors((b) => this.sock.send(b), batch), this.config.clock, () => this.localMtu());
  }

  release(id: number): void {
    const wire = this.ids.wireOf(id);
    if (wire !== undefined) this.sentPayload.delete(wire);
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
    this.deferred?.cancel();
    this.sock.close();
  }

  private localMtu(): number {
    let mtu = 0;
    if (this.draining) return mtu;
    this.sock.drain(true, (m) => {
      if (m.queued?.origin === 1 && m.queued.errno === ERRNO.EMSGSIZE) mtu = m.queued.info;
      else this.queued(m, true);
    });
    return mtu;
  }

  private queued(m: ReceivedDatagram, deferred: boolean): void {
    const e = m.queued;
    if (!e || (e.origin !== 2 && e.origin !== 3) || m.from !== this.config.target) return;
    // the payload (if quoted) names the probe; classic probes are also told by their port
    const fromPayload = m.length >= PAYLOAD_MIN ? readProbePayload(m.buf, m.offset, m.length, this.cookie) : null;
    let wire: number | null;
    if (this.flow === 'paris') {
      if (m.port !== this.config.port) return;
      wire = fromPayload;
    } else {
      wire = m.port;
      if (m.length >= PAYLOAD_MIN && fromPayload !== wire) return;
    }
    const id = wire === null ? undefined : this.ids.probeOf(wire);
    if (id === undefined || wire === null) return;
    const d = decodeError(this.family, e.type, e.code, e.info);
    const reply: ProbeReply = {
      id, stamp: receiveStamp(this.config.clock, m.rxSec, m.rxNsec), from: e.offender ?? '',
      icmp: { type: e.type, code: e.code }, ...d,
      ...(this.config.extensions
        ? queuedExtensions(this.family, e.type, m.buf, m.offset, m.length, ipHeaderLength(this.family) + UDP_HEADER, this.sentPayload.get(wire) ?? PAYLOAD_MIN)
        : NO_EXTENSIONS),
      replyTtl: m.ttl, flags: [],
    };
    if (reply.from === '') return;
    if (deferred) this.deferred?.push(reply);
    else this.onReply(reply);
  }
}
