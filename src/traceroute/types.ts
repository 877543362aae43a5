// Public shapes of traceroute results and events: the `netdiag.traceroute/1` JSON document of
// contract.md as TypeScript types, the options of the library calls, and the events the
// streaming form yields.

export type TracerouteMethod = 'icmp' | 'udp' | 'tcp' | 'tcp-connect';
/** raw: raw socket (CAP_NET_RAW); dgram: ping socket or UDP socket with the error queue; stream: TCP connect(). */
export type TracerouteSocketKind = 'raw' | 'dgram' | 'stream';
export type TracerouteSocketRequest = 'auto' | 'raw' | 'dgram';
/** paris: one flow identifier (ports, ICMP checksum) for every probe; classic: it changes per probe. */
export type TracerouteFlow = 'paris' | 'classic';

/** One RFC 4950 MPLS label stack entry. */
export interface MplsLabel {
  label: number;
  exp: number;
  /** bottom-of-stack bit */
  s: number;
  ttl: number;
}

/**
 * nat: the quoted header of the answer differs from what was sent (a NAT or middlebox rewrote
 * it); different-address: an echo reply or TCP answer came from another address than the target.
 */
export type TracerouteProbeFlag = 'nat' | 'different-address';

export interface TracerouteProbe {
  /** who answered; null for no answer */
  address: string | null;
  /** reverse DNS name of address; null when not asked for, not found or not (yet) known */
  name: string | null;
  /** ms from the send time (taken in C around sendmsg) to the kernel's receive timestamp */
  rtt: number | null;
  status: 'reply' | 'timeout';
  /** traceroute's annotation ('!H', '!N', '!X', '!F-1400', '!<13>', ...) or null */
  annotation: string | null;
  /** type and code of an ICMP/ICMPv6 answer; null for TCP answers and timeouts */
  icmp: { type: number; code: number } | null;
  /** with path MTU discovery: the MTU learned at this probe (shown as F=<mtu>), else null */
  mtu: number | null;
  /** MPLS label stack from RFC 4950 extensions (empty when none or not asked for) */
  mpls: MplsLabel[];
  /** RFC 4884 extension objects as traceroute -e prints them ('MPLS:L=...', '2/1:0000abcd'), or null */
  extensions: string | null;
  /** TTL / hop limit of the answer as received; null when the socket does not tell */
  replyTtl: number | null;
  flags: TracerouteProbeFlag[];
}

export interface HopStats {
  /** probes whose outcome is known */
  sent: number;
  received: number;
  /** percent 0–100 of sent probes that got no answer */
  loss: number;
  last: number | null;
  avg: number | null;
  best: number | null;
  worst: number | null;
  /** sample standard deviation (n − 1), 0 for one sample */
  stddev: number | null;
  /** mean absolute difference of consecutive RTTs (mtr's Javg) */
  jitter: number | null;
}

export interface TracerouteHop {
  ttl: number;
  probes: TracerouteProbe[];
  /** report mode only */
  stats?: HopStats;
  /**
   * report mode only: this hop loses probes that a later hop answers (its loss does not carry
   * on), so the router is most likely rate-limiting the ICMP it sends, not dropping traffic
   */
  rateLimited?: boolean;
}

/** report mode: one route the cycles took, named by a hash of its hop sequence */
export interface TraceroutePath {
  /** first 16 hex digits of SHA-256 over the hop addresses from the first TTL, '*' for unknown, joined by ',' */
  pathId: string;
  /** the address at each TTL from firstTtl on; null for a hop never seen answering on this route */
  hops: Array<string | null>;
  firstCycle: number;
  lastCycle: number;
  /** cycles that took this route */
  cycles: number;
}

/** report mode: a cycle whose route differs from the one before it */
export interface TracerouteRouteChange {
  cycle: number;
  /** when that cycle's probes went out: Unix time in ms */
  time: number;
  /** the first TTL whose answer differs */
  ttl: number;
  /** the address seen there before, and now ('*' where that side had no answer) */
  from: string;
  to: string;
  /** the route taken from this cycle on */
  pathId: string;
}

export interface TracerouteResult {
  schema: 'netdiag.traceroute/1';
  /** the target as given */
  target: string;
  address: string;
  family: 4 | 6;
  method: TracerouteMethod;
  socket: TracerouteSocketKind;
  /** null for tcp-connect, whose flow is the kernel's choice per probe */
  flow: TracerouteFlow | null;
  /** total IP packet length of a probe, headers included (as traceroute prints it) */
  packetLength: number;
  firstTtl: number;
  maxTtl: number;
  reached: boolean;
  /** stopped by the AbortSignal before the end */
  aborted: boolean;
  hops: TracerouteHop[];
  /** report mode: cycles completed */
  cycles?: number;
  /** report mode: the distinct routes the cycles took, in the order first seen */
  paths?: TraceroutePath[];
  /** report mode: where and when the route changed, in cycle order */
  routeChanges?: TracerouteRouteChange[];
  /** ms from the first probe to the end */
  elapsed: number;
}

/** Wait rule of traceroute's -w MAX,HERE,NEAR. */
export interface WaitSpec {
  /** the longest wait for an answer, ms (traceroute: 5 s) */
  maxMs: number;
  /** once a probe of the same hop answered: wait this many times its RTT (0: off) */
  here: number;
  /** once a probe of a later hop answered: wait this many times its RTT (0: off) */
  near: number;
}

export interface TracerouteOptions {
  method?: TracerouteMethod;
  /** which socket kind; 'auto' picks raw when CAP_NET_RAW is available (tcp: raw only) */
  socket?: TracerouteSocketRequest;
  /** address family when target is a name (default: what the resolver returns first) */
  family?: 4 | 6;
  /** default 'paris' for icmp, udp and tcp */
  flow?: TracerouteFlow;
  /** destination port: udp (default 33434; classic counts up from it), tcp and tcp-connect (default 80) */
  port?: number;
  firstTtl?: number;
  maxTtl?: number;
  /** probes per hop (traceroute -q, default 3; report mode: 1 per cycle) */
  queries?: number;
  /** probes in flight at once (traceroute -N, default 16) */
  window?: number;
  wait?: Partial<WaitSpec>;
  /** total IP packet length of a probe (default 60 IPv4, 80 IPv6; raised to what the method needs) */
  packetLength?: number;
  /** source address to send from */
  source?: string;
  /** network interface to send through (SO_BINDTODEVICE) */
  device?: string;
  /** IPv4 TOS / IPv6 traffic class */
  tos?: number;
  /** path MTU discovery (traceroute --mtu): DF set, one probe at a time, F=<mtu> where it shrinks */
  discoverMtu?: boolean;
  /** decode RFC 4884 extensions / RFC 4950 MPLS (traceroute -e) */
  extensions?: boolean;
  /** reverse DNS for hop addresses, cached, never delaying probes (default false) */
  resolveNames?: boolean;
  signal?: AbortSignal;
}

export interface TracerouteReportOptions extends TracerouteOptions {
  /** cycles to run (default 10); Infinity runs until the signal aborts */
  cycles?: number;
  /** ms between the starts of two cycles (default 250) */
  intervalMs?: number;
}

/** What the streaming forms yield. */
export type TracerouteEvent =
  | { type: 'start'; target: string; address: string; family: 4 | 6; method: TracerouteMethod; socket: TracerouteSocketKind;
      flow: TracerouteFlow | null; packetLength: number; firstTtl: number; maxTtl: number }
  /** one probe's outcome, in TTL order (cycle: report mode) */
  | { type: 'probe'; ttl: number; index: number; cycle: number; probe: TracerouteProbe }
  /** a hop whose probes are all known (trace mode) */
  | { type: 'hop'; hop: TracerouteHop }
  /** report mode: a cycle ended; hops carry the statistics so far */
  | { type: 'cycle'; cycle: number; hops: TracerouteHop[]; reached: boolean; paths: TraceroutePath[]; routeChanges: TracerouteRouteChange[] }
  | { type: 'end'; result: TracerouteResult };
