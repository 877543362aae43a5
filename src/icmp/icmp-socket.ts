// One ICMP socket for one (family, mode), shared by every target: opens it with the right
// options and filters, reads the identifier the kernel uses, sends batches and drains
// received datagrams and the error queue with bounded work per wakeup.
import { randomInt } from 'node:crypto';
import {
  native, POLL_ERROR, POLL_READABLE, RECV_ADDR_STRIDE, RECV_FLAG_TRUNC, RECV_META_STRIDE, RecvMeta,
  type NativeBinding, type Poller,
} from '../native.js';
import type { IcmpMode } from '../privileges.js';
import { readAddress } from './address-bytes.js';
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
  private readonly rbuf = Buffer.alloc(SLOT * BATCH);
  private readonly meta = new Float64Array(RECV_META_STRIDE * BATCH);
  private readonly addrs = Buffer.alloc(RECV_ADDR_STRIDE * BATCH);
  private closed = false;

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
        this.identifier = opts.identifier ?? randomInt(1, 0x10000);
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
    return this.n.sendBatch(this.fd, batch.data, batch.desc, batch.addrs, batch.count, batch.out);
  }

  /**
   * Reads up to budget messages (errorQueue: from MSG_ERRQUEUE) and hands each to onMessage.
   * Returns how many were read; fewer than budget means the queue is empty.
   */
  drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget = DRAIN_BUDGET): number {
    let total = 0;
    const v4raw = this.family === 4 && this.mode === 'raw';
    while (total < budget && !this.closed) {
      const got = this.n.recvBatch(this.fd, this.rbuf, SLOT, Math.min(BATCH, budget - total), this.meta, this.addrs, errorQueue);
      for (let i = 0; i < got; i++) {
        const m = i * RECV_META_STRIDE;
        const meta = this.meta;
        const full = meta[m + RecvMeta.length]!;
        let offset = i * SLOT;
        let length = Math.min(full, SLOT);
        let ttl: number | null = meta[m + RecvMeta.ttl]! >= 0 ? meta[m + RecvMeta.ttl]! : null;
        let tos: number | null = meta[m + RecvMeta.tos]! >= 0 ? meta[m + RecvMeta.tos]! : null;
        const fam = meta[m + RecvMeta.family]!;
        const from = fam === 4 || fam === 6 ? readAddress(this.addrs, i * RECV_ADDR_STRIDE, fam) : '';
        if (v4raw && !errorQueue) {
          // raw IPv4 delivers the IP header: skip it (variable IHL), take TTL and TOS from it
          const ihl = (this.rbuf[offset]! & 0x0f) * 4;
          if (ihl < 20 || ihl > length) continue;
          ttl = this.rbuf[offset + 8]!;
          tos = this.rbuf[offset + 1]!;
          offset += ihl;
          length -= ihl;
        }
        let queued: QueuedError | null = null;
        if (errorQueue) {
          const offFam = meta[m + RecvMeta.offenderFamily]!;
          queued = {
            errno: meta[m + RecvMeta.eeErrno]!,
            origin: meta[m + RecvMeta.eeOrigin]!,
            type: meta[m + RecvMeta.eeType]!,
            code: meta[m + RecvMeta.eeCode]!,
            info: meta[m + RecvMeta.eeInfo]!,
            offender: offFam === 4 || offFam === 6 ? readAddress(this.addrs, i * RECV_ADDR_STRIDE + 16, offFam) : null,
          };
        }
        onMessage({
          buf: this.rbuf, offset, length,
          truncated: (meta[m + RecvMeta.flags]! & RECV_FLAG_TRUNC) !== 0,
          from, ttl, tos,
          rxSec: meta[m + RecvMeta.tsSec]!, rxNsec: meta[m + RecvMeta.tsNsec]!,
          queued,
        });
        if (this.closed) return total + i + 1;
      }
      total += got;
      if (got < Math.min(BATCH, budget - total + got)) break;
    }
    return total;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.close();
    this.poller = null;
    this.n.close(this.fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
