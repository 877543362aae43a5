#!/usr/bin/env node
// Benchmark (not a test): netdiag traceroute side by side with Linux traceroute and mtr on an
// 8-hop namespace chain (source — 7 routers — destination, bench/lib/chain.mjs) this script
// builds and always removes. Needs root, iproute2, nftables, traceroute, mtr, and the
// compiled dist/ (npm run build).
//   (a) a trace: `node bin/netdiag.js traceroute -n` vs `traceroute -n`, both whole processes
//       (what a user runs), UDP and ICMP (-I), clean and with one silent hop (router 3 drops
//       its time-exceeded messages); with `node -e 0` as Node's floor; netdiag's in-process
//       time as an extra row;
//   (b) a 10-cycle report: `netdiag traceroute --report -I -n` vs `mtr -r -n -c 10`, whole
//       processes, same per-hop columns; in-process as an extra row.
// Every side is timed from inside the source namespace, in one run, and printed as ratios.
//
//   node bench/traceroute.mjs [--runs N] [--mtr-runs N]
import { fileURLToPath } from 'node:url';
import { Chain } from './lib/chain.mjs';
import { have, median, ratio, seconds } from './lib/measure.mjs';
import { reportWholeProcess, traceWholeProcess } from './lib/trace-series.mjs';

const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Child: netdiag in-process (library calls), inside the source namespace.

async function child(config) {
  const { traceroute, tracerouteReport } = await import(new URL('../dist/traceroute/index.js', import.meta.url).href);
  const out = {};
  if (config.part === 'trace') {
    for (const method of ['udp', 'icmp']) {
      const times = [];
      let last = null;
      await traceroute(config.target, { method }); // warm-up: JIT, dynamic imports
      for (let i = 0; i < config.runs; i++) {
        const t0 = performance.now();
        last = await traceroute(config.target, { method });
        times.push((performance.now() - t0) / 1000);
      }
      out[method] = {
        wall: median(times), hops: last.hops.length, reached: last.reached,
        silent: last.hops.filter((h) => h.probes.every((p) => p.status === 'timeout')).map((h) => h.ttl),
      };
    }
  } else {
    const times = [];
    let last = null;
    await tracerouteReport(config.target, { method: 'icmp', cycles: 1 });
    for (let i = 0; i < config.runs; i++) {
      const t0 = performance.now();
      last = await tracerouteReport(config.target, { method: 'icmp', cycles: 10 });
      times.push((performance.now() - t0) / 1000);
    }
    out.report = { wall: median(times), hops: last.hops.map((h) => ({ ttl: h.ttl, sent: h.stats.sent, loss: h.stats.loss, avg: h.stats.avg })) };
  }
  process.stdout.write(JSON.stringify(out));
}

// ---------------------------------------------------------------------------------------------
// Parent: the chain, the runs, the ratios.

function parent() {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const runs = arg('--runs', 15);
  const mtrRuns = arg('--mtr-runs', 3);
  for (const tool of ['ip', 'nft', 'traceroute', 'mtr']) if (!have(tool)) throw new Error(`needs ${tool}`);
  const chain = new Chain(7).up();
  const inProcess = (config) => chain.inSource(self, ['--child', JSON.stringify({ ...config, target: chain.target })]);
  try {
    console.log(`${chain.hops}-hop chain ${chain.names[0]} … ${chain.names.at(-1)}, target ${chain.target}; medians of ${runs} alternating runs (reports: ${mtrRuns})\n`);
    const clean = { whole: traceWholeProcess(chain, runs), lib: inProcess({ part: 'trace', runs }) };
    chain.silence(3);
    const silent = { whole: traceWholeProcess(chain, runs), lib: inProcess({ part: 'trace', runs }) };
    chain.unsilence(3);
    console.log('(a) trace: `node bin/netdiag.js traceroute -n` vs `traceroute -n`, whole processes (target: netdiag <= node -e 0 + 40 ms)');
    for (const [name, r] of [['clean', clean], ['silent hop 3', silent]]) {
      for (const method of ['udp', 'icmp']) {
        const w = r.whole[method], l = r.lib[method];
        const label = `${name}, ${method === 'icmp' ? 'ICMP -I' : 'UDP'}`;
        console.log(`    ${label.padEnd(22)} netdiag ${seconds(w.netdiag).padStart(9)}   traceroute ${seconds(w.traceroute).padStart(9)}   ratio ${ratio(w.netdiag, w.traceroute).padStart(8)}` +
          `   node -e 0 ${seconds(w.node)} (+${((w.netdiag - w.node) * 1000).toFixed(1)} ms)   hop lines ${w.netdiagHops}/${w.tracerouteHops}`);
        console.log(`    ${''.padEnd(22)} in-process ${seconds(l.wall).padStart(9)}   ratio to traceroute's whole process ${ratio(l.wall, w.traceroute)}` +
          `   (${l.hops} hops, reached ${l.reached}${l.silent.length ? `, silent ${l.silent.join(',')}` : ''})`);
      }
    }
    const rep = reportWholeProcess(chain, mtrRuns);
    const lib = inProcess({ part: 'report', runs: mtrRuns }).report;
    console.log('\n(b) 10-cycle report: `netdiag traceroute --report -I -n --cycles 10` vs `mtr -r -n -c 10`, whole processes (target <= 0.20×)');
    console.log(`    netdiag ${seconds(rep.netdiag)}   mtr ${seconds(rep.mtr)}   ratio ${ratio(rep.netdiag, rep.mtr)}   (netdiag's default interval is 0.25 s, mtr's 1 s)`);
    console.log(`    same 0.25 s interval: mtr -i 0.25 ${seconds(rep.mtrSameInterval)}   ratio ${ratio(rep.netdiag, rep.mtrSameInterval)}`);
    console.log(`    in-process tracerouteReport ${seconds(lib.wall)}   ratio to mtr ${ratio(lib.wall, rep.mtr)}`);
    console.log(`    netdiag per hop (TTL sent loss% avg): ${lib.hops.map((h) => `${h.ttl}:${h.sent}/${h.loss}%/${h.avg.toFixed(3)}`).join('  ')}`);
    console.log('    netdiag:\n' + rep.netdiagText.trimEnd().split('\n').map((l) => `      ${l}`).join('\n'));
    console.log('    mtr:\n' + rep.mtrText.trimEnd().split('\n').map((l) => `      ${l}`).join('\n'));
  } finally {
    for (const k of chain.silenced) chain.unsilence(k);
    chain.down();
  }
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
} else {
  try {
    parent();
  } catch (e) {
    process.stderr.write(`bench/traceroute: ${e.message}\n`);
    process.exitCode = 1;
  }
}
