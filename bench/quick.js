#!/usr/bin/env node
// npm run bench:quick [-- --runs N]: the issue-9 comparisons at CI size, well under a minute.
// Every row is `node bin/netdiag.js ...` against the tool users compare it with, both whole
// processes (spawn to exit), alternating, medians; printed as one compact table with ratios
// and the project's targets beside them:
//   ping -c 1 127.0.0.1     vs iputils `ping -c 1`, and `node -e 0`   target: <= node -e 0 + 40 ms
//   8-hop traceroute -n     vs `traceroute -n` (UDP and -I), in a namespace chain it builds
//                           and removes (bench/lib/chain.mjs)           target: <= node -e 0 + 40 ms
//   10,000 loopback targets vs `fping -q -c1 -i 0`                      target: <= 1.00×
//   20,000-probe flood      vs `ping -f`, own time and whole process   target: >= 1.00× / >= 0.80×
// A report, not a test: it never judges by exit status (a case that could not run prints why
// and makes the exit status 1; missing prerequisites make it 2). Not one of the .mjs files
// `npm run bench` runs: the full benchmarks cover the same rows at larger sizes.
// Loopback and its own namespaces only. Needs root, the built package, ping, fping,
// traceroute, iproute2.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Chain } from './lib/chain.mjs';
import { fmt, have, loadAverage, ratio, root, seconds } from './lib/measure.mjs';
import { flood, manyTargets, singlePing } from './lib/ping-series.mjs';
import { traceWholeProcess } from './lib/trace-series.mjs';

const started = performance.now();
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 5;
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 50) {
  console.error('bench:quick: --runs needs a whole number 1–50, e.g. --runs 5');
  process.exit(2);
}
const FLOOD = 20_000;
const TARGETS = 10_000;
const FLOOR_MS = 40; // the issue's allowance over `node -e 0`

const missing = [
  !existsSync(join(root, 'dist')) && 'the built package in dist/ (npm run build)',
  process.geteuid?.() !== 0 && 'root (raw sockets, namespaces)',
  ...['ping', 'fping', 'traceroute', 'ip'].filter((t) => !have(t)),
].filter(Boolean);
if (missing.length) {
  console.error(`bench:quick: cannot run, needs ${missing.join(', ')}`);
  process.exit(2);
}

/** One table row: what ran, netdiag's figure, the tool's, the ratio, the target and whether it is met. */
const rows = [];
let failures = 0;

function attempt(label, fn) {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    failures++;
    rows.push({ what: label, failed: e.message.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ').slice(0, 400) });
  }
  process.stderr.write(`bench:quick: ${label} ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** A time row whose target is Node's floor plus FLOOR_MS. */
function floorRow(what, tool, netdiag, theirs, node) {
  const over = (netdiag - node) * 1000;
  rows.push({
    what, netdiag: seconds(netdiag), tool, theirs: seconds(theirs), ratio: ratio(netdiag, theirs),
    target: `<= node -e 0 + ${FLOOR_MS} ms (${seconds(node)}): +${over.toFixed(0)} ms`, met: over <= FLOOR_MS,
  });
}

attempt('ping -c 1', () => {
  const r = singlePing(RUNS + 4); // cheap: a few more runs steady the median
  floorRow('ping -c 1 127.0.0.1', 'ping -c 1', r.netdiag, r.ping, r.node);
});

attempt('8-hop trace', () => {
  const chain = new Chain(7).up();
  try {
    const r = traceWholeProcess(chain, RUNS);
    for (const [method, flag] of [['udp', ''], ['icmp', ' -I']]) {
      const m = r[method];
      floorRow(`traceroute${flag} -n, ${chain.hops} hops`, `traceroute${flag} -n`, m.netdiag, m.traceroute, m.node);
      if (m.netdiagHops !== chain.hops) rows.at(-1).note = `netdiag printed ${m.netdiagHops} hop lines, expected ${chain.hops}`;
    }
  } finally {
    chain.down();
  }
});

attempt(`${TARGETS} targets`, () => {
  const r = manyTargets(TARGETS, RUNS);
  rows.push({
    what: `ping -q -c 1, ${TARGETS.toLocaleString('en-US')} targets`, netdiag: seconds(r.netdiag.wall),
    tool: 'fping -q -c1 -i 0', theirs: seconds(r.fping.wall), ratio: ratio(r.netdiag.wall, r.fping.wall),
    target: '<= 1.00×', met: r.netdiag.wall <= r.fping.wall,
    note: r.netdiag.answered === r.count && r.fping.answered === r.count ? undefined : `answered ${r.netdiag.answered}/${r.fping.answered} of ${r.count}`,
  });
});

attempt(`${FLOOD} flood`, () => {
  const r = flood(FLOOD, RUNS);
  const rate = (x) => `${fmt(x / 1000, 1)}k/s`;
  rows.push({
    what: `ping -f, ${FLOOD.toLocaleString('en-US')} probes, own time`, netdiag: rate(r.netdiag.own), tool: 'ping -f',
    theirs: rate(r.ping.own), ratio: ratio(r.netdiag.own, r.ping.own), target: '>= 1.00×', met: r.netdiag.own >= r.ping.own,
  });
  rows.push({
    what: `ping -f, ${FLOOD.toLocaleString('en-US')} probes, whole process`, netdiag: rate(r.netdiag.whole), tool: 'ping -f',
    theirs: rate(r.ping.whole), ratio: ratio(r.netdiag.whole, r.ping.whole), target: '>= 0.80×', met: r.netdiag.whole >= 0.8 * r.ping.whole,
  });
});

// ---------------------------------------------------------------------------------------------

const head = { what: 'case', netdiag: 'netdiag', tool: 'against', theirs: 'tool', ratio: 'ratio', target: 'target', met: null };
const width = (key) => Math.max(...[head, ...rows].map((r) => String(r[key] ?? '').length));
const w = Object.fromEntries(['what', 'netdiag', 'tool', 'theirs', 'ratio'].map((k) => [k, width(k)]));
const line = (r) => {
  if (r.failed) return `${r.what.padEnd(w.what)}  could not run: ${r.failed}`;
  const status = r.met === null ? 'status' : r.met ? 'met' : 'MISSED';
  return `${r.what.padEnd(w.what)}  ${r.netdiag.padStart(w.netdiag)}  ${r.tool.padEnd(w.tool)}  ${r.theirs.padStart(w.theirs)}  ${r.ratio.padStart(w.ratio)}  ${status.padEnd(6)}  ${r.target}${r.note ? `  (${r.note})` : ''}`;
};
console.log(`netdiag bench:quick — whole processes, medians of ${RUNS} alternating runs (ping -c 1: ${RUNS + 4}); load average ${loadAverage()}`);
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log(`bench:quick took ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failures ? 1 : 0;
