#!/usr/bin/env node
// Benchmark (not a test): multipath discovery side by side, in one run, on the same ECMP
// topologies in network namespaces (bench/lib/diamonds.mjs: width 2, width 3, a nested diamond,
// unequal path lengths), each built, traced and always removed:
//   netdiag            node bin/netdiag.js traceroute --mda --json -n DST
//   scamper            scamper -O warts -o F -I "tracelb -P udp-dport DST"   (read with sc_wartsdump)
//   dublin-traceroute  dublin-traceroute DST -n 20 -T MAXTTL                  (reads its trace.json)
// Each is a whole process started with `ip netns exec SOURCE …` (the same few ms for all of them),
// alternating, after one warm-up round. Per topology and tool: probes sent (nftables counters
// on the first router of every packet from the source, in all and by TTL; what the tool says
// itself in brackets — dublin-traceroute records only the hops up to the destination),
// wall time, and the built paths it found (exactly, hop by hop, as address sequences), with
// medians over the runs; then netdiag/scamper ratios against the issue's targets: every path
// found, probes <= 1.0x scamper's, wall <= 0.5x scamper's. A report: it exits 0 when targets are
// missed or a tool fails (the table says so), 2 when it cannot run at all.
// Traffic stays inside the namespaces it builds. Needs root, iproute2, nftables, the compiled
// dist/; scamper and dublin-traceroute are compared when installed (scripts/setup-debian.sh).
//
//   node bench/multipath.mjs [--runs N] [--quick (= --runs 1)] [--only width-2,nested,...]
//                            [--dublin-max-ttl N] [--save DIR] [--fastest-scamper]
//   npm run bench -- multipath --runs=5      (the same options, written --name=value)
// --save DIR keeps the raw output of every measured run that missed a built path or showed a
// false one (with the built paths appended), to see why. --fastest-scamper adds a row for
// tracelb at its shortest wait between probes (-W 15: 150 ms; it refuses less; default 250 ms):
// how much of scamper's time is its pacing. The targets are judged against plain `scamper`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Diamond, TOPOLOGIES } from './lib/diamonds.mjs';
import { cli, have, loadAverage, measure, median, ratio, root, seconds } from './lib/measure.mjs';
import { dublinResult, netdiagResult, scamperResult, score } from './lib/multipath-results.mjs';

const TARGET_PROBES = 1.0;
const TARGET_WALL = 0.5;

function options() {
  const argv = process.argv.slice(2);
  // `--name value` or `--name=value` (bench/run.js forwards only arguments that start with -)
  const value = (name) => {
    const i = argv.indexOf(name);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const runs = Number(value('--runs') ?? (argv.includes('--quick') ? 1 : 3));
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) usage('--runs needs a whole number 1–50, e.g. --runs 3');
  const only = value('--only')?.split(',') ?? TOPOLOGIES.map((t) => t.name);
  const unknown = only.find((n) => !TOPOLOGIES.some((t) => t.name === n));
  if (unknown) usage(`--only: no topology '${unknown}' (have ${TOPOLOGIES.map((t) => t.name).join(', ')})`);
  const maxTtl = Number(value('--dublin-max-ttl') ?? 8);
  if (!Number.isInteger(maxTtl) || maxTtl < 1 || maxTtl > 64) usage('--dublin-max-ttl needs a whole number 1–64, e.g. --dublin-max-ttl 8');
  const save = value('--save') ?? null;
  if (save !== null) mkdirSync(save, { recursive: true });
  return { runs, only, maxTtl, save, fastestScamper: argv.includes('--fastest-scamper') };
}

function usage(message) {
  console.error(`bench/multipath: ${message}`);
  process.exit(2);
}

/** The tools compared: how each is started inside the source namespace and how it is read. */
function tools(scratch, { maxTtl, fastestScamper }) {
  const warts = join(scratch, 'tracelb.warts');
  const dublinDir = join(scratch, 'dublin');
  const scamper = (name, tracelbOptions) => ({
    name,
    missing: ['scamper', 'sc_wartsdump'].filter((t) => !have(t)).join(', ') || null,
    before: () => rmSync(warts, { force: true }),
    argv: (d) => ['scamper', '-O', 'warts', '-o', warts, '-I', ['tracelb', '-P', 'udp-dport', ...tracelbOptions, d.target].join(' ')],
    read: () => {
      const r = measure('sc_wartsdump', [warts]);
      if (r.status !== 0) throw new Error(`sc_wartsdump: ${r.stderr.trim()}`);
      return { ...scamperResult(r.stdout), raw: r.stdout };
    },
  });
  return [
    {
      name: 'netdiag',
      missing: null,
      printsResult: true,
      argv: (d) => [process.execPath, cli, 'traceroute', '--mda', '--json', '-n', d.target],
      read: (r) => ({ ...netdiagResult(r.stdout), raw: r.stdout }),
    },
    scamper('scamper', []),
    ...(fastestScamper ? [scamper('scamper -W 15', ['-W', '15'])] : []),
    {
      name: 'dublin-traceroute',
      missing: have('dublin-traceroute') ? null : 'dublin-traceroute',
      before: () => {
        rmSync(dublinDir, { recursive: true, force: true });
        mkdirSync(dublinDir);
      },
      // it writes trace.json into its working directory
      argv: (d) => ['env', `--chdir=${dublinDir}`, 'dublin-traceroute', d.target, '-n', '20', '-T', String(maxTtl)],
      read: () => {
        const raw = readFileSync(join(dublinDir, 'trace.json'), 'utf8');
        return { ...dublinResult(raw), raw };
      },
    },
  ];
}

/** One run of one tool: whole-process wall time, probes counted, paths scored. */
async function runOnce(d, tool, expected, save) {
  tool.before?.();
  const before = await d.probesSoFar();
  const r = measure('ip', ['netns', 'exec', d.source, ...tool.argv(d)], { timeoutMs: 300_000 });
  const after = await d.probesSoFar();
  const sent = after.total - before.total;
  const byTtl = Object.fromEntries(Object.keys(after.byTtl).map((t) => [t, after.byTtl[t] - before.byTtl[t]]));
  if (r.status === null) return { wall: r.wall, sent, error: 'killed after 300 s' };
  const complaint = (r.stderr.trim().split('\n').find((l) => !/^WARNING|^\s/.test(l)) ?? '').slice(0, 160);
  if (tool.printsResult && !r.stdout.trim()) return { wall: r.wall, sent, error: `exit ${r.status}, nothing on stdout${complaint ? `: ${complaint}` : ''}` };
  try {
    const got = tool.read(r);
    const scored = score(expected, got.paths);
    if (save && (scored.found < scored.built || scored.extra)) {
      const file = join(save, `${d.topology.name}-${tool.name.replace(/\W+/g, '-')}-${Date.now()}.txt`);
      writeFileSync(file, `${got.raw}\n# built paths\n${expected.map((p) => p.join(' ')).join('\n')}\n`);
    }
    return { wall: r.wall, sent, byTtl, said: got.probes, confidence: got.confidence ?? null, ...scored, status: r.status };
  } catch (e) {
    return { wall: r.wall, sent, error: `exit ${r.status}: ${e.message}${complaint ? ` — ${complaint}` : ''}` };
  }
}

function summarize(results) {
  const ok = results.filter((x) => !x.error);
  if (!ok.length) return { error: results.at(-1).error, runs: results.length };
  return {
    runs: results.length,
    failed: results.length - ok.length,
    error: ok.length < results.length ? results.find((x) => x.error).error : null,
    wall: median(ok.map((x) => x.wall)),
    sent: median(ok.map((x) => x.sent)),
    byTtl: Object.fromEntries(Object.keys(ok[0].byTtl).map((t) => [t, median(ok.map((x) => x.byTtl[t]))])),
    said: median(ok.map((x) => x.said)),
    confidence: ok.some((x) => x.confidence !== null) ? Math.min(...ok.map((x) => x.confidence ?? Infinity)) : null,
    foundMin: Math.min(...ok.map((x) => x.found)),
    foundMax: Math.max(...ok.map((x) => x.found)),
    foundEach: ok.map((x) => x.found),
    built: ok[0].built,
    extra: Math.max(...ok.map((x) => x.extra)),
    partial: Math.max(...ok.map((x) => x.partial)),
  };
}

async function benchTopology(topology, sides, { runs, save }) {
  const d = await Diamond.build(topology);
  try {
    const expected = d.expectedPaths();
    const usable = sides.filter((t) => !t.missing);
    const results = Object.fromEntries(usable.map((t) => [t.name, []]));
    for (const t of usable) await runOnce(d, t, expected, null); // warm-up: neighbour tables, page cache
    for (let i = 0; i < runs; i++) for (const t of usable) results[t.name].push(await runOnce(d, t, expected, save));
    return { topology, target: d.target, expected, tools: Object.fromEntries(sides.map((t) => [t.name, t.missing ? { missing: t.missing } : summarize(results[t.name])])) };
  } finally {
    await d.destroy();
  }
}

function pathsCell(s) {
  const found = s.foundMin === s.foundMax ? `${s.foundMin}` : `${s.foundMin}–${s.foundMax}`;
  const notes = [
    s.foundMin !== s.foundMax && `per run ${s.foundEach.join(',')}`,
    s.extra && `+${s.extra} false`,
    s.partial && `${s.partial} partial`,
  ].filter(Boolean).join(', ');
  return `${found}/${s.built}${notes ? ` (${notes})` : ''}`;
}

function printTopology(r) {
  console.log(`\n${r.topology.name}: ${r.topology.about}; target ${r.target}; ${r.expected.length} paths built`);
  for (const [name, s] of Object.entries(r.tools)) {
    const label = `  ${name.padEnd(18)}`;
    if (s.missing) console.log(`${label} not run: needs ${s.missing}`);
    else if (s.wall === undefined) console.log(`${label} FAILED (${s.runs} runs): ${s.error}`);
    else {
      console.log(`${label} probes ${String(s.sent).padStart(5)} [says ${s.said ?? 'n/a'}${s.confidence !== null ? `, confidence >= ${Number(s.confidence.toFixed(2))}%` : ''}]   wall ${seconds(s.wall).padStart(9)}   paths ${pathsCell(s)}` +
        (s.failed ? `   (${s.failed}/${s.runs} runs failed: ${s.error})` : ''));
      const perTtl = Object.entries(s.byTtl).filter(([, n]) => n > 0).map(([t, n]) => `${t}:${n}`).join(' ');
      console.log(`  ${''.padEnd(18)} probes by TTL (medians) ${perTtl}`);
    }
  }
}

function verdict(ok) {
  return ok ? 'met' : 'MISSED';
}

function printSummary(all) {
  console.log('\nnetdiag against scamper (targets: every path found; probes <= 1.0x; wall <= 0.5x):');
  console.log(`  ${'topology'.padEnd(9)} ${'paths'.padEnd(12)} ${'probes n/s'.padEnd(18)} ${'wall n/s'.padEnd(18)}`);
  for (const r of all) {
    const n = r.tools.netdiag, s = r.tools.scamper;
    if (!n || n.wall === undefined) {
      console.log(`  ${r.topology.name.padEnd(9)} netdiag gave no multipath result: ${n?.error ?? n?.missing}`);
      continue;
    }
    const every = n.foundMin === n.built && !n.extra;
    const paths = `${pathsCell(n)} ${every ? 'met' : 'MISSED'}`;
    if (!s || s.wall === undefined) {
      console.log(`  ${r.topology.name.padEnd(9)} ${paths.padEnd(12)} scamper gave no result: ${s?.error ?? s?.missing}`);
      continue;
    }
    const pr = n.sent / s.sent, wr = n.wall / s.wall;
    console.log(`  ${r.topology.name.padEnd(9)} ${paths.padEnd(12)} ${`${ratio(n.sent, s.sent)} ${verdict(pr <= TARGET_PROBES)}`.padEnd(18)} ${`${ratio(n.wall, s.wall)} ${verdict(wr <= TARGET_WALL)}`.padEnd(18)}`);
  }
}

async function main() {
  const opts = options();
  const missing = [
    !existsSync(join(root, 'dist', 'testing', 'index.js')) && 'the built package in dist/ (npm run build)',
    process.geteuid?.() !== 0 && 'root (namespaces, raw sockets)',
    ...['ip', 'nft', 'ping', 'env'].filter((t) => !have(t)),
  ].filter(Boolean);
  if (missing.length) usage(`cannot run, needs ${missing.join(', ')}`);
  const scratch = mkdtempSync(join(tmpdir(), 'netdiag-bench-multipath-'));
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(s, () => process.exit(130));
  const sides = tools(scratch, opts);
  console.log(`multipath discovery, UDP (varying destination port); medians of ${opts.runs} alternating runs after a warm-up; load average ${loadAverage()}`);
  console.log(`dublin-traceroute: 20 flows, TTL 1–${opts.maxTtl}; scamper and netdiag: their defaults (95 % confidence)`);
  const all = [];
  for (const name of opts.only) {
    const topology = TOPOLOGIES.find((t) => t.name === name);
    try {
      const r = await benchTopology(topology, sides, opts);
      printTopology(r);
      all.push(r);
    } catch (e) {
      console.log(`\n${name}: could not be measured: ${e.message}`);
    }
  }
  printSummary(all);
  console.log(`load average at the end ${loadAverage()}`);
}

main().catch((e) => {
  process.stderr.write(`bench/multipath: ${e.stack ?? e}\n`);
  process.exitCode = 1;
});
