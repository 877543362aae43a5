// ICMP echo probes on the shared ICMP socket (raw, or a ping socket without privileges). The
// echo sequence identifies the probe; with Paris flows every probe carries the same ICMP
// checksum (per-flow load balancers hash on it, like on ports) by compensating in the payload.
// Raw sockets read whole errors (quoted IP header: NAT detection; RFC 4884 extensions); ping
// sockets get errors from the error queue (offender, type, code, the quoted echo).
import { randomInt } from 'node:crypto';
import { writeAddress } from '../../icmp/address-bytes.js';
import type { IcmpMessage, IcmpSocket } from '../../icmp/icmp-socket.js';
import { SendBatch } from '../../icmp/send-batch.js';
import { toAddressBytes } from '../../packet/address.js';
import { readU16 } from '../../packet/bytes.js';
import { verifyChecksum } from '../../packet/checksum.js';
import { parseIcmpError, quoteMismatches } from '../../packet/icmp-error-parse.js';
import { echoReplyType, echoRequestType, writeEcho, writeEchoWithChecksum } from '../../packet/icmp.js';
import { PAYLOAD_MIN, readProbePayload, writeProbePayload } from '../probe-payload.js';
import { decodeError, extensionInfo, NO_EXTENSIONS, queuedExtensions } from '../reply-decoding.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import type { TracerouteProbeFlag } from '../types.js';
import { WireIds } from '../wire-ids.js';
import { isPendingSocketError } from './probe-socket.js';
import { DeferredReplies, ERRNO, ipHeaderLength, receiveStamp, sendBatchThroughPendingErrors, sendOutcomes, type TransportConfig } from './common.js';

const ICMP_HEADER = 8;

export class IcmpTransport implements ProbeTransport {
  readonly method = 'icmp' as const;
  readonly socket: 'raw' | 'dgram';
  readonly flow;
  readonly family: 4 | 6;
  readonly minLength: number;
  readonly sizable = true;
  private readonly ids = new WireIds(1, 0xffff);
  private readonly cookie = randomInt(0, 0x100000000);
  /** the constant checksum of Paris probes */
  private readonly flowChecksum = randomInt(1, 0xffff);
  /** per wire sequence: the checksum and payload length sent */
  private readonly sent = new Map<number, { checksum: number; payload: number }>();
  private readonly dest = Buffer.alloc(16);
  private readonly srcBytes: Uint8Array;
  private readonly dstBytes: Uint8Array;
  private onReply: (r: ProbeReply) => void = () => {};
  private onFailure: (e: Error) => void = () => {};
  private deferred: DeferredReplies | null = null;
  private closed = false;
  private draining = false;

  constructor(private readonly sock: IcmpSocket, private readonly config: TransportConfig) {
    this.socket = sock.mode;
    this.family = config.family;
    this.flow = config.flow;
    this.minLength = ipHeaderLength(config.family) + ICMP_HEADER + PAYLOAD_MIN;
    writeAddress(config.target, this.dest, 0);
    this.srcBytes = toAddressBytes(config.source, config.family);
    this.dstBytes = toAddressBytes(config.target, config.family);
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
    // one drain at a time: a nested one would overwrite the buffers the outer one reads
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      // the error queue first: reading it also clears the pending error that would otherwise
      // make the ordinary receive fail
      if (errorQueue || readable) this.sock.drain(true, (m) => this.queued(m, false));
      if (readable) this.drainReceived();
    } finally {
      this.draining = false;
    }
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const family = this.family;
    const slot = Math.max(...probes.map((p) => p.length));
    const batch = new SendBatch(probes.length, slot);
    for (const p of probes) {
      const seq = this.ids.allocate(p.id);
      const off = batch.nextOffset();
      const payload = p.length - ipHeaderLength(family) - ICMP_HEADER;
      writeProbePayload(batch.data, off + ICMP_HEADER, payload, seq, this.cookie);
      const fields = {
        family, id: this.sock.identifier, seq, payloadLength: payload,
        ...(family === 6 ? { src: this.srcBytes, dst: this.dstBytes } : {}),
      };
      const len = this.flow === 'paris'
        ? writeEchoWithChecksum(batch.data, off, fields, this.flowChecksum, 0)
        : writeEcho(batch.data, off, fields);
      this.sent.set(seq, { checksum: readU16(batch.data, off + 2), payload });
      batch.push(len, family, this.dest, 0, 0, p.ttl);
    }
    const processed = sendBatchThroughPendingErrors((b) => this.sock.send(b), batch);
    return sendOutcomes(batch, processed, this.config.clock, () => this.localMtu());
  }

  release(id: number): void {
    const seq = this.ids.wireOf(id);
    if (seq !== undefined) this.sent.delete(seq);
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

  /** The MTU of a local EMSGSIZE, from the error queue (other entries are answered later). */
  private localMtu(): number {
    let mtu = 0;
    // sending from inside a drain (an answer led to a resend) cannot read the queue now
    if (this.draining) return mtu;
    this.sock.drain(true, (m) => {
      if (m.queued?.origin === 1 && m.queued.errno === ERRNO.EMSGSIZE) mtu = m.queued.info;
      else this.queued(m, true);
    });
    return mtu;
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
        icmp: { type, code: buf[offset + 1]! }, annotation: null, final: true, reached: true, mtu: null,
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
    const flags: TracerouteProbeFlag[] = [];
    const rewritten = quoteMismatches(q, {
      src: this.config.source, dst: this.config.target, icmpId: this.sock.identifier, icmpChecksum: this.sent.get(t.seq)?.checksum,
    });
    if (rewritten.length) flags.push('nat');
    const d = decodeError(this.family, err.type, err.code, err.mtu);
    this.onReply({
      id, stamp: receiveStamp(this.config.clock, m.rxSec, m.rxNsec), from: m.from,
      icmp: { type: err.type, code: err.code }, ...d,
      ...(this.config.extensions ? extensionInfo(buf, err.extensions) : NO_EXTENSIONS),
      replyTtl: m.ttl, flags,
    });
  }

  /** Error-queue entries: the answers of a ping socket (a raw socket's copies are dropped). */
  private queued(m: IcmpMessage, deferred: boolean): void {
    const e = m.queued;
    if (!e || this.socket === 'raw' || (e.origin !== 2 && e.origin !== 3)) return;
    const { buf, offset, length } = m;
    if (length < ICMP_HEADER || buf[offset] !== echoRequestType(this.family) || readU16(buf, offset + 4) !== this.sock.identifier) return;
    const seq = readU16(buf, offset + 6);
    const id = this.ids.probeOf(seq);
    if (id === undefined) return;
    if (length - ICMP_HEADER >= PAYLOAD_MIN && readProbePayload(buf, offset + ICMP_HEADER, length - ICMP_HEADER, this.cookie) !== seq) return;
    const sent = this.sent.get(seq);
    const flags: TracerouteProbeFlag[] = sent !== undefined && readU16(buf, offset + 2) !== sent.checksum ? ['nat'] : [];
    const d = decodeError(this.family, e.type, e.code, e.info);
    const reply: ProbeReply = {
      id, stamp: receiveStamp(this.config.clock, m.rxSec, m.rxNsec), from: e.offender ?? m.from,
      icmp: { type: e.type, code: e.code }, ...d,
      ...(this.config.extensions
        ? queuedExtensions(this.family, e.type, buf, offset + ICMP_HEADER, length - ICMP_HEADER, ipHeaderLength(this.family) + ICMP_HEADER, sent?.payload ?? PAYLOAD_MIN)
        : NO_EXTENSIONS),
      replyTtl: m.ttl, flags,
    };
    if (deferred) this.deferred?.push(reply);
    else this.onReply(reply);
  }
}
