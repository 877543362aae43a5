// The ICMP variant of the datagram socket: one socket for one (family, mode), shared by every
// target. A raw socket gets a random echo identifier, an ICMP type filter and a BPF program
// keeping only what concerns that identifier; a ping socket's identifier is the "port" the
// kernel gives it at bind, read back (the kernel rewrites it on the wire).
import { native } from '../native.js';
import type { IcmpMode } from '../privileges.js';
import { DatagramSocket } from './datagram-socket.js';
import { icmpV4EchoBpf, icmpV4TypeFilter, icmpV6EchoBpf, icmpV6TypeFilter } from './icmp-filters.js';
import { randomIdentifier } from './random.js';
import type { DatagramMessage } from './received-message.js';
import type { SocketOptions } from './socket-options.js';

export type { PmtuMode } from './socket-options.js';
export type { QueuedError } from './received-message.js';

export interface IcmpSocketOptions extends SocketOptions {
  family: 4 | 6;
  mode: IcmpMode;
  /** raw sockets: the echo identifier to use and filter on (random when absent) */
  identifier?: number;
  /** raw sockets: attach the BPF identifier filter (default true) */
  filterIdentifier?: boolean;
  source?: string;
  /** see DatagramSocketOptions: for a socket that sends nothing, whose pending errors are never its own */
  readPastPendingErrors?: boolean;
}

/** A received ICMP message as the ping engine reads it (ICMP has no ports; ee_data unused). */
export type IcmpMessage = Omit<DatagramMessage, 'port' | 'eeData'>;

export class IcmpSocket extends DatagramSocket {
  readonly mode: IcmpMode;
  /** the identifier on the wire (ping sockets: the one the kernel assigned) */
  readonly identifier: number;

  constructor(opts: IcmpSocketOptions) {
    const v6 = opts.family === 6;
    const raw = opts.mode === 'raw';
    const identifier = raw ? (opts.identifier ?? randomIdentifier()) : 0;
    super({
      ...opts,
      type: raw ? 'raw' : 'dgram',
      protocol: v6 ? native().constants.IPPROTO_ICMPV6 : native().constants.IPPROTO_ICMP,
      // a ping socket's identifier is its "port": bind to get one
      source: raw ? opts.source : (opts.source ?? (v6 ? '::' : '0.0.0.0')),
    });
    this.mode = opts.mode;
    try {
      const C = this.n.constants;
      if (raw) {
        this.identifier = identifier;
        if (v6) this.n.setsockoptBuffer(this.fd, C.IPPROTO_ICMPV6, C.ICMPV6_FILTER, icmpV6TypeFilter());
        else this.n.setsockoptBuffer(this.fd, C.IPPROTO_ICMP, C.ICMP_FILTER, icmpV4TypeFilter());
        if (opts.filterIdentifier !== false) this.attachFilter(v6 ? icmpV6EchoBpf(identifier) : icmpV4EchoBpf(identifier));
      } else {
        this.identifier = this.n.getsockname(this.fd).port ?? 0;
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }
}
