// ICMP echo probes on the shared ICMP socket (raw, or a ping socket without privileges). The
// echo sequence identifies the probe; with Paris flows every probe carries the same ICMP
// checksum (per-flow load balancers hash on it, like on ports) by compensating in the payload;
// a multipath flow (ProbeRequest.flow) gets a checksum of its own the same way.
// Raw sockets read whole errors (quoted IP header: NAT detection; RFC 4884 extensions); ping
// sockets get errors from the error queue (offender, type, code, the quoted echo).
import { randomInt } from './random-int.js';
import type { IcmpMessage, IcmpSocket } from '../../socket/icmp-socket.js';
import { isPendingSocketError } from '../../socket/pending-errors.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6 } from '../../socket/received-message.js';
import { toAddressBytes } from '../../packet/address.js';
import { readU16 } from '../../packet/bytes.js';
import { verifyChecksum } from '../../packet/checksum.js';
import { parseIcmpError } from '../../packet/icmp-error-parse.js';
import { echoReplyType, echoRequestType, writeEcho, writeEchoWithChecksum } from '../../packet/icmp.js';
import { PAYLOAD_MIN, readProbePayload, writeProbePayload } from '../probe-payload.js';
import { NO_EXTENSIONS } from '../reply-decoding.js';
import type { ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import type { TracerouteProbeFlag } from '../types.js';
import { WireIds } from '../wire-ids.js';
import { ipHeaderLength, probeBatch } from './probe-batch.js';
import { receiveStamp } from './receive-stamp.js';
import type { TransportConfig } from './transport-config.js';
import { DrainingTransport } from './draining-transport.js';
import { icmpErrorReply, natFlags, queuedErrorReply } from './error-replies.js';

const ICMP_HEADER = 8;
/** multipath flows are checksums 1 … 0xfffe (0 and 0xffff are the same sum in ones' complement) */
const ICMP_FLOW_IDS = 0xfffe;

export class IcmpTransport extends DrainingTransport implements ProbeTransport {
  readonly method = 'icmp' as const;
  readonly socket: 'raw' | 'dgram';
  readonly minLength: number;
  readonly sizable = true;
  /** a flow is the echo checksum (the identifier is the socket's, fixed by the kernel for ping sockets) */
  readonly flowIds = ICMP_FLOW_IDS;
  /** per wire sequence: the checksum and payload length sent */
  private readonly ids = new WireIds<{ checksum: number; payload: number }>(1, 0xffff);
  private readonly cookie = randomInt(0, 0x100000000);
  /** the constant checksum of Paris probes */
  private readonly flowChecksum = randomInt(1, 0xffff);
  private readonly srcBytes: Uint8Array;
  private readonly dstBytes: Uint8Array;

  constructor(private readonly sock: IcmpSocket, config: TransportConfig) {
    super(config);
    this.socket = sock.mode;
    this.minLength = ipHeaderLength(config.family) + ICMP_HEADER + PAYLOAD_MIN;
    this.srcBytes = toAddressBytes(config.source, config.family);
    this.dstBytes = toAddressBytes(config.target, config.family);
  }

  protected override startSockets(): void {
    this.sock.start((readable, errorQueue) => this.onSocketEvent(readable, errorQueue));
  }

  protected override drainSockets(readable: boolean, errorQueue: boolean): void {
    // the error queue first: reading it also clears the pending error that would otherwise
    // make the ordinary receive fail
    if (errorQueue || readable) this.sock.drain(true, (m) => this.queued(m, false));
    if (readable) this.drainReceived();
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const family = this.family;
    const batch = probeBatch(probes);
    for (const p of probes) {
      const seq = this.ids.allocate(p.id);
      const off = batch.nextOffset();
      const payload = p.length - ipHeaderLength(family) - ICMP_HEADER;
      writeProbePayload(batch.data, off + ICMP_HEADER, payload, seq, this.cookie);
      const fields = {
        family, id: this.sock.identifier, seq, payloadLength: payload,
        ...(family === 6 ? { src: this.srcBytes, dst: this.dstBytes } : {}),
      };
      const checksum = this.checksumFor(p.flow);
      const len = checksum !== null ? writeEchoWithChecksum(batch.data, off, fields, checksum, 0) : writeEcho(batch.data, off, fields);
      this.ids.noteSent(seq, { checksum: readU16(batch.data, off + 2), payload });
      batch.push(len, family, this.dest, 0, 0, p.ttl, -1, this.config.scopeId, this.flowLabel(p.flow));
    }
    return this.sendProbes(this.sock, batch, (m) => this.queued(m, true));
  }

  /** The checksum a probe must carry: Paris one for all, a multipath flow its own, classic none (null). */
  private checksumFor(flow: number | undefined): number | null {
    if (flow !== undefined) return 1 + ((this.flowChecksum - 1 + flow) % ICMP_FLOW_IDS);
    return this.flow === 'paris' ? this.flowChecksum : null;
  }

  release(id: number): void {
    this.ids.release(id);
  }

  protected override closeSockets(): void {
    this.sock.close();
  }

  private drainReceived(): void {
    for (let attempt = 0; ; attempt++) {
      try {
        this.sock.drain(false, (m) => this.received(m));
        return;
      } catch (e) {
        // an error arrived between the two drains and set the pending error again
        if (attempt >= 8 || !isPendingSocketError(e)) throw e;
        this.sock.drain(true, (m) => this.queued(m, false));
      }
    }
  }

  private received(m: IcmpMessage): void {
    const { buf, offset, length } = m;
    if (length < ICMP_HEADER) return;
    // raw IPv4 sockets also receive damaged packets: check what the kernel did not
    if (this.family === 4 && this.socket === 'raw' && !verifyChecksum(buf, offset, length)) return;
    const type = buf[offset]!;
    if (type === echoReplyType(this.family)) {
      if (readU16(buf, offset + 4) !== this.sock.identifier) return;
      const seq = readU16(buf, offset + 6);
      const id = this.ids.probeOf(seq);
      if (id === undefined) return;
      const echoed = readProbePayload(buf, offset + ICMP_HEADER, length - ICMP_HEADER, this.cookie);
      if (length - ICMP_HEADER >= PAYLOAD_MIN && echoed !== seq) return;
      this.onReply({
        id, stamp: receiveStamp(this.config.clock, m.rxSec, m.rxNsec), from: m.from,
        icmp: { type, code: buf[offset + 1]! }, annotation: null, final: true, reached: m.from === this.config.target, mtu: null,
        ...NO_EXTENSIONS, replyTtl: m.ttl, flags: m.from === this.config.target ? [] : ['different-address'],
      });
      return;
    }
    if (this.socket !== 'raw') return;
    const err = parseIcmpError(buf, offset, length, this.family);
    const t = err?.quote?.transport;
    if (!err || !t || t.kind !== 'icmp' || t.type !== echoRequestType(this.family) || t.id !== this.sock.identifier) return;
    const id = this.ids.probeOf(t.seq);
    if (id === undefined) return;
    const q = err.quote!;
    const quotedPayload = q.transportOffset + ICMP_HEADER;
    const payloadLength = q.transportLength - ICMP_HEADER;
    if (payloadLength >= PAYLOAD_MIN && readProbePayload(buf, quotedPayload, payloadLength, this.cookie) !== t.seq) return;
    const flags = natFlags(q, {
      src: this.config.source, dst: this.config.target, icmpId: this.sock.identifier, icmpChecksum: this.ids.sentOn(t.seq)?.checksum,
    });
    this.onReply(icmpErrorReply(this.config, id, m, err, flags));
  }

  /** Error-queue entries: the answers of a ping socket (a raw socket's copies are dropped). */
  private queued(m: IcmpMessage, whileSending: boolean): void {
    const e = m.queued;
    if (!e || this.socket === 'raw' || (e.origin !== ORIGIN_ICMP && e.origin !== ORIGIN_ICMP6)) return;
    const { buf, offset, length } = m;
    if (length < ICMP_HEADER || buf[offset] !== echoRequestType(this.family) || readU16(buf, offset + 4) !== this.sock.identifier) return;
    const seq = readU16(buf, offset + 6);
    const id = this.ids.probeOf(seq);
    if (id === undefined) return;
    if (length - ICMP_HEADER >= PAYLOAD_MIN && readProbePayload(buf, offset + ICMP_HEADER, length - ICMP_HEADER, this.cookie) !== seq) return;
    const sent = this.ids.sentOn(seq);
    const flags: TracerouteProbeFlag[] = sent !== undefined && readU16(buf, offset + 2) !== sent.checksum ? ['nat'] : [];
    const quote = { offset: offset + ICMP_HEADER, length: length - ICMP_HEADER, headerLength: ipHeaderLength(this.family) + ICMP_HEADER, sentPayload: sent?.payload ?? PAYLOAD_MIN };
    const reply = queuedErrorReply(this.config, id, m, e, e.offender ?? m.from, quote, flags);
    this.deliver(reply, whileSending);
  }
}
