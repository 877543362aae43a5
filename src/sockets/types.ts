// The `netdiag.sockets/1` document (contract.md) as TypeScript types, and the options of
// listSockets().

/** 'packet' (AF_PACKET) and 'netlink' are listed from sock_diag only, and only when asked for. */
export type SocketProtocol = 'tcp' | 'udp' | 'udplite' | 'raw' | 'unix' | 'packet' | 'netlink';
export type SocketFamily = 'inet' | 'inet6' | 'unix' | 'packet' | 'netlink';
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
  // Added by the netlink backend (each null where the kernel does not say):
  /** the kernel's socket cookie */
  cookie?: number | null;
  /** the cgroup v2 id of the socket */
  cgroup?: number | null;
  /** IPv4 TOS or IPv6 traffic class */
  tos?: number | null;
  /** shutdown state: bit 0 receive shut down, bit 1 send shut down */
  shutdown?: number | null;
  /** IPv6 listening and closed sockets: IPV6_V6ONLY (an unspecified address takes no IPv4) */
  v6only?: boolean | null;
  /** unix: the inode of the connected peer */
  peerInode?: number | null;
  /** socket memory (skmeminfo); asked for with `memory: true` */
  memory?: SocketMemory | null;
  /** TCP internals (tcp_info, congestion control); asked for with `tcpInfo: true` */
  tcpInfo?: TcpInfo | null;
}

/** sk_meminfo (SK_MEMINFO_*), in bytes except drops; ss -m prints it as skmem:(r,rb,t,tb,f,w,o,bl,d). */
export interface SocketMemory {
  rmemAlloc: number;
  rcvbuf: number;
  wmemAlloc: number;
  sndbuf: number;
  fwdAlloc: number;
  wmemQueued: number;
  optmem: number;
  backlog: number;
  drops: number;
}

/** What ss -i shows of struct tcp_info; times in milliseconds, rates in bytes per second. */
export interface TcpInfo {
  congestion: string | null;
  caState: number;
  retransmits: number;
  probes: number;
  backoff: number;
  options: number;
  sndWscale: number;
  rcvWscale: number;
  rto: number;
  ato: number;
  sndMss: number;
  rcvMss: number;
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
  lastDataSent: number;
  lastAckSent: number;
  lastDataRecv: number;
  lastAckRecv: number;
  pmtu: number;
  rcvSsthresh: number;
  rtt: number;
  rttvar: number;
  ssthresh: number;
  cwnd: number;
  advmss: number;
  reordering: number;
  rcvRtt: number;
  rcvSpace: number;
  totalRetrans: number;
  pacingRate: number | null;
  maxPacingRate: number | null;
  bytesAcked: number | null;
  bytesReceived: number | null;
  segsOut: number | null;
  segsIn: number | null;
  notsentBytes: number | null;
  minRtt: number | null;
  dataSegsIn: number | null;
  dataSegsOut: number | null;
  deliveryRate: number | null;
  deliveryRateAppLimited: boolean;
  busyTime: number | null;
  rwndLimited: number | null;
  sndbufLimited: number | null;
  delivered: number | null;
  deliveredCe: number | null;
  bytesSent: number | null;
  bytesRetrans: number | null;
  dsackDups: number | null;
  reordSeen: number | null;
  rcvOoopack: number | null;
  sndWnd: number | null;
  /** BBR's model (INET_DIAG_BBRINFO) when BBR controls the connection: bandwidth in bytes/s, min RTT in ms, gains as factors */
  bbr: { bandwidth: number; minRtt: number; pacingGain: number; cwndGain: number } | null;
}

/** Where the listing came from: sock_diag over netlink, or the /proc/net tables. */
export type SocketsBackend = 'netlink' | 'proc';

export interface SocketsDocument {
  schema: 'netdiag.sockets/1';
  /** which backend answered */
  backend: SocketsBackend;
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
  /** default: tcp, udp, udplite, raw and unix (packet and netlink sockets only when named) */
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
  /** list the network namespace of this process (/proc/PID/net/..., or a netlink socket made in it) */
  netnsPid?: number;
  /**
   * 'netlink' (sock_diag), 'proc' (/proc/net) or 'auto' (default: netlink, and /proc where
   * sock_diag is unavailable)
   */
  backend?: 'auto' | SocketsBackend;
  /** netlink only: TCP internals (tcp_info, congestion control) of each TCP socket */
  tcpInfo?: boolean;
  /** netlink only: socket memory (skmeminfo) */
  memory?: boolean;
  /** where procfs is mounted; default '/proc' */
  procRoot?: string;
  /** /etc/passwd to name uids; default '/etc/passwd' */
  passwdFile?: string;
  /** /etc/services to name ports; default '/etc/services' */
  servicesFile?: string;
  signal?: AbortSignal;
}
