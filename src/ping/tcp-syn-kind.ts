// TCP SYN probes as a probe kind (hping3 -S, nping --tcp): an option-less SYN from one of the
// local ports the socket owns (probe n from port first + n mod count), the probe's number in the
// sequence number (offset by a random initial value, so only someone who saw the SYN can answer
// it). A SYN-ACK (open) or RST (closed) acknowledges sequence + 1 from the target's address and
// port to the probe's own port: all four and the acknowledged number must fit. ICMP errors come from the raw socket's error queue (IP_RECVERR),
// quoting our SYN's ports and sequence number. No payload: a SYN carrying data would change what
// the answer acknowledges.
//
// IPv4 checksums are ours to write (the pseudo header needs the source address the kernel will
// pick toward each target, asked once per target); IPv6 raw sockets compute them (IPV6_CHECKSUM).

import { readU16, readU32 } from '../packet/bytes.js';
import { foldChecksum, onesComplementSum, pseudoHeaderSum } from '../packet/checksum.js';
import { IP_PROTOCOL } from '../packet/ip-protocol.js';
import { TCP_FLAG, TCP_HEADER_LENGTH, writeTcp } from '../packet/tcp.js';
import { writeAddress } from '../socket/address-bytes.js';
import type { IcmpMessage } from '../socket/icmp-socket.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6 } from '../socket/received-message.js';
import { randomBytesSync } from '../socket/random.js';
import type { PingSocket } from './backend.js';
import type { ProbeKind } from './probe-kind.js';
import { errorDetail, ignore, isProbeError, PORT_CLOSED, PORT_OPEN, queuedNonIcmp, reset, type MatchResult } from './reply-matcher.js';
import type { TargetState } from './target-state.js';

const WINDOW = 65535;

export class TcpSynKind implements ProbeKind {
  readonly method = 'tcp-syn' as const;
  readonly port: number;
  readonly slotSize = TCP_HEADER_LENGTH;
  private readonly family: 4 | 6;
  private readonly localPort: number;
  private readonly localPorts: number;
  /** added to a probe's number to make its sequence number */
  private readonly isn: number;
  /** the template's sum with sequence and checksum zero */
  private readonly headerSum: number;
  private readonly template = Buffer.alloc(TCP_HEADER_LENGTH);
  /** IPv4: per target index, the unfolded sum of pseudo header and template (-1: not yet known) */
  private sums = new Float64Array(0);
  private readonly sourceToward: ((address: string) => string) | null;

  constructor(socket: PingSocket, isn = randomBytesSync(4).readUInt32BE(0)) {
    if (socket.port === undefined || socket.localPort === undefined) throw new Error('a TCP SYN socket must say its ports');
    this.family = socket.family;
    this.port = socket.port;
    this.localPort = socket.localPort;
    this.localPorts = socket.localPorts ?? 1;
    this.isn = isn >>> 0;
    const zero = this.family === 4 ? '0.0.0.0' : '::';
    writeTcp(this.template, 0, { srcPort: this.localPort, dstPort: this.port, seq: 0, flags: TCP_FLAG.SYN, window: WINDOW, src: zero, dst: zero });
    this.template.writeUInt16BE(0, 16);
    // the source port is each probe's own: summed per probe
    this.headerSum = onesComplementSum(this.template, 0, TCP_HEADER_LENGTH) - this.localPort;
    this.sourceToward = socket.sourceAddressToward ? (a) => socket.sourceAddressToward!(a) : null;
  }

  prefill(data: Buffer, slotSize: number, capacity: number): void {
    for (let i = 0; i < capacity; i++) data.set(this.template, i * slotSize);
  }

  /** The local port probe seq32 goes from. */
  private portOf(seq32: number): number {
    return this.localPort + (seq32 % this.localPorts);
  }

  write(data: Buffer, off: number, seq32: number, t: TargetState): number {
    const seq = (this.isn + seq32) >>> 0;
    const port = this.portOf(seq32);
    data[off] = port >>> 8;
    data[off + 1] = port & 0xff;
    data[off + 4] = seq >>> 24;
    data[off + 5] = (seq >>> 16) & 0xff;
    data[off + 6] = (seq >>> 8) & 0xff;
    data[off + 7] = seq & 0xff;
    if (this.family === 4) {
      const c = ~foldChecksum(this.sumFor(t) + port + (seq >>> 16) + (seq & 0xffff)) & 0xffff;
      data[off + 16] = c >>> 8;
      data[off + 17] = c & 0xff;
    }
    return TCP_HEADER_LENGTH;
  }

  /** The pseudo header's and the template's sum toward t (asks for the source address once). */
  private sumFor(t: TargetState): number {
    const i = t.index;
    if (i >= this.sums.length) {
      const grown = new Float64Array(Math.max(16, i + 1, this.sums.length * 2)).fill(-1);
      grown.set(this.sums);
      this.sums = grown;
    }
    let sum = this.sums[i]!;
    if (sum < 0) {
      if (this.sourceToward === null) throw new Error('an IPv4 TCP SYN socket must find source addresses');
      const src = Buffer.alloc(16);
      writeAddress(this.sourceToward(t.wireAddress), src, 0);
      sum = pseudoHeaderSum(src.subarray(0, 4), t.dest.subarray(t.destOffset, t.destOffset + 4), IP_PROTOCOL.TCP, TCP_HEADER_LENGTH) + this.headerSum;
      this.sums[i] = sum;
    }
    return sum;
  }

  classify(m: IcmpMessage, out: MatchResult): MatchResult {
    reset(out);
    const buf = m.buf, off = m.offset, len = m.length;
    const q = m.queued;
    if (q !== null) {
      if (q.origin !== ORIGIN_ICMP && q.origin !== ORIGIN_ICMP6) return queuedNonIcmp(m, out);
      if (!isProbeError(this.family, q.type)) return ignore(out, 'not an error that ends a probe');
      // the quote starts at our SYN's TCP header: ports and sequence number are its first 8 bytes
      if (len < 8 || readU16(buf, off + 2) !== this.port) return ignore(out, 'error about a segment that is not ours');
      out.seq32 = (readU32(buf, off + 4) - this.isn) >>> 0;
      if (readU16(buf, off) !== this.portOf(out.seq32)) return ignore(out, 'error about a segment that is not ours');
      out.wireSeq = out.seq32 & 0xffff;
      out.kind = 'icmp-error';
      out.type = q.type;
      out.code = q.code;
      errorDetail(this.family, q.type, q.code, q.info, out);
      out.router = q.offender;
      out.destination = m.from || null;
      return out;
    }
    if (len < TCP_HEADER_LENGTH) return ignore(out, 'shorter than a TCP header');
    if (readU16(buf, off) !== this.port) return ignore(out, 'another connection');
    const flags = buf[off + 13]!;
    // an answer to a SYN acknowledges it: SYN-ACK, or RST-ACK (RFC 9293 3.10.7.1)
    if ((flags & TCP_FLAG.ACK) === 0) return ignore(out, 'acknowledges nothing');
    if ((flags & TCP_FLAG.RST) !== 0) out.state = PORT_CLOSED;
    else if ((flags & TCP_FLAG.SYN) !== 0) out.state = PORT_OPEN;
    else return ignore(out, 'neither SYN-ACK nor RST');
    // no checksum check: a segment a local peer made over veth or lo still carries the partial
    // checksum of offloading when a raw socket copies it; matching is strict instead
    out.seq32 = (readU32(buf, off + 8) - 1 - this.isn) >>> 0;
    // to the port that probe went from: another connection's segment does not fit
    if (readU16(buf, off + 2) !== this.portOf(out.seq32)) return ignore(out, 'another connection');
    out.wireSeq = out.seq32 & 0xffff;
    out.replyBytes = len;
    out.kind = 'reply';
    return out;
  }

  forget(): void {}
}
