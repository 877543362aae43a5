// Public shapes of multipath discovery (`netdiag traceroute --mda`): the `netdiag.multipath/1`
// JSON document as TypeScript types and the options of the library call. A new schema rather
// than fields added to netdiag.traceroute/1: the document is a graph (interfaces per TTL and
// links between them), not one list of probes per hop.
import type { TracerouteMethod, TracerouteOptions, TracerouteSocketKind } from '../types.js';

/** One interface seen at a TTL. */
export interface MultipathInterface {
  address: string;
  /** reverse DNS name; null when not asked for or not found */
  name: string | null;
  /** the least RTT of its answers, ms */
  rtt: number | null;
  /** traceroute's annotation of its answers ('!H', ...), or null */
  annotation: string | null;
  /** the destination itself */
  reached: boolean;
  /** no probe goes past it (destination reached, or an unreachable) */
  final: boolean;
  /** probes sent through it to find its next hops (0 for a final interface) */
  probes: number;
  /** percent confidence that no next hop of it was missed (the MDA stopping rule); null for a final interface */
  confidence: number | null;
  /** how it spreads probes over two or more next hops; null with fewer than two */
  balancing: 'per-flow' | 'per-packet' | null;
  /**
   * how its next hops were decided; null for a final interface: 'stopping-rule' (its own probes,
   * the per-vertex MDA), 'hop-level' (MDA-Lite: its hop's probes, on a unmeshed and uniform hop
   * pair), 'destination' (a probe from it reached the destination: it is the last hop)
   */
  decidedBy: 'stopping-rule' | 'hop-level' | 'destination' | null;
}

export interface MultipathHop {
  ttl: number;
  interfaces: MultipathInterface[];
}

export interface MultipathLinkEnd {
  ttl: number;
  address: string;
}

/** Probes of these flows answered from `from` and then from `to` (to.ttl - from.ttl > 1: silent hops between). */
export interface MultipathLink {
  from: MultipathLinkEnd;
  to: MultipathLinkEnd;
  /** flow identifiers (ProbeRequest.flow) that took the link, ascending */
  flows: number[];
}

export interface MultipathPath {
  /** first 16 hex digits of SHA-256 over the hop addresses from firstTtl on, '*' for a silent hop, joined by ',' */
  pathId: string;
  /** the address at each TTL from firstTtl on; null for a silent hop */
  hops: Array<string | null>;
  /** the path ends at the destination */
  reached: boolean;
}

export interface MultipathResult {
  schema: 'netdiag.multipath/1';
  target: string;
  address: string;
  family: 4 | 6;
  /** icmp, udp or tcp (tcp-connect cannot choose its flows) */
  method: Exclude<TracerouteMethod, 'tcp-connect'>;
  socket: TracerouteSocketKind;
  packetLength: number;
  firstTtl: number;
  maxTtl: number;
  /** the confidence asked for, percent */
  confidence: number;
  /** the least confidence any interface's next hops reached, percent (below `confidence` where flows or time ran out) */
  confidenceReached: number;
  /** 'lite' (MDA-Lite, the default) or 'full' (the per-vertex MDA at every hop) */
  algorithm: 'lite' | 'full';
  /** TTLs where MDA-Lite found the hop pair meshed or non-uniform and the per-vertex MDA decided */
  fullMdaTtls: number[];
  /**
   * how the source's own next hops (the first TTL) were decided: 'routing-table' (no route with
   * several next hops, one table towards the destination: one probe), 'stopping-rule' (n_1 probes)
   */
  firstHop: 'routing-table' | 'stopping-rule';
  reached: boolean;
  aborted: boolean;
  /** probes sent */
  probes: number;
  /** distinct flow identifiers used */
  flows: number;
  /**
   * IPv6: how many flows carried a flow label of their own (routers that hash on it, as Linux
   * does by default, show their paths only to labelled flows); null for IPv4
   */
  flowLabels: number | null;
  /** IPv6: why a flow went without a label (the kernel leases 32 per socket without CAP_NET_ADMIN), else null */
  flowLabelsRefused: string | null;
  hops: MultipathHop[];
  links: MultipathLink[];
  /** distinct paths from the first TTL to an end, in discovery order (at most MAX_PATHS) */
  paths: MultipathPath[];
  /** more paths exist than `paths` lists */
  pathsTruncated: boolean;
  elapsed: number;
}

export interface MultipathOptions extends Omit<TracerouteOptions, 'flow' | 'queries' | 'discoverMtu'> {
  method?: 'icmp' | 'udp' | 'tcp';
  /** percent, 50 to 99.9999 (default 95) */
  confidence?: number;
  /** 'lite' (default): MDA-Lite, hop-level where the hop pair allows; 'full': the per-vertex MDA at every hop */
  algorithm?: 'lite' | 'full';
}
