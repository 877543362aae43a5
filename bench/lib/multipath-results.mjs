// What each multipath tracer says it found, as the same thing: the distinct paths it saw, each
// a sequence of addresses from hop 1 to the destination ('*' for a hop that did not answer),
// and the probes it says it spent. Then a score against the paths that were built.
//   scamper tracelb (sc_wartsdump text): its nodes, and every probe's flow id, TTL and reply;
//   dublin-traceroute (its trace.json): one address sequence per flow;
//   netdiag traceroute --mda --json (netdiag.multipath/1): its own list of paths.

const MAX_PATHS = 10_000; // a graph with more paths than this is not one of ours

function key(seq) {
  return seq.join(' ');
}

/** Distinct paths from `start` to `dst` through `edges` (Map addr → Set of next addrs). */
function pathsThrough(edges, start, dst) {
  const out = [];
  const walk = (at, seq) => {
    if (out.length >= MAX_PATHS) return;
    if (at === dst) return void out.push(seq);
    for (const next of edges.get(at) ?? []) if (!seq.includes(next)) walk(next, [...seq, next]);
  };
  walk(start, [start]);
  return out;
}

/**
 * sc_wartsdump output of one tracelb → { probes, paths }. The dump lists every probe (flow id,
 * TTL, who replied) under the link it belongs to; sc_warts2json leaves out the last hop of a
 * link that ends nowhere, and its "clumps" do not say which address leads to which.
 * Edges: a link's start node to the addresses its first probes reached, the addresses of its
 * last-but-one hop to the node it ends at (scamper's claim that they converge there, even when
 * it probed that last hop with one flow only), and, per flow, the address at one TTL to the
 * address at the next.
 */
export function scamperResult(dump) {
  let dst = null, probes = null, link = null, probe = null;
  const nodes = [], links = [];
  for (const line of dump.split('\n')) {
    let m;
    if ((m = /^tracelb from \S+ to (\S+)/.exec(line))) dst = m[1];
    else if ((m = /probec: (\d+)/.exec(line))) probes = Number(m[1]);
    else if ((m = /^node \d+ (\S+), q-ttl (\d+)/.exec(line))) nodes.push({ addr: m[1], ttl: Number(m[2]) });
    else if ((m = /^ link (\S+) -> (\S+)/.exec(line))) links.push((link = { from: m[1], to: m[2], probes: [] }));
    else if ((m = /^ {2}probe flowid: (\d+), ttl: (\d+)/.exec(line)) && link) link.probes.push((probe = { flow: m[1], ttl: Number(m[2]), from: null }));
    else if ((m = /^ {3}reply from: ([^\s,]+)/.exec(line)) && probe) probe.from ??= m[1];
  }
  if (dst === null) throw new Error('no tracelb record in the warts file');
  const edges = new Map();
  const connect = (a, b) => {
    if (a === b) return;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a).add(b);
  };
  const byFlow = new Map();
  for (const l of links) {
    const first = Math.min(...l.probes.map((p) => p.ttl));
    const last = Math.max(...l.probes.map((p) => p.ttl));
    for (const p of l.probes) {
      if (!p.from) continue; // a silent probe links nothing
      if (p.ttl === first) connect(l.from, p.from);
      if (p.ttl === last - 1 && l.to !== '*') connect(p.from, l.to);
      if (!byFlow.has(p.flow)) byFlow.set(p.flow, new Map());
      byFlow.get(p.flow).set(p.ttl, p.from);
    }
  }
  for (const hops of byFlow.values()) for (const [ttl, addr] of hops) if (hops.has(ttl + 1)) connect(addr, hops.get(ttl + 1));
  const start = [...nodes].sort((a, b) => a.ttl - b.ttl)[0]?.addr;
  return { probes, paths: start ? pathsThrough(edges, start, dst) : [] };
}

/** dublin-traceroute's trace.json → { probes, paths }: each flow's hops up to the last. */
export function dublinResult(json) {
  const doc = JSON.parse(json);
  const seqs = new Map();
  let probes = 0;
  for (const hops of Object.values(doc.flows ?? {})) {
    probes += hops.length; // it records the hops up to the destination, not every probe sent
    const sorted = [...hops].sort((a, b) => a.sent.ip.ttl - b.sent.ip.ttl);
    const last = sorted.findIndex((h) => h.is_last);
    const seq = (last >= 0 ? sorted.slice(0, last + 1) : sorted).map((h) => h.received?.ip?.src ?? '*');
    seqs.set(key(seq), seq);
  }
  return { probes, paths: [...seqs.values()] };
}

/** netdiag traceroute --mda --json (netdiag.multipath/1) → { probes, paths, confidence }. */
export function netdiagResult(json) {
  const doc = JSON.parse(json);
  if (doc.schema !== 'netdiag.multipath/1') throw new Error(`expected schema netdiag.multipath/1, got ${JSON.stringify(doc.schema)}`);
  if (!Array.isArray(doc.paths)) throw new Error('the document has no paths list');
  return {
    probes: doc.probes,
    paths: doc.paths.map((p) => p.hops.map((h) => h ?? '*')),
    confidence: doc.confidenceReached,
  };
}

/**
 * found: built paths seen exactly; extra: complete paths seen that were not built (a false
 * path); partial: paths with a silent hop (not credited either way).
 */
export function score(expected, seen) {
  const built = new Set(expected.map(key));
  const unique = [...new Map(seen.map((s) => [key(s), s])).values()];
  const got = new Set(unique.map(key));
  const complete = unique.filter((s) => !s.includes('*'));
  return {
    found: expected.filter((e) => got.has(key(e))).length,
    built: expected.length,
    extra: complete.filter((s) => !built.has(key(s))).length,
    partial: unique.length - complete.length,
  };
}
