// netdiag ping side by side with fping and iputils ping, on loopback, in one run. Every CLI
// figure is the whole process (`node bin/netdiag.js ping ...`, spawn to exit, what a user
// feels) next to the tool's whole process; medians of alternating runs, and the ratios the
// project targets:
//   (a) one probe: `netdiag ping -c 1 127.0.0.1` vs iputils `ping -c 1`, with `node -e 0`
//       (Node's own start-up, part of every netdiag run)     target: <= node -e 0 + 40 ms
//   (b) scale: 1,000, 10,000 and 65,534 loopback targets (127.1.0.0/16) x 1 probe, no pacing:
//       netdiag -q -c 1 -g vs `fping -q -c1 -i 0 -g`, wall and CPU, so the growth of the cost
//       shows; plus netdiag's in-process time at 10,000      target: 10k <= 1.0x, 65,534 <= 0.8x
//   (c) 100,000-probe flood of 127.0.0.1: netdiag -f vs `ping -f`, probes per second by the
//       tools' own time and whole process             target: own >= 1.0x, whole >= 0.8x
//   (d) median loopback RTT while the event loop runs a 5 ms blocking task every 10 ms, vs
//       iputils ping on an idle machine                         target: <= 2x iputils
// A reference line helps read (c): the rate of a bare loop that sends one echo and reads its
// reply with one native call per probe and no engine at all.
// Needs root (raw sockets), the compiled dist/ (npm run build), fping and iputils ping.
// Usage: node bench/ping.mjs [runs]     (not a test: it reports, it does not fail)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fmt, have, loadAverage, measure, median, ratio, root, seconds } from './lib/measure.mjs';
import { bareLoopRate, flood, inProcessMany, manyTargets, singlePing } from './lib/ping-series.mjs';

const RUNS = Number(process.argv[2] ?? 7);
const FLOOD = 100_000;
const SCALE = [1_000, 10_000, 'cidr16'];

const missing = [
  !existsSync(join(root, 'dist/ping/index.js')) && 'dist/ (run npm run build)',
  process.geteuid?.() !== 0 && 'root (raw sockets and a fair comparison with fping/ping)',
  !have('fping') && 'fping (apt-get install fping)',
  !have('ping') && 'iputils ping (apt-get install iputils-ping)',
].filter(Boolean);
if (missing.length) {
  console.log(`bench/ping.mjs skipped: needs ${missing.join(', ')}`);
  process.exit(0);
}

function busyLoopRtts() {
  const script = `
    import { pingStream } from ${JSON.stringify(join(root, 'dist/ping/index.js'))};
    const blocker = setInterval(() => { const end = performance.now() + 5; while (performance.now() < end); }, 10);
    const run = pingStream('127.0.0.1', { count: 200, interval: 10, timeout: 2000 });
    const rtts = [];
    for await (const e of run) if (e.type === 'reply') rtts.push(e.reply.rtt);
    clearInterval(blocker);
    process.stdout.write(JSON.stringify(rtts));`;
  return JSON.parse(spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).stdout);
}

function main() {
  const single = singlePing(RUNS);
  // the largest point takes seconds per run on both sides: fewer runs
  const scale = SCALE.map((n) => manyTargets(n, n === 'cidr16' ? Math.min(RUNS, 3) : RUNS, { cpu: true }));
  const inproc = median(Array.from({ length: RUNS }, () => inProcessMany(10_000).wall));
  const fl = flood(FLOOD, RUNS, { cpu: true });
  const bare = median(Array.from({ length: RUNS }, () => bareLoopRate(FLOOD)));
  const rtt = { netdiag: [], iputils: [] };
  for (let i = 0; i < Math.min(RUNS, 5); i++) {
    const ours = busyLoopRtts();
    if (ours.length !== 200) throw new Error(`pingStream under a busy loop got ${ours.length} of 200 replies`);
    const theirs = measure('ping', ['-c', '200', '-i', '0.01', '127.0.0.1']);
    const times = [...theirs.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    if (times.length !== 200) throw new Error(`ping -c 200 -i 0.01 got ${times.length} of 200 replies`);
    rtt.netdiag.push(median(ours));
    rtt.iputils.push(median(times));
  }

  console.log(`netdiag ping benchmark — whole process unless marked, medians of ${RUNS} alternating runs (load average ${loadAverage()})\n`);
  console.log('(a) one probe to 127.0.0.1');
  console.log(`    netdiag ping -c 1   ${seconds(single.netdiag).padStart(9)}   (node -e 0 + ${fmt((single.netdiag - single.node) * 1000, 1)} ms; target <= + 40 ms)`);
  console.log(`    ping -c 1 (iputils) ${seconds(single.ping).padStart(9)}   ratio ${ratio(single.netdiag, single.ping)}`);
  console.log(`    node -e 0           ${seconds(single.node).padStart(9)}`);
  console.log('(b) loopback targets x 1 probe, no pacing: netdiag ping -q -c 1 -g  vs  fping -q -c1 -i 0 -g');
  console.log('    targets   netdiag wall   cpu      fping wall   cpu      ratio wall   cpu     answered (netdiag/fping)  target');
  for (const s of scale) {
    const target = s.count === 10_000 ? '<= 1.00×' : s.count > 60_000 ? '<= 0.80×' : '';
    console.log(`    ${s.count.toLocaleString('en-US').padStart(7)}   ${seconds(s.netdiag.wall).padStart(9)}   ${fmt(s.netdiag.cpu, 2).padStart(5)} s  ${seconds(s.fping.wall).padStart(9)}  ${fmt(s.fping.cpu, 2).padStart(5)} s  ` +
      `${ratio(s.netdiag.wall, s.fping.wall).padStart(9)}   ${ratio(s.netdiag.cpu, s.fping.cpu).padStart(6)}   ${`${s.netdiag.answered}/${s.fping.answered}`.padStart(24)}  ${target}`);
  }
  const ten = scale.find((s) => s.count === 10_000);
  console.log(`    10,000 in-process pingMany ${seconds(inproc)} (${ratio(inproc, ten.fping.wall)} fping's whole process; start-up and output are the rest)`);
  console.log('    (65,534 = 127.1.0.0/16 without network and broadcast address; fping 5.1 cannot take 65,536 targets in one run)');
  console.log(`(c) flood of 127.0.0.1, ${FLOOD.toLocaleString('en-US')} probes`);
  console.log(`    netdiag -f    ${fmt(fl.netdiag.own / 1000, 1)}k probes/s by its own time, ${fmt(fl.netdiag.whole / 1000, 1)}k/s whole process, cpu ${fmt(fl.netdiag.cpu, 2)} s`);
  console.log(`    ping -f       ${fmt(fl.ping.own / 1000, 1)}k probes/s by its own time, ${fmt(fl.ping.whole / 1000, 1)}k/s whole process, cpu ${fmt(fl.ping.cpu, 2)} s`);
  console.log(`    ratio ${ratio(fl.netdiag.own, fl.ping.own)} by own time (target >= 1.00×), ${ratio(fl.netdiag.whole, fl.ping.whole)} whole process (target >= 0.80×)`);
  console.log(`    reference: a bare JS loop, one native send+read per probe, no engine: ${fmt(bare / 1000, 1)}k/s (${ratio(bare, fl.ping.own)} ping -f; netdiag's own time is ${ratio(fl.netdiag.own, bare)} of it)`);
  const c = { ours: median(rtt.netdiag), theirs: median(rtt.iputils) };
  console.log('(d) median loopback RTT (in-process: the event loop is what is measured)');
  console.log(`    netdiag, event loop blocked 5 ms every 10 ms   ${fmt(c.ours, 4)} ms`);
  console.log(`    iputils ping, idle                            ${fmt(c.theirs, 4)} ms`);
  console.log(`    ratio ${ratio(c.ours, c.theirs)} (target <= 2×)`);
}

try {
  main();
} catch (e) {
  console.error(`bench/ping: ${e.message}`);
  process.exitCode = 1;
}
