// One ICMP socket for one (family, mode), shared by every target: opens it with the right
// options and filters, reads the identifier the kernel uses, sends batches and drains
// received datagrams and the error queue with bounded work per wakeup.
import { getSystemErrorName } from 'node:util';
import {
  native, POLL_ERROR, POLL_READABLE, RECV_ADDR_STRIDE, RECV_FLAG_TRUNC, RECV_META_STRIDE, RecvMeta,
  type NativeBinding, type Poller,
} from '../native.js';
import type { IcmpMode } from '../privileges.js';
import { readAddress } from './address-bytes.js';
import { randomIdentifier } from './random.js';
import { icmpV4EchoBpf, icmpV4TypeFilter, icmpV6EchoBpf, icmpV6TypeFilter } from './kernel-filters.js';
import type { SendBatch } from './send-batch.js';

export type PmtuMode = 'do' | 'dont' | 'want' | 'probe';

export interface IcmpSocketOptions {
  family: 4 | 6;
  mode: IcmpMode;
  /** raw sockets: the echo identifier to use and filter on (random when absent) */
  identifier?: number;
  /** raw sockets: attach the BPF identifier filter (default true) */
  filterIdentifier?: boolean;
  ttl?: number;
  tos?: number;
  mark?: number;
  device?: string;
  source?: string;
  pmtu?: PmtuMode;
  /** receive buffer bytes (SO_RCVBUFFORCE when allowed, else SO_RCVBUF) */
  receiveBuffer?: number;
}

/** A received ICMP message, valid until the next drain overwrites the buffer. */
export interface IcmpMessage {
  /** the ICMP message is buf[offset, offset + length) (IPv4 raw: after the IP header) */
  buf: Buffer;
  offset: number;
  length: number;
  truncated: boolean;
  /** source address of the datagram (error queue: the original destination) */
  from: string;
  ttl: number | null;
  tos: number | null;
  /** CLOCK_REALTIME kernel receive time; -1 when the kernel gave none */
  rxSec: number;
  rxNsec: number;
  /** set for error-queue messages (ping sockets, local errors) */
  queued: QueuedError | null;
  /**
   * When present: true when the source address is the one in b[off..off+16) (IPv4: its first
   * 4 bytes), compared without making a string (see ReceivedMessage).
   */
  sourceEquals?(b: Buffer, off: number): boolean;
}

export interface QueuedError {
  errno: number;
  /** SO_EE_ORIGIN_*: 1 local, 2 ICMP, 3 ICMPv6 */
  origin: number;
  type: number;
  code: number;
  /** the MTU for fragmentation-needed / packet-too-big / local EMSGSIZE */
  info: number;
  offender: string | null;
}

const SLOT = 2048;
const BATCH = 64;

/** Where one recvBatch puts its messages. */
interface ReceiveArea {
  buf: Buffer;
  meta: Float64Array;
  addrs: Buffer;
  /** sendAndReceive's area: messages [next, count) not handed out yet; errno of a failed read */
  next: number;
  count: number;
  errno: number;
}

function newReceiveArea(): ReceiveArea {
  return {
    buf: Buffer.alloc(SLOT * BATCH), meta: new Float64Array(RECV_META_STRIDE * BATCH), addrs: Buffer.alloc(RECV_ADDR_STRIDE * BATCH),
    next: 0, count: 0, errno: 0,
  };
}

function queuedError(area: ReceiveArea, i: number): QueuedError {
  const meta = area.meta;
  const m = i * RECV_META_STRIDE;
  const offFam = meta[m + RecvMeta.offenderFamily]!;
  return {
    errno: meta[m + RecvMeta.eeErrno]!,
    origin: meta[m + RecvMeta.eeOrigin]!,
    type: meta[m + RecvMeta.eeType]!,
    code: meta[m + RecvMeta.eeCode]!,
    info: meta[m + RecvMeta.eeInfo]!,
    // a link-local offender has the scope of the error's arrival, which the destination's shows
    offender: offFam === 4 || offFam === 6 ? readAddress(area.addrs, i * RECV_ADDR_STRIDE + 16, offFam, meta[m + RecvMeta.scopeId]!) : null,
  };
}
/** messages handled per wakeup before yielding to the event loop */
export const DRAIN_BUDGET = 1024;

export class IcmpSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  readonly mode: IcmpMode;
  /** the identifier on the wire (ping sockets: the one the kernel assigned) */
  readonly identifier: number;
  private readonly n: NativeBinding;
  private poller: Poller | null = null;
  private readonly main = newReceiveArea();
  /** what sendAndReceive read: messages [next, count), or the errno of its failed read */
  private readonly stash = newReceiveArea();
  private readonly counts = new Int32Array(2);
  /** messages of the sendAndReceive area are being handed out */
  private handingOut = false;
  private closed = false;
  private reused: ReceivedMessage | null = null;

  constructor(opts: IcmpSocketOptions) {
    const n = (this.n = native());
    const C = n.constants;
    this.family = opts.family;
    this.mode = opts.mode;
    const v6 = opts.family === 6;
    const fd = n.socket(v6 ? C.AF_INET6 : C.AF_INET, opts.mode === 'raw' ? C.SOCK_RAW : C.SOCK_DGRAM, v6 ? C.IPPROTO_ICMPV6 : C.IPPROTO_ICMP);
    this.fd = fd;
    try {
      const ip = v6 ? C.IPPROTO_IPV6 : C.IPPROTO_IP;
      n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
      n.setsockoptInt(fd, ip, v6 ? C.IPV6_RECVERR : C.IP_RECVERR, 1);
      if (v6) {
        n.setsockoptInt(fd, ip, C.IPV6_RECVHOPLIMIT, 1);
        n.setsockoptInt(fd, ip, C.IPV6_RECVTCLASS, 1);
      } else if (opts.mode === 'dgram') {
        // raw IPv4 sockets read TTL and TOS from the IP header instead
        n.setsockoptInt(fd, ip, C.IP_RECVTTL, 1);
        n.setsockoptInt(fd, ip, C.IP_RECVTOS, 1);
      }
      if (opts.ttl !== undefined) n.setsockoptInt(fd, ip, v6 ? C.IPV6_UNICAST_HOPS : C.IP_TTL, opts.ttl);
      if (opts.tos !== undefined) n.setsockoptInt(fd, ip, v6 ? C.IPV6_TCLASS : C.IP_TOS, opts.tos);
      if (opts.mark !== undefined) n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_MARK, opts.mark);
      if (opts.device !== undefined) n.setsockoptBuffer(fd, C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'));
      if (opts.pmtu !== undefined) {
        const values = v6
          ? { do: C.IPV6_PMTUDISC_DO, dont: C.IPV6_PMTUDISC_DONT, want: C.IPV6_PMTUDISC_WANT, probe: C.IPV6_PMTUDISC_PROBE }
          : { do: C.IP_PMTUDISC_DO, dont: C.IP_PMTUDISC_DONT, want: C.IP_PMTUDISC_WANT, probe: C.IP_PMTUDISC_PROBE };
        n.setsockoptInt(fd, ip, v6 ? C.IPV6_MTU_DISCOVER : C.IP_MTU_DISCOVER, values[opts.pmtu]);
      }
      if (opts.receiveBuffer !== undefined) {
        try {
          n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_RCVBUFFORCE, opts.receiveBuffer);
        } catch {
          n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_RCVBUF, opts.receiveBuffer);
        }
      }
      if (opts.mode === 'raw') {
        this.identifier = opts.identifier ?? randomIdentifier();
        if (opts.source !== undefined) n.bind(fd, opts.family, opts.source, 0);
        if (v6) n.setsockoptBuffer(fd, C.IPPROTO_ICMPV6, C.ICMPV6_FILTER, icmpV6TypeFilter());
        else n.setsockoptBuffer(fd, C.IPPROTO_ICMP, C.ICMP_FILTER, icmpV4TypeFilter());
        if (opts.filterIdentifier !== false) n.attachFilter(fd, v6 ? icmpV6EchoBpf(this.identifier) : icmpV4EchoBpf(this.identifier));
      } else {
        // a ping socket's identifier is its "port": bind to get one, then read it back
        n.bind(fd, opts.family, opts.source ?? (v6 ? '::' : '0.0.0.0'), 0);
        this.identifier = n.getsockname(fd).port ?? 0;
      }
    } catch (e) {
      n.close(fd);
      throw e;
    }
  }

  /** Calls onEvent(readable, errorQueue) whenever the socket has something to read. */
  start(onEvent: (readable: boolean, errorQueue: boolean) => void): void {
    if (this.closed) throw new Error('the ICMP socket is closed');
    if (!this.poller) {
      this.poller = new this.n.Poller(this.fd, (status, events) => {
        if (this.closed) return;
        onEvent(status === 0 && (events & POLL_READABLE) !== 0, (events & POLL_ERROR) !== 0 || status !== 0);
      });
    }
    this.poller.start(POLL_READABLE);
  }

  /** Lets the process exit while the socket is open (library users' choice). */
  unref(): void {
    this.poller?.unref();
  }
  ref(): void {
    this.poller?.ref();
  }

  /** Sends the batch; returns how many messages were processed (the rest hit EAGAIN/ENOBUFS). */
  send(batch: SendBatch): number {
    // after close() the fd number may already be another socket's
    if (this.closed) throw new Error('the ICMP socket is closed');
    return this.n.sendBatch(this.fd, batch.data, batch.desc, batch.addrs, batch.count, batch.out);
  }

  /**
   * Sends the batch like send(), and in the same native call reads what is then queued (up
   * to 64 datagrams, not the error queue): on loopback and fast links the answers to a batch
   * are there before its last sendmsg returns. The next drain() or read() hands those out
   * first. Returns how many messages were processed, as send() does.
   */
  sendAndReceive(batch: SendBatch): number {
    const st = this.stash;
    // what the last call read must be handed out (and not be being handed out: a callback may
    // send) before the next call overwrites it
    if (st.next < st.count || st.errno !== 0 || this.handingOut || this.closed) return this.send(batch);
    const counts = this.counts;
    const sent = this.n.sendRecvBatch(this.fd, batch.data, batch.desc, batch.addrs, batch.count, batch.out, st.buf, SLOT, BATCH, st.meta, st.addrs, counts);
    const got = counts[1]!;
    st.next = 0;
    st.count = got > 0 ? got : 0;
    st.errno = got < 0 ? -got : 0;
    return sent;
  }

  /**
   * Reads up to budget messages (errorQueue: from MSG_ERRQUEUE) and hands each to onMessage.
   * Returns how many were read; fewer than budget means the queue is empty (datagrams that
   * sendAndReceive read come first, and when its read found the queue empty no other read
   * follows: newer datagrams wait for the next call).
   */
  drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget = DRAIN_BUDGET): number {
    return this.receive(errorQueue, onMessage, budget, null);
  }

  /**
   * Like drain, but hands out one ReceivedMessage object per socket, refilled for every message
   * (valid only during the callback), whose `from` string is made only when asked for. For hot
   * loops: no allocation per message.
   */
  read(errorQueue: boolean, onMessage: (m: ReceivedMessage) => void, budget = DRAIN_BUDGET): number {
    return this.receive(errorQueue, onMessage as (m: IcmpMessage) => void, budget, (this.reused ??= new ReceivedMessage()));
  }

  private receive(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget: number, reused: ReceivedMessage | null): number {
    let total = 0;
    if (!errorQueue) {
      const st = this.stash;
      if (st.next < st.count) {
        // what sendAndReceive read comes first
        const from = st.next;
        const upTo = Math.min(st.count, from + budget);
        st.next = upTo;
        this.handingOut = true;
        try {
          total = this.deliver(st, from, upTo, false, onMessage, reused);
        } finally {
          this.handingOut = false;
        }
        if (this.closed || total === budget) return total;
        // that read was not full: the queue was empty then; newer datagrams wait for the next look
        if (st.count < BATCH) return total;
      } else if (st.errno !== 0) {
        // the pending socket error sendAndReceive's read met, reported as drain reports it
        const errno = st.errno;
        st.errno = 0;
        const code = getSystemErrorName(-errno);
        throw Object.assign(new Error(`${code}: pending socket error, recvmmsg`), { code, errno, syscall: 'recvmmsg' });
      }
    }
    const main = this.main;
    while (total < budget && !this.closed) {
      const want = Math.min(BATCH, budget - total);
      const got = this.n.recvBatch(this.fd, main.buf, SLOT, want, main.meta, main.addrs, errorQueue);
      total += this.deliver(main, 0, got, errorQueue, onMessage, reused);
      if (got < want) break;
    }
    return total;
  }

  /** Hands out messages [from, to) of a receive area; returns how many (fewer when closed meanwhile). */
  private deliver(area: ReceiveArea, from: number, to: number, errorQueue: boolean, onMessage: (m: IcmpMessage) => void, reused: ReceivedMessage | null): number {
    const v4raw = this.family === 4 && this.mode === 'raw' && !errorQueue;
    const buf = area.buf, meta = area.meta, addrs = area.addrs;
    for (let i = from; i < to; i++) {
      const m = i * RECV_META_STRIDE;
      // small integers as int32, so the message's fields keep one representation
      const full = meta[m + RecvMeta.length]! | 0;
      let offset = i * SLOT;
      let length = full < SLOT ? full : SLOT;
      let ttl: number | null = meta[m + RecvMeta.ttl]! >= 0 ? meta[m + RecvMeta.ttl]! : null;
      let tos: number | null = meta[m + RecvMeta.tos]! >= 0 ? meta[m + RecvMeta.tos]! : null;
      const fam = meta[m + RecvMeta.family]! | 0;
      if (v4raw) {
        // raw IPv4 delivers the IP header: skip it (variable IHL), take TTL and TOS from it
        const ihl = (buf[offset]! & 0x0f) * 4;
        if (ihl < 20 || ihl > length) continue;
        ttl = buf[offset + 8]!;
        tos = buf[offset + 1]!;
        offset += ihl;
        length -= ihl;
      }
      const queued = errorQueue ? queuedError(area, i) : null;
      const truncated = (meta[m + RecvMeta.flags]! & RECV_FLAG_TRUNC) !== 0;
      if (reused !== null) {
        reused.set(buf, offset, length, truncated, fam, addrs, i * RECV_ADDR_STRIDE, meta[m + RecvMeta.scopeId]!, ttl, tos, meta[m + RecvMeta.tsSec]!, meta[m + RecvMeta.tsNsec]!, queued);
        onMessage(reused);
      } else {
        onMessage({
          buf, offset, length, truncated,
          from: fam === 4 || fam === 6 ? readAddress(addrs, i * RECV_ADDR_STRIDE, fam, meta[m + RecvMeta.scopeId]!) : '',
          ttl, tos,
          rxSec: meta[m + RecvMeta.tsSec]!, rxNsec: meta[m + RecvMeta.tsNsec]!,
          queued,
        });
      }
      if (this.closed) return i + 1 - from;
    }
    return to - from;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stash.next = this.stash.count = this.stash.errno = 0;
    this.poller?.close();
    this.poller = null;
    this.n.close(this.fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/**
 * The message read() hands out: one object refilled for every message. `from` is formatted only
 * when asked for (and kept while the next messages come from the same address);
 * sourceEquals() compares the source with address bytes without making a string.
 */
export class ReceivedMessage implements IcmpMessage {
  buf: Buffer = EMPTY;
  offset = 0;
  length = 0;
  truncated = false;
  ttl: number | null = null;
  tos: number | null = null;
  // doubles from the start (see set())
  rxSec = -0;
  rxNsec = -0;
  queued: QueuedError | null = null;
  /** 4, 6, or 0 when the datagram had no source address */
  family = 0;
  /** the 16 source address bytes are addrs[addrOffset..] */
  addrs: Buffer = EMPTY;
  addrOffset = 0;
  /** the source's scope id (link-local sources; 0 otherwise) */
  scopeId = 0;
  // the last address made into a string, and its bytes and scope
  private text = '';
  private textFamily = -1;
  private textScope = 0;
  private readonly textBytes = Buffer.alloc(16);
  private fresh = false;

  /** @internal */
  set(buf: Buffer, offset: number, length: number, truncated: boolean, family: number, addrs: Buffer, addrOffset: number, scopeId: number, ttl: number | null, tos: number | null, rxSec: number, rxNsec: number, queued: QueuedError | null): void {
    this.buf = buf;
    this.addrs = addrs;
    this.offset = offset;
    this.length = length;
    this.truncated = truncated;
    this.family = family === 4 || family === 6 ? family : 0;
    this.addrOffset = addrOffset;
    this.scopeId = scopeId;
    this.ttl = ttl;
    this.tos = tos;
    this.rxSec = rxSec;
    this.rxNsec = rxNsec;
    this.queued = queued;
    this.fresh = false;
  }

  /** Source address of the datagram (error queue: the original destination); '' when none. */
  get from(): string {
    if (this.fresh) return this.text;
    const fam = this.family;
    if (fam === 0) {
      this.textFamily = 0;
      this.text = '';
    } else if (fam !== this.textFamily || this.scopeId !== this.textScope || !this.sourceEquals(this.textBytes, 0)) {
      this.text = readAddress(this.addrs, this.addrOffset, fam, this.scopeId);
      this.textFamily = fam;
      this.textScope = this.scopeId;
      this.addrs.copy(this.textBytes, 0, this.addrOffset, this.addrOffset + 16);
    }
    this.fresh = true;
    return this.text;
  }

  /** True when the source address is the one in b[off..off+16) (IPv4: its first 4 bytes). */
  sourceEquals(b: Buffer, off: number): boolean {
    const a = this.addrs, o = this.addrOffset;
    const n = this.family === 4 ? 4 : this.family === 6 ? 16 : 0;
    if (n === 0) return false;
    for (let i = 0; i < n; i++) if (a[o + i] !== b[off + i]) return false;
    return true;
  }
}

const EMPTY = Buffer.alloc(0);
