// The netdiag.multipath/1 document of a finished (or aborted) discovery: interfaces per TTL,
// links with their flows, the distinct paths, the confidence reached and the probes spent.
import { SOURCE, type MultipathGraph, type Vertex } from './graph.js';
import type { MultipathDiscovery } from './discovery.js';
import { enumeratePaths } from './paths.js';
import type { MultipathHop, MultipathInterface, MultipathLink, MultipathResult } from './types.js';

export interface ResultHeader {
  target: string;
  address: string;
  family: 4 | 6;
  method: MultipathResult['method'];
  socket: MultipathResult['socket'];
  packetLength: number;
  firstTtl: number;
  maxTtl: number;
  /** fraction */
  confidence: number;
  algorithm: 'lite' | 'full';
  firstHop: 'routing-table' | 'stopping-rule';
  /** IPv6: the flows that carried a flow label of their own, and why others did not (null for IPv4) */
  flowLabels: { labelled: number; refused: string | null } | null;
}

/** a fraction as percent, to 4 decimals (99.9999 stays itself) */
const percent = (fraction: number): number => Math.round(fraction * 1e6) / 1e4;

/** Addresses in a stable order: IPv4 by value, IPv6 as text. */
function compareAddresses(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function interfaceOf(v: Vertex, graph: MultipathGraph, discovery: MultipathDiscovery): MultipathInterface {
  const next = [...v.successors].filter((s) => graph.vertex(s).ttl > v.ttl);
  const decision = v.final ? null : discovery.vertexDecision(v.key);
  const confidence = decision?.confidence ?? null;
  return {
    address: v.address!, name: null, rtt: v.rtt, annotation: v.annotation, reached: v.reached, final: v.final, probes: v.probes,
    confidence: confidence === null ? null : percent(confidence),
    balancing: next.length < 2 ? null : v.perPacket ? 'per-packet' : 'per-flow',
    decidedBy: decision === null || decision.rule === 'routing-table' ? null : decision.rule,
  };
}

export function multipathResult(
  header: ResultHeader, discovery: MultipathDiscovery, probes: number, aborted: boolean, elapsed: number,
): MultipathResult {
  const graph = discovery.graph;
  const byTtl = new Map<number, Vertex[]>();
  for (const v of graph.vertices.values()) {
    if (v.key === SOURCE) continue;
    const list = byTtl.get(v.ttl);
    if (list) list.push(v);
    else byTtl.set(v.ttl, [v]);
  }
  const hops: MultipathHop[] = [...byTtl.keys()].sort((a, b) => a - b).map((ttl) => ({
    ttl,
    interfaces: byTtl.get(ttl)!.sort((a, b) => compareAddresses(a.address!, b.address!)).map((v) => interfaceOf(v, graph, discovery)),
  }));
  const links: MultipathLink[] = [...graph.links.values()].map((l) => {
    const from = graph.vertex(l.from);
    const to = graph.vertex(l.to);
    return { from: { ttl: from.ttl, address: from.address! }, to: { ttl: to.ttl, address: to.address! }, flows: [...l.flows].sort((a, b) => a - b) };
  });
  links.sort((a, b) => a.from.ttl - b.from.ttl || compareAddresses(a.from.address, b.from.address) || a.to.ttl - b.to.ttl || compareAddresses(a.to.address, b.to.address));
  const { paths, truncated } = enumeratePaths(graph, header.firstTtl);
  return {
    schema: 'netdiag.multipath/1',
    target: header.target, address: header.address, family: header.family, method: header.method, socket: header.socket,
    packetLength: header.packetLength, firstTtl: header.firstTtl, maxTtl: header.maxTtl,
    confidence: percent(header.confidence), confidenceReached: percent(discovery.confidenceReached()),
    algorithm: header.algorithm, fullMdaTtls: [...discovery.fullTtls].sort((a, b) => a - b), firstHop: header.firstHop,
    reached: hops.some((h) => h.interfaces.some((i) => i.reached)), aborted, probes, flows: discovery.flowsUsed,
    flowLabels: header.family === 6 ? header.flowLabels?.labelled ?? 0 : null,
    flowLabelsRefused: header.family === 6 ? header.flowLabels?.refused ?? (header.flowLabels ? null : 'this transport sends no flow labels') : null,
    hops, links, paths, pathsTruncated: truncated, elapsed,
  };
}
