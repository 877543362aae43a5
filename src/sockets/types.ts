// The `netdiag.sockets/1` document (contract.md) as TypeScript types, and the options of
// listSockets().

export type SocketProtocol = 'tcp' | 'udp' | 'udplite' | 'raw' | 'unix';
export type SocketFamily = 'inet' | 'inet6' | 'unix';
export type SocketType = 'stream' | 'dgram' | 'seqpacket' | 'raw';

/** Kernel state names; `UNCONN` is an unconnected datagram, raw or unix socket. */
export type SocketState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'NEW_SYN_RECV'
  | 'UNCONN';

/** A process holding a descriptor of the socket. */
export interface SocketOwner {
  pid: number;
  /** /proc/PID/comm: at most 15 characters */
  command: string;
  fd: number;
}

/** Which TCP timer is pending, as `ss -o` names it. */
export type SocketTimerKind = 'on' | 'keepalive' | 'timewait' | 'persist' | 'unknown';

/** A pending TCP timer (the tr, tm->when, retrnsmt and timeout columns of /proc/net/tcp). */
export interface SocketTimer {
  kind: SocketTimerKind;
  /** milliseconds until the timer fires; negative when it is overdue */
  expires: number;
  /** unrecovered retransmission timeouts */
  retransmits: number;
  /** unanswered zero-window or keepalive probes */
  probes: number;
}

export interface SocketEntry {
  protocol: SocketProtocol;
  family: SocketFamily;
  type: SocketType;
  state: SocketState;
  /** null for unix sockets */
  localAddress: string | null;
  /** null for unix sockets; the protocol number for raw sockets, as in /proc */
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** an inet6 socket whose local or remote address is IPv4-mapped (::ffff:a.b.c.d) */
  mapped: boolean;
  /** null where /proc does not say (unix sockets) */
  recvQueue: number | null;
  sendQueue: number | null;
  /** null for sockets without an inode (TIME_WAIT, SYN_RECV request sockets) */
  inode: number | null;
  /** null where /proc does not say (unix sockets, TIME_WAIT) */
  uid: number | null;
  /** the name of uid in /etc/passwd, or null */
  user: string | null;
  /**
   * The /etc/services name of the local port, or else of the remote port, skipping ports in
   * the ephemeral range (ip_local_port_range) as ss does; null when neither has one.
   */
  service: string | null;
  /** null when owners were not asked for; [] when no readable process holds the socket */
  owners: SocketOwner[] | null;
  /** unix sockets: the file path, '@name' for an abstract name, null when unbound */
  path: string | null;
  /** TCP timer; null when none is pending or for other protocols */
  timer: SocketTimer | null;
}

export interface SocketsDocument {
  schema: 'netdiag.sockets/1';
  sockets: SocketEntry[];
  /** present when owners were asked for: processes whose descriptors could not be read */
  ownersUnreadable?: number[];
}

/** ss state names and groups accepted besides the kernel names (case-insensitive). */
export type SocketStateSelector =
  | SocketState
  | 'all'
  | 'connected'
  | 'synchronized'
  | 'bucket'
  | 'big'
  | 'established'
  | 'syn-sent'
  | 'syn-recv'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'time-wait'
  | 'closed'
  | 'close'
  | 'unconnected'
  | 'close-wait'
  | 'last-ack'
  | 'listening'
  | 'listen'
  | 'closing';

/** A port or an inclusive port range. */
export type PortSelector = number | { from: number; to: number };

export interface ListSocketsOptions {
  /** default: every protocol */
  protocols?: readonly SocketProtocol[];
  /** default: every family */
  families?: readonly SocketFamily[];
  /** states to show (kernel names, ss names or ss groups); default: all */
  states?: readonly SocketStateSelector[];
  /** states to leave out, applied after `states` */
  excludeStates?: readonly SocketStateSelector[];
  /** local port(s): any of them matches */
  localPort?: PortSelector | readonly PortSelector[];
  remotePort?: PortSelector | readonly PortSelector[];
  /** local address or CIDR (any of them matches); an IPv4 one also matches IPv4-mapped IPv6 */
  localAddress?: string | readonly string[];
  remoteAddress?: string | readonly string[];
  /** only sockets held by these processes (implies owners) */
  pids?: readonly number[];
  /** only sockets held by processes with this /proc/PID/comm (implies owners) */
  commands?: readonly string[];
  /** find the processes holding each socket (a pass over /proc/PID/fd, like ss -p) */
  owners?: boolean;
  /** list the network namespace of this process (/proc/PID/net/...) */
  netnsPid?: number;
  /** where procfs is mounted; default '/proc' */
  procRoot?: string;
  /** /etc/passwd to name uids; default '/etc/passwd' */
  passwdFile?: string;
  /** /etc/services to name ports; default '/etc/services' */
  servicesFile?: string;
  signal?: AbortSignal;
}
