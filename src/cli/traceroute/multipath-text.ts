// Text of `netdiag traceroute --mda`: a header, one line per link "a -> b" in TTL order (as
// scamper's tracelb text draws a multipath graph; silent hops between two interfaces show as
// "a -> * -> b"), then every distinct path with its pathId, then what it cost and how sure it is.
import type { MultipathInterface, MultipathResult } from '../../traceroute/mda/types.js';

export interface MultipathTextOptions {
  /** print names as "name (address)" where one is known */
  names: boolean;
}

export function multipathHeader(doc: MultipathResult): string {
  return `multipath traceroute to ${doc.target} (${doc.address}), ${doc.maxTtl} hops max, ${doc.packetLength} byte packets, ` +
    `${doc.method} flows, ${doc.confidence}% confidence\n`;
}

export function multipathText(doc: MultipathResult, opts: MultipathTextOptions): string {
  const byKey = new Map<string, MultipathInterface>();
  for (const h of doc.hops) for (const i of h.interfaces) byKey.set(`${h.ttl} ${i.address}`, i);
  const label = (ttl: number, address: string): string => {
    const i = byKey.get(`${ttl} ${address}`);
    return opts.names && i?.name ? `${i.name} (${address})` : address;
  };
  let out = multipathHeader(doc);
  const linked = new Set<string>();
  for (const l of doc.links) {
    linked.add(`${l.from.ttl} ${l.from.address}`);
    linked.add(`${l.to.ttl} ${l.to.address}`);
    const gap = ' -> *'.repeat(l.to.ttl - l.from.ttl - 1);
    out += `${String(l.from.ttl).padStart(2)}  ${label(l.from.ttl, l.from.address)}${gap} -> ${label(l.to.ttl, l.to.address)}\n`;
  }
  // an interface on no link (a one-hop path, or one found only at the last TTL probed)
  for (const h of doc.hops) {
    for (const i of h.interfaces) if (!linked.has(`${h.ttl} ${i.address}`)) out += `${String(h.ttl).padStart(2)}  ${label(h.ttl, i.address)}\n`;
  }
  out += `paths (${doc.paths.length}${doc.pathsTruncated ? ', more not listed' : ''}):\n`;
  for (const p of doc.paths) {
    const hops = p.hops.map((a) => a ?? '*').join(' ');
    out += `  ${p.pathId}  ${hops}${p.reached ? '' : '  (destination not reached)'}\n`;
  }
  const interfaces = doc.hops.reduce((n, h) => n + h.interfaces.length, 0);
  out += `${interfaces} interfaces, ${doc.links.length} links, ${doc.paths.length} paths, ${doc.probes} probes, ` +
    `confidence reached ${doc.confidenceReached}%${doc.aborted ? ', interrupted' : ''}\n`;
  const perPacket = doc.hops.flatMap((h) => h.interfaces.filter((i) => i.balancing === 'per-packet').map((i) => `${i.address} (hop ${h.ttl})`));
  if (perPacket.length) {
    out += `per-packet load balancing at ${perPacket.join(', ')}: its paths are not fixed per flow\n`;
  }
  if (doc.flowLabelsRefused !== null) {
    out += `${doc.flowLabels} of ${doc.flows} flows carried an IPv6 flow label (${doc.flowLabelsRefused}): ` +
      'routers that hash on it, as Linux does by default, spread only those\n';
  }
  return out;
}
