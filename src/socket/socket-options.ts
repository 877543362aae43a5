// The one list of socket options a datagram socket is opened with: what every reader needs
// (kernel receive timestamps, the error queue, the TTL/hop limit and TOS/traffic class of each
// datagram) and what the caller asks for (TTL, TOS, mark, device, path MTU policy, receive
// buffer).
import type { NativeBinding } from '../native.js';

export type PmtuMode = 'do' | 'dont' | 'want' | 'probe';

export interface SocketOptions {
  /** unicast TTL / hop limit of what the socket sends (per-message TTLs override it) */
  ttl?: number;
  tos?: number;
  mark?: number;
  device?: string;
  /** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER (left at the system's default when absent) */
  pmtu?: PmtuMode;
  /** receive buffer bytes (SO_RCVBUFFORCE when allowed, else SO_RCVBUF) */
  receiveBuffer?: number;
}

/** Sets the options on fd, a socket of `family` (raw: `raw`). Throws the addon's error. */
export function applySocketOptions(n: NativeBinding, fd: number, family: 4 | 6, raw: boolean, opts: SocketOptions): void {
  const C = n.constants;
  const v6 = family === 6;
  const ip = v6 ? C.IPPROTO_IPV6 : C.IPPROTO_IP;
  n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
  n.setsockoptInt(fd, ip, v6 ? C.IPV6_RECVERR : C.IP_RECVERR, 1);
  if (v6) {
    n.setsockoptInt(fd, ip, C.IPV6_RECVHOPLIMIT, 1);
    n.setsockoptInt(fd, ip, C.IPV6_RECVTCLASS, 1);
  } else if (!raw) {
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
}
