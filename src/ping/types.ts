// Public shapes of ping results and events: the `netdiag.ping/1` JSON document of contract.md
// as TypeScript types, plus the events the streaming form yields as probes are answered.

export type IcmpSocketKind = 'raw' | 'dgram';

/** What a probe is: an ICMP echo request, a TCP SYN from a raw socket, or a TCP connect(). */
export type PingMethod = 'icmp' | 'tcp-syn' | 'tcp-connect';

/** The sockets a run uses: raw or ping sockets (ICMP, TCP SYN: raw), or a stream socket per probe (TCP connect). */
export type PingSocketKind = IcmpSocketKind | 'stream';

/** How a TCP probe's port answered: SYN-ACK (open), RST (closed), nothing or an ICMP error (filtered). */
export type TcpPortState = 'open' | 'closed' | 'filtered';

/** TCP ping's two probe methods: 'auto' picks syn where raw sockets are allowed, else connect. */
export type TcpMethodRequest = 'syn' | 'connect' | 'auto';

/** Final state of one probe: answered, never answered, answered by an ICMP error, answered too late. */
export type ProbeStatus = 'reply' | 'timeout' | 'error' | 'late';

/**
 * dup: a further reply to an already answered probe; corrupted: a reply with a bad ICMP checksum
 * (IPv4 raw sockets only); different-address: the reply came from another address than the
 * target; bad-payload: the reply's data differs from what was sent.
 */
export type ProbeFlag = 'dup' | 'corrupted' | 'different-address' | 'bad-payload';

export interface PingIcmpError {
  /** ICMP type and code; null for a local error (the kernel refused to send) */
  type: number | null;
  code: number | null;
  /** iputils ping's text, e.g. "Destination Host Unreachable", "local error: message too long, mtu=1400" */
  message: string;
  /** next-hop MTU of fragmentation-needed / packet-too-big / local EMSGSIZE, else null */
  mtu: number | null;
}

export interface PingProbeResult {
  /** per-target sequence, from 1 (iputils' icmp_seq for a single target) */
  seq: number;
  status: ProbeStatus;
  /** ms from the send time taken in C to the kernel's receive timestamp */
  rtt: number | null;
  ttl: number | null;
  /** ICMP bytes of the reply (header included), as ping prints them */
  bytes: number | null;
  /** who answered: the target, another address, or the router that sent the ICMP error */
  from: string | null;
  flags: ProbeFlag[];
  error?: PingIcmpError;
  /** TCP methods only: how the port answered (null: the probe could not be sent) */
  state?: TcpPortState | null;
}

export interface PingRttSummary {
  min: number;
  avg: number;
  max: number;
  /** iputils' mdev: sqrt(mean(x²) − mean(x)²) */
  mdev: number;
  /** sample standard deviation (n − 1) */
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
  /** exponentially weighted moving average, weight 1/8 as iputils */
  ewma: number;
}

export interface PingTargetResult {
  /** the target as given (name or address) */
  target: string;
  address: string;
  family: 4 | 6;
  transmitted: number;
  received: number;
  duplicates: number;
  corrupted: number;
  errors: number;
  late: number;
  /** percent (0–100) of transmitted probes that got no reply before their timeout */
  loss: number;
  rtt: PingRttSummary | null;
  probes: PingProbeResult[];
  /** TCP methods only: how many of the received answers were RSTs (the host is up, the port closed) */
  closed?: number;
}

export interface PingDocument {
  schema: 'netdiag.ping/1';
  /** raw or ping sockets; 'stream' for TCP connect probes */
  socket: PingSocketKind;
  method: PingMethod;
  /** TCP methods: the destination port; null for ICMP */
  port: number | null;
  targets: PingTargetResult[];
  /** ms from the first probe to the end of the run */
  elapsed: number;
}

/** The numbers of iputils' "rtt min/avg/max/mdev" and "ipg/ewma" lines, in microseconds. */
export interface IputilsRtt {
  min: number;
  avg: number;
  max: number;
  mdev: number;
  /** iputils keeps the EWMA scaled by 8 */
  ewmaTimes8: number;
}

/** The round trips of one target counted so far (replies and duplicates, as iputils counts them). */
export interface PingRttFigures {
  readonly count: number;
  /** ms; NaN while there are none */
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** what iputils' finish() computes from the same samples (whole microseconds), or null when none */
  iputils(): IputilsRtt | null;
}

/**
 * How one target stands, read-only: the run keeps it up to date as probes go and come back
 * (text output reads the running figures), and it holds the final ones after the end.
 */
export interface PingTargetStatus {
  readonly info: PingTarget;
  readonly transmitted: number;
  readonly received: number;
  readonly duplicates: number;
  readonly corrupted: number;
  readonly errors: number;
  readonly late: number;
  /** TCP methods: received answers that were RSTs (counted in received too) */
  readonly closed: number;
  /** percent of the transmitted probes lost so far, unrounded (the document rounds it) */
  readonly loss: number;
  /** iputils' "pipe": the most probes outstanding when one was answered */
  readonly pipe: number;
  /** run-clock ms of the last probe sent (negative: none yet); see PingRunStatus.startedAt */
  readonly lastSentAt: number;
  readonly stats: PingRttFigures;
}

/** A run as it stands, read-only; given with the 'start' event of a PingRun. */
export interface PingRunStatus {
  /** in the order of the run's (resolved) targets: PingEvent.index indexes it */
  readonly targets: readonly PingTargetStatus[];
  /** run-clock ms when the first probes went out (read it after the run: -1 before it starts) */
  readonly startedAt: number;
  /** what the probes are, and (TCP) the port they go to (null for ICMP) */
  readonly method: PingMethod;
  readonly port: number | null;
}

/** A target after name resolution. */
export interface PingTarget {
  /** as the user gave it */
  target: string;
  address: string;
  family: 4 | 6;
}

/** What a received echo reply looked like. */
export interface PingReply {
  rtt: number;
  ttl: number | null;
  tos: number | null;
  bytes: number;
  from: string;
  flags: ProbeFlag[];
  /** kernel receive time, ms since the epoch (CLOCK_REALTIME) */
  receivedAt: number;
  /** the first payload byte that differs from what was sent (index from the payload start), or null */
  mismatch: { offset: number; expected: number; actual: number } | null;
  /** TCP methods: SYN-ACK (open) or RST (closed) */
  state?: 'open' | 'closed';
}

interface EventBase {
  /** index of the target in the run's target list */
  index: number;
  target: PingTarget;
  /** per-target sequence, from 1 */
  seq: number;
}

/**
 * One thing that happened to a probe, in the order it happened:
 * - sent: the probe left (sentAt: ms since the epoch, taken in C)
 * - reply: an echo reply; `reply.flags` has 'dup' for a duplicate and 'corrupted' for a bad
 *   checksum (neither counts as received)
 * - late: a reply after the probe's timeout (the probe stays lost)
 * - timeout: the probe's timeout expired without a reply (or the run ended first)
 * - error: an ICMP error about the probe, or the kernel refused to send it
 */
export type PingEvent =
  | (EventBase & { type: 'sent'; sentAt: number })
  | (EventBase & { type: 'reply'; reply: PingReply })
  | (EventBase & { type: 'late'; reply: PingReply })
  | (EventBase & { type: 'timeout' })
  | (EventBase & { type: 'error'; error: PingIcmpError; from: string | null; rtt: number | null; receivedAt: number | null });

export type PmtuDiscovery = 'do' | 'dont' | 'want';

/** Options of ping(), pingMany(), pingStream(). Times are milliseconds. */
export interface PingOptions {
  /** probes per target (default 1); Infinity runs until the deadline or the signal */
  count?: number;
  /** ms between probes to one target (default 1000); 0 = next probe on each reply or every 10 ms */
  interval?: number;
  /** ms each probe waits for its reply before it is lost (default 1000) */
  timeout?: number;
  /** ms after which the whole run ends; with it, `count` is the number of replies to wait for */
  deadline?: number;
  /** probes per second across all targets (default: unlimited) */
  rate?: number;
  /** probes sent at once per target before pacing starts, and kept in flight when flooding (default 1) */
  preload?: number;
  /** interval 0: the next probe on each reply, or 10 ms after the last send (iputils -f) */
  flood?: boolean;
  /** payload bytes after the 8-byte ICMP header (default 56) */
  size?: number;
  /** up to 16 bytes repeated through the payload after its 12-byte sequence+cookie head */
  pattern?: Uint8Array | string;
  ttl?: number;
  tos?: number;
  /** SO_MARK (needs CAP_NET_ADMIN) */
  mark?: number;
  /** source address or interface name (ping -I) */
  source?: string;
  /** resolve names to this family only (default: whatever the resolver returns first) */
  family?: 4 | 6;
  pmtu?: PmtuDiscovery;
  /** 'auto' (default): raw sockets with CAP_NET_RAW, else ping sockets (ICMP only) */
  socket?: IcmpSocketKind | 'auto';
  /** 'icmp' (default): echo requests; 'tcp': a TCP handshake to `port` ("is the service up?") */
  method?: 'icmp' | 'tcp';
  /** TCP: the destination port (default 80) */
  port?: number;
  /** TCP: 'syn' (raw socket, CAP_NET_RAW), 'connect' (no privilege), 'auto' (default: syn when allowed) */
  tcpMethod?: TcpMethodRequest;
  /** keep every probe in the results (default true) */
  probes?: boolean;
  /**
   * Called for each target that does not resolve (ResolveError, or TargetScopeError for a bad
   * %zone), which the run then leaves out, as fping does; without it the first such target
   * fails the run. The run fails anyway when no target is left.
   */
  onUnresolved?: (error: Error) => void;
  signal?: AbortSignal;
}
