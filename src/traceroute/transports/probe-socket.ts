// A non-ICMP probe socket (raw UDP/TCP, UDP datagram, TCP stream) on the addon: opened with the
// options traceroute needs (kernel timestamps, the error queue, reply TTL, TOS, device, source,
// DF policy), polled with the loop's uv_poll, batched sends with per-message TTL, and bounded
// drains of the receive and error queues. ICMP probes use the shared IcmpSocket instead.
import { isPendingSocketError } from '../../socket/pending-socket-error.js';
import {
  native, POLL_ERROR, POLL_READABLE, RECV_ADDR_STRIDE, RECV_FLAG_TRUNC, RECV_META_STRIDE, RecvMeta,
  type NativeBinding, type Poller,
} from '../../native.js';
import { readAddress } from '../../socket/address-bytes.js';
import type { QueuedError } from '../../socket/icmp-socket.js';
import type { SendBatch } from '../../socket/send-batch.js';

export type PmtuPolicy = 'dont' | 'probe';

export interface ProbeSocketOptions {
  family: 4 | 6;
  type: 'raw' | 'dgram' | 'stream';
  /** IPPROTO_* (raw: the protocol of the packets built in user space) */
  protocol: number;
  tos?: number;
  device?: string;
  /** bind to this address (and port) */
  source?: string;
  sourcePort?: number;
  pmtu?: PmtuPolicy;
  /** unicast TTL / hop limit for every packet (stream sockets: the probe's TTL) */
  ttl?: number;
  /** classic BPF program to attach (see kernel-filters.ts assemble) */
  filter?: Buffer;
}

/** A received datagram or error-queue entry, valid until the next drain. */
export interface ReceivedDatagram {
  buf: Buffer;
  offset: number;
  length: number;
  truncated: boolean;
  /** source (error queue: the probe's destination) */
  from: string;
  /** source port (error queue: the probe's destination port) */
  port: number;
  ttl: number | null;
  rxSec: number;
  rxNsec: number;
  queued: QueuedError | null;
  /** sock_extended_err ee_data (RFC 4884 length etc.) */
  eeData: number;
}

const SLOT = 2048;

const BATCH = 32;
export const DRAIN_BUDGET = 512;

export class ProbeSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  private readonly n: NativeBinding;
  private poller: Poller | null = null;
  private readonly rbuf = Buffer.alloc(SLOT * BATCH);
  private readonly meta = new Float64Array(RECV_META_STRIDE * BATCH);
  private readonly addrs = Buffer.alloc(RECV_ADDR_STRIDE * BATCH);
  private closed = false;
  private readonly stripIpHeader: boolean;

  constructor(opts: ProbeSocketOptions) {
    const n = (this.n = native());
    const C = n.constants;
    this.family = opts.family;
    const v6 = opts.family === 6;
    const type = opts.type === 'raw' ? C.SOCK_RAW : opts.type === 'dgram' ? C.SOCK_DGRAM : C.SOCK_STREAM;
    const fd = n.socket(v6 ? C.AF_INET6 : C.AF_INET, type, opts.protocol);
    this.fd = fd;
    // raw IPv4 sockets deliver the IP header in front of what they receive
    this.stripIpHeader = !v6 && opts.type === 'raw';
    try {
      const ip = v6 ? C.IPPROTO_IPV6 : C.IPPROTO_IP;
      n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
      n.setsockoptInt(fd, ip, v6 ? C.IPV6_RECVERR : C.IP_RECVERR, 1);
      if (v6) n.setsockoptInt(fd, ip, C.IPV6_RECVHOPLIMIT, 1);
      else if (opts.type !== 'raw') n.setsockoptInt(fd, ip, C.IP_RECVTTL, 1);
      if (opts.tos !== undefined) n.setsockoptInt(fd, ip, v6 ? C.IPV6_TCLASS : C.IP_TOS, opts.tos);
      if (opts.ttl !== undefined) n.setsockoptInt(fd, ip, v6 ? C.IPV6_UNICAST_HOPS : C.IP_TTL, opts.ttl);
      if (opts.device !== undefined) n.setsockoptBuffer(fd, C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'));
      const pmtu = opts.pmtu ?? 'dont';
      n.setsockoptInt(
        fd, ip, v6 ? C.IPV6_MTU_DISCOVER : C.IP_MTU_DISCOVER,
        v6 ? (pmtu === 'probe' ? C.IPV6_PMTUDISC_PROBE : C.IPV6_PMTUDISC_DONT) : (pmtu === 'probe' ? C.IP_PMTUDISC_PROBE : C.IP_PMTUDISC_DONT),
      );
      if (opts.source !== undefined || opts.sourcePort !== undefined) {
        n.bind(fd, opts.family, opts.source ?? (v6 ? '::' : '0.0.0.0'), opts.sourcePort ?? 0);
      }
      if (opts.filter) n.attachFilter(fd, opts.filter);
    } catch (e) {
      n.close(fd);
      throw e;
    }
  }

  /** Binds to a local address (and port); raw sockets then send from exactly that address. */
  bind(address: string, port = 0): void {
    this.n.bind(this.fd, this.family, address, port);
  }

  /** Replaces the socket's classic BPF program. */
  attachFilter(program: Buffer): void {
    this.n.attachFilter(this.fd, program);
  }

  /** Calls onEvent(readable, errorQueue, writable) whenever the socket has something to say. */
  start(onEvent: (readable: boolean, errorQueue: boolean, writable: boolean) => void, events = POLL_READABLE): void {
    if (this.closed) throw new Error('the probe socket is closed');
    if (!this.poller) {
      this.poller = new this.n.Poller(this.fd, (status, ev) => {
        if (this.closed) return;
        onEvent(status === 0 && (ev & POLL_READABLE) !== 0, (ev & POLL_ERROR) !== 0 || status !== 0, status === 0 && (ev & 2) !== 0);
      });
    }
    this.poller.start(events);
  }

  unref(): void {
    this.poller?.unref();
  }

  send(batch: SendBatch): number {
    return this.n.sendBatch(this.fd, batch.data, batch.desc, batch.addrs, batch.count, batch.out);
  }

  /** Reads up to budget datagrams (errorQueue: MSG_ERRQUEUE); fewer than budget means empty. */
  drain(errorQueue: boolean, onMessage: (m: ReceivedDatagram) => void, budget = DRAIN_BUDGET): number {
    let total = 0;
    let pendingErrors = 0;
    while (total < budget && !this.closed) {
      const want = Math.min(BATCH, budget - total);
      let got: number;
      try {
        got = this.n.recvBatch(this.fd, this.rbuf, SLOT, want, this.meta, this.addrs, errorQueue);
      } catch (e) {
        // An ICMP error with IP_RECVERR also sets the socket's pending error, which the next
        // ordinary receive returns (and clears) instead of data: read on. Its details are in
        // the error queue.
        if (errorQueue || !isPendingSocketError(e) || ++pendingErrors > 8) throw e;
        continue;
      }
      for (let i = 0; i < got; i++) {
        const m = i * RECV_META_STRIDE;
        const meta = this.meta;
        let offset = i * SLOT;
        let length = Math.min(meta[m + RecvMeta.length]!, SLOT);
        let ttl: number | null = meta[m + RecvMeta.ttl]! >= 0 ? meta[m + RecvMeta.ttl]! : null;
        const fam = meta[m + RecvMeta.family]!;
        // link-local sources get their %ifname (as Node prints them), so they equal a scoped target
        const scopeId = meta[m + RecvMeta.scopeId]!;
        const from = fam === 4 || fam === 6 ? readAddress(this.addrs, i * RECV_ADDR_STRIDE, fam, scopeId) : '';
        if (this.stripIpHeader && !errorQueue) {
          const ihl = (this.rbuf[offset]! & 0x0f) * 4;
          if (this.rbuf[offset]! >> 4 !== 4 || ihl < 20 || ihl > length) continue;
          ttl = this.rbuf[offset + 8]!;
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
            // a link-local offender has the scope of the error's arrival, which the destination's shows
            offender: offFam === 4 || offFam === 6 ? readAddress(this.addrs, i * RECV_ADDR_STRIDE + 16, offFam, scopeId) : null,
          };
        }
        onMessage({
          buf: this.rbuf, offset, length,
          truncated: (meta[m + RecvMeta.flags]! & RECV_FLAG_TRUNC) !== 0,
          from, port: meta[m + RecvMeta.port]!, ttl,
          rxSec: meta[m + RecvMeta.tsSec]!, rxNsec: meta[m + RecvMeta.tsNsec]!,
          queued, eeData: meta[m + RecvMeta.eeData]!,
        });
        if (this.closed) return total + i + 1;
      }
      total += got;
      if (got < want) break;
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
