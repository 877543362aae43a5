// The raw TCP variant of the datagram socket, for SYN probes built in user space (TCP ping's
// syn method). It owns a few consecutive local ports (tcp-port-range.ts: bound, never listening,
// so the kernel answers a SYN-ACK to them with a RST, which ends each half-open handshake).
// Probes take them in turn, as hping3 moves its source port: a RST of ours that is lost leaves
// the target a half-open connection on that port, which would answer the next SYN from it with
// a bare ACK. A BPF program keeps only segments to those ports (a raw TCP socket sees every
// segment on the host); ICMP errors
// about our SYNs arrive in the error queue (IP_RECVERR) quoting their TCP header. IPv6 raw
// sockets compute the TCP checksum themselves (IPV6_CHECKSUM); IPv4 checksums need the source
// address the kernel picks toward a target, which sourceAddressToward() asks for with a
// connected UDP socket (no packet is sent).
import { IP_PROTOCOL } from '../packet/ip-protocol.js';
import { DatagramSocket } from './datagram-socket.js';
import { acceptNothing, tcpToPorts } from './probe-filters.js';
import type { SocketOptions } from './socket-options.js';
import { SourceAddressFinder } from './source-address.js';
import { TcpPortRange } from './tcp-port-range.js';

/** Local ports SYN probes rotate through. */
export const SYN_SOURCE_PORTS = 16;

/** Offset of the checksum in a TCP header (IPV6_CHECKSUM). */
const TCP_CHECKSUM_OFFSET = 16;

export interface TcpSynSocketOptions extends SocketOptions {
  family: 4 | 6;
  /** where the SYNs go */
  port: number;
  /** send from this address (and reserve the port on it); default: any */
  source?: string;
}

export class TcpSynSocket extends DatagramSocket {
  readonly mode = 'raw' as const;
  readonly method = 'tcp-syn' as const;
  readonly identifier = 0;
  readonly port: number;
  /** the first of the local ports the SYNs come from, and how many there are */
  readonly localPort: number;
  readonly localPorts: number;
  /** holds the ports */
  private readonly holder: TcpPortRange;
  /** the kernel's source address toward each target (IPv4 checksums need it) */
  private readonly sources: SourceAddressFinder;

  constructor(opts: TcpSynSocketOptions) {
    const { port, source, ...options } = opts;
    // until the filter knows our port, the socket takes nothing
    super({ ...options, type: 'raw', protocol: IP_PROTOCOL.TCP, filter: acceptNothing() });
    this.port = port;
    this.sources = new SourceAddressFinder(opts.family, opts.device);
    const C = this.n.constants;
    try {
      this.holder = TcpPortRange.reserve(opts.family, source ?? (opts.family === 6 ? '::' : '0.0.0.0'), SYN_SOURCE_PORTS);
      this.localPort = this.holder.first;
      this.localPorts = this.holder.count;
    } catch (e) {
      this.close();
      throw e;
    }
    try {
      if (source !== undefined) this.bind(source);
      if (opts.family === 6) this.n.setsockoptInt(this.fd, C.IPPROTO_IPV6, C.IPV6_CHECKSUM, TCP_CHECKSUM_OFFSET);
      this.attachFilter(tcpToPorts(opts.family, this.holder.first, this.holder.last));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The source address the kernel picks toward `address` (with its %zone when link-local). */
  sourceAddressToward(address: string): string {
    return this.sources.toward(address);
  }

  override close(): void {
    super.close();
    // constructed before the holder: a failure there closes what there is
    (this.holder as TcpPortRange | undefined)?.close();
    (this.sources as SourceAddressFinder | undefined)?.close();
  }
}
