// A socket on the addon that reads datagrams and its error queue: opened with the one option
// list (socket-options.ts), bound and filtered when asked, polled with the loop's uv_poll,
// batched sends, and bounded reads that decode each message (raw IPv4: past the IP header,
// taking TTL and TOS from it; the error queue: its QueuedError). The ICMP and probe sockets
// are variants of it (icmp-socket.ts, probe-socket.ts).
import {
  native, POLL_ERROR, POLL_READABLE, POLL_WRITABLE, RECV_ADDR_STRIDE, RECV_FLAG_TRUNC, RECV_META_STRIDE, RecvMeta,
  type IoArea, type NativeBinding, type Poller,
} from '../native.js';
import { readAddress } from './address-bytes.js';
import { isPendingSocketError } from './pending-errors.js';
import { BATCH, queuedErrorAt, ReceiveArea, SLOT } from './receive-area.js';
import { ReceivedMessage, type DatagramMessage } from './received-message.js';
import type { SendBatch } from './send-batch.js';
import { applySocketOptions, type SocketOptions } from './socket-options.js';
import { systemError } from '../runtime/system-error.js';

/** messages handled per wakeup before yielding to the event loop */
export const DRAIN_BUDGET = 1024;

/** pending socket errors an ordinary read steps over in one call before it stops looking */
const PENDING_READS = 8;

export interface DatagramSocketOptions extends SocketOptions {
  family: 4 | 6;
  type: 'raw' | 'dgram' | 'stream';
  /** IPPROTO_* (raw: the protocol of the packets built in user space) */
  protocol: number;
  /** bind to this address (and port) when either is given */
  source?: string;
  sourcePort?: number;
  /** classic BPF program to attach (see bpf.ts) */
  filter?: Buffer;
  /**
   * Ordinary reads step over the pending error an ICMP error leaves (its details are in the
   * error queue) instead of throwing it (default false: the caller decides).
   */
  readPastPendingErrors?: boolean;
}

export class DatagramSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  protected readonly n: NativeBinding;
  private poller: Poller | null = null;
  /** raw IPv4 sockets deliver the IP header in front of what they receive */
  private readonly stripIpHeader: boolean;
  private readonly readPastPendingErrors: boolean;
  /** where reads go (allocated by the first read) */
  private main: ReceiveArea | null = null;
  /** what sendAndReceive read: messages [next, count), or the errno of its failed read */
  private stash: ReceiveArea | null = null;
  /** messages of the sendAndReceive area are being handed out */
  private handingOut = false;
  private closed = false;
  private reused: ReceivedMessage | null = null;

  constructor(opts: DatagramSocketOptions) {
    const n = (this.n = native());
    const C = n.constants;
    this.family = opts.family;
    const v6 = opts.family === 6;
    const type = opts.type === 'raw' ? C.SOCK_RAW : opts.type === 'dgram' ? C.SOCK_DGRAM : C.SOCK_STREAM;
    const fd = n.socket(v6 ? C.AF_INET6 : C.AF_INET, type, opts.protocol);
    this.fd = fd;
    this.stripIpHeader = !v6 && opts.type === 'raw';
    this.readPastPendingErrors = opts.readPastPendingErrors ?? false;
    try {
      applySocketOptions(n, fd, opts.family, opts.type === 'raw', opts);
      if (opts.source !== undefined || opts.sourcePort !== undefined) n.bind(fd, opts.family, opts.source ?? (v6 ? '::' : '0.0.0.0'), opts.sourcePort ?? 0);
    } catch (e) {
      n.close(fd);
      throw e;
    }
    if (opts.filter) this.attachFilter(opts.filter);
  }

  /** Binds to a local address (and port); raw sockets then send from exactly that address. */
  bind(address: string, port = 0): void {
    this.n.bind(this.fd, this.family, address, port);
  }

  /**
   * Replaces the socket's classic BPF program. What the socket queued before the program was
   * attached passed no filter (a raw socket sees every host's ICMP from socket() on), so it is
   * read and dropped: afterwards only what the program admits is ever read.
   */
  attachFilter(program: Buffer): void {
    try {
      this.n.attachFilter(this.fd, program);
      this.drain(false, () => {});
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Calls onEvent(readable, errorQueue, writable) whenever the socket has something to say. */
  start(onEvent: (readable: boolean, errorQueue: boolean, writable: boolean) => void, events = POLL_READABLE): void {
    if (this.closed) throw new Error('the socket is closed');
    if (!this.poller) {
      this.poller = new this.n.Poller(this.fd, (status, ev) => {
        if (this.closed) return;
        onEvent(status === 0 && (ev & POLL_READABLE) !== 0, (ev & POLL_ERROR) !== 0 || status !== 0, status === 0 && (ev & POLL_WRITABLE) !== 0);
      });
    }
    this.poller.start(events);
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
    if (this.closed) throw new Error('the socket is closed');
    return this.n.sendBatchIn(this.fd, this.sendArea(batch), batch.count);
  }

  /** The batch's arrays, registered with the addon once. */
  private sendArea(batch: SendBatch): IoArea {
    return (batch.area ??= this.n.ioArea(batch.data, batch.desc, batch.addrs, batch.out));
  }

  /** The receive area's arrays, registered with the addon once. */
  private recvArea(area: ReceiveArea): IoArea {
    return (area.area ??= this.n.ioArea(area.buf, area.meta, area.addrs, area.counts));
  }

  /**
   * Sends the batch like send(), and in the same native call reads what is then queued (up
   * to BATCH datagrams, not the error queue): on loopback and fast links the answers to a batch
   * are there before its last sendmsg returns. The next drain() or read() hands those out
   * first. Returns how many messages were processed, as send() does.
   */
  sendAndReceive(batch: SendBatch): number {
    const st = (this.stash ??= new ReceiveArea());
    // what the last call read must be handed out (and not be being handed out: a callback may
    // send) before the next call overwrites it
    if (st.next < st.count || st.errno !== 0 || this.handingOut || this.closed) return this.send(batch);
    const sent = this.n.sendRecvBatchIn(this.fd, this.sendArea(batch), batch.count, this.recvArea(st), SLOT, BATCH);
    const got = st.counts[1]!;
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
  drain(errorQueue: boolean, onMessage: (m: DatagramMessage) => void, budget = DRAIN_BUDGET): number {
    return this.receive(errorQueue, onMessage, budget, null);
  }

  /**
   * Like drain, but hands out one ReceivedMessage object per socket, refilled for every message
   * (valid only during the callback), whose `from` string is made only when asked for. For hot
   * loops: no allocation per message.
   */
  read(errorQueue: boolean, onMessage: (m: ReceivedMessage) => void, budget = DRAIN_BUDGET): number {
    return this.receive(errorQueue, onMessage as (m: DatagramMessage) => void, budget, (this.reused ??= new ReceivedMessage()));
  }

  private receive(errorQueue: boolean, onMessage: (m: DatagramMessage) => void, budget: number, reused: ReceivedMessage | null): number {
    let total = 0;
    const st = this.stash;
    if (!errorQueue && st !== null) {
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
        // the pending socket error sendAndReceive's read met, reported as a read reports it
        const errno = st.errno;
        st.errno = 0;
        if (!this.readPastPendingErrors) throw systemError(errno, 'recvmmsg', 'pending socket error, recvmmsg');
      }
    }
    const main = (this.main ??= new ReceiveArea());
    let pendingErrors = 0;
    while (total < budget && !this.closed) {
      const want = Math.min(BATCH, budget - total);
      let got: number;
      try {
        got = this.n.recvBatchIn(this.fd, this.recvArea(main), SLOT, want, errorQueue);
      } catch (e) {
        // the pending error an ICMP error left: read on when this socket says so; a stream of
        // them (errors arriving as fast as we read) ends this look, not the socket
        if (errorQueue || !this.readPastPendingErrors || !isPendingSocketError(e)) throw e;
        if (++pendingErrors > PENDING_READS) break;
        continue;
      }
      total += this.deliver(main, 0, got, errorQueue, onMessage, reused);
      if (got < want) break;
    }
    return total;
  }

  /** Hands out messages [from, to) of a receive area; returns how many (fewer when closed meanwhile). */
  private deliver(area: ReceiveArea, from: number, to: number, errorQueue: boolean, onMessage: (m: DatagramMessage) => void, reused: ReceivedMessage | null): number {
    const strip = this.stripIpHeader && !errorQueue;
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
      if (strip) {
        // skip the IP header (variable IHL), taking TTL and TOS from it
        const first = buf[offset]!;
        const ihl = (first & 0x0f) * 4;
        if (first >> 4 !== 4 || ihl < 20 || ihl > length) continue;
        ttl = buf[offset + 8]!;
        tos = buf[offset + 1]!;
        offset += ihl;
        length -= ihl;
      }
      const queued = errorQueue ? queuedErrorAt(area, i) : null;
      const truncated = (meta[m + RecvMeta.flags]! & RECV_FLAG_TRUNC) !== 0;
      const port = meta[m + RecvMeta.port]! | 0;
      // ee_data belongs to sock_extended_err: error-queue entries only
      const eeData = errorQueue ? meta[m + RecvMeta.eeData]! : 0;
      // link-local sources get their %ifname (as Node prints them), so they equal a scoped target
      // (an integer, not the double the array holds: a double here would change
      // ReceivedMessage's layout in the middle of a run)
      const scopeId = meta[m + RecvMeta.scopeId]! >>> 0;
      if (reused !== null) {
        reused.set(buf, offset, length, truncated, fam, addrs, i * RECV_ADDR_STRIDE, scopeId, port, ttl, tos, meta[m + RecvMeta.tsSec]!, meta[m + RecvMeta.tsNsec]!, queued, eeData);
        onMessage(reused);
      } else {
        onMessage({
          buf, offset, length, truncated,
          from: fam === 4 || fam === 6 ? readAddress(addrs, i * RECV_ADDR_STRIDE, fam, scopeId) : '',
          port, ttl, tos,
          rxSec: meta[m + RecvMeta.tsSec]!, rxNsec: meta[m + RecvMeta.tsNsec]!,
          queued, eeData,
        });
      }
      if (this.closed) return i + 1 - from;
    }
    return to - from;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stash) this.stash.next = this.stash.count = this.stash.errno = 0;
    this.poller?.close();
    this.poller = null;
    this.n.close(this.fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
