#!/usr/bin/env node
// Benchmark (not a test): netdiag traceroute side by side with Linux traceroute and mtr on an
// 8-hop namespace chain (source — 7 routers — destination) this script builds and always
// removes. Needs root, iproute2, nftables, traceroute, mtr, and the compiled dist/
// (npx tsc -p tsconfig.build.json).
//   (a) a trace: netdiag's in-process time vs `traceroute -n`'s whole process, clean and with
//       one silent hop (router 3 drops its time-exceeded messages);
//   (b) a 10-cycle report vs `mtr -r -n -c 10`, same per-hop columns.
// Both sides are timed from inside the source namespace, in one run, and printed as ratios.
//
//   node bench/traceroute.mjs [--runs N] [--mtr-runs N]
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const ROUTERS = 7;

// ---------------------------------------------------------------------------------------------
// Child: runs inside the source namespace and times both sides.

async function child(config) {
  const { traceroute, tracerouteReport } = await import(new URL('../dist/traceroute/index.js', import.meta.url).href);
  const out = {};
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const timeTool = (cmd, args) => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { ms, stdout: r.stdout };
  };
  if (config.part === 'trace') {
    for (const [label, method, flag] of [['UDP', 'udp', []], ['ICMP', 'icmp', ['-I']]]) {
      const mine = [], theirs = [];
      let lastMine = null, lastTheirs = null;
      // one warm-up each: JIT and the dynamic imports, neighbour caches
      await traceroute(config.target, { method });
      timeTool('traceroute', ['-n', ...flag, config.target]);
      for (let i = 0; i < config.runs; i++) {
        const t0 = performance.now();
        lastMine = await traceroute(config.target, { method });
        mine.push(performance.now() - t0);
        const t = timeTool('traceroute', ['-n', ...flag, config.target]);
        theirs.push(t.ms);
        lastTheirs = t.stdout;
      }
      out[label] = {
        netdiag: median(mine), traceroute: median(theirs),
        hops: lastMine.hops.length, reached: lastMine.reached,
        silent: lastMine.hops.filter((h) => h.probes.every((p) => p.status === 'timeout')).map((h) => h.ttl),
        traceroutePrinted: lastTheirs.trimEnd().split('\n').length - 1,
      };
    }
  } else {
    const mine = [], theirs = [], theirsSameInterval = [];
    let lastMine = null, lastTheirs = null;
    await tracerouteReport(config.target, { method: 'icmp', cycles: 1 });
    for (let i = 0; i < config.runs; i++) {
      const t0 = performance.now();
      lastMine = await tracerouteReport(config.target, { method: 'icmp', cycles: 10 });
      mine.push(performance.now() - t0);
      const t = timeTool('mtr', ['-r', '-n', '-c', '10', config.target]);
      theirs.push(t.ms);
      lastTheirs = t.stdout;
      // mtr at netdiag's default interval (0.25 s): what is left is mtr's grace period
      theirsSameInterval.push(timeTool('mtr', ['-r', '-n', '-c', '10', '-i', '0.25', config.target]).ms);
    }
    out.report = {
      netdiag: median(mine), mtr: median(theirs), mtrSameInterval: median(theirsSameInterval),
      hops: lastMine.hops.map((h) => ({ ttl: h.ttl, sent: h.stats.sent, loss: h.stats.loss, avg: h.stats.avg })),
      mtrText: lastTheirs,
    };
  }
  process.stdout.write(JSON.stringify(out));
}

// ---------------------------------------------------------------------------------------------
// Parent: the chain, the runs, the ratios.

function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

class Chain {
  constructor() {
    this.prefix = `ndb${process.pid % 100000}`;
    this.names = ['s', ...Array.from({ length: ROUTERS }, (_, i) => `r${i + 1}`), 'd'].map((n) => `${this.prefix}-${n}`);
    this.x = 200 + (process.pid % 50);
    this.target = `10.${this.x}.${ROUTERS + 1}.2`;
  }
  get source() { return this.names[0]; }
  router(k) { return this.names[k]; }

  up() {
    const lines = this.names.map((n) => `netns add ${n}`);
    for (let k = 1; k < this.names.length; k++) lines.push(`link add ${this.prefix}-${k}a netns ${this.names[k - 1]} type veth peer name ${this.prefix}-${k}b netns ${this.names[k]}`);
    sh('ip', ['-batch', '-'], lines.join('\n') + '\n');
    const last = this.names.length - 1;
    this.names.forEach((ns, k) => {
      const cmds = ['link set lo up'];
      if (k > 0) cmds.push(`link set ${this.prefix}-${k}b up`, `addr add 10.${this.x}.${k}.2/24 dev ${this.prefix}-${k}b`);
      if (k < last) cmds.push(`link set ${this.prefix}-${k + 1}a up`, `addr add 10.${this.x}.${k + 1}.1/24 dev ${this.prefix}-${k + 1}a`);
      if (k < last) cmds.push(`route add default via 10.${this.x}.${k + 1}.2`);
      for (let j = 1; j < k; j++) cmds.push(`route add 10.${this.x}.${j}.0/24 via 10.${this.x}.${k}.1`);
      if (k === last) cmds.push(`route add default via 10.${this.x}.${k}.1`);
      sh('ip', ['-n', ns, '-batch', '-'], cmds.join('\n') + '\n');
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.ip_forward=${k > 0 && k < last ? 1 : 0}`,
        'net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=1000000', 'net.ipv4.icmp_msgs_burst=1000000']);
    });
    sh('ip', ['netns', 'exec', this.source, 'ping', '-c1', '-W2', this.target]);
  }

  silence(k) {
    sh('ip', ['netns', 'exec', this.router(k), 'nft', '-f', '-'],
      'table inet bench {\n chain out {\n  type filter hook output priority 0;\n  icmp type time-exceeded drop\n }\n}\n');
  }

  unsilence(k) {
    spawnSync('ip', ['netns', 'exec', this.router(k), 'nft', 'delete', 'table', 'inet', 'bench']);
  }

  down() {
    spawnSync('ip', ['-force', '-batch', '-'], { input: this.names.map((n) => `netns del ${n}`).join('\n') + '\n' });
  }

  inSource(config) {
    const r = spawnSync('ip', ['netns', 'exec', this.source, process.execPath, self, '--child', JSON.stringify({ ...config, target: this.target })], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`benchmark child failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }
}

function ratio(a, b) {
  return `${(a / b).toFixed(2)}×`;
}

function ms(v) {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
}

async function parent() {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const runs = arg('--runs', 15);
  const mtrRuns = arg('--mtr-runs', 3);
  for (const tool of ['ip', 'nft', 'traceroute', 'mtr']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`needs ${tool}`);
  }
  const chain = new Chain();
  const cleanup = () => chain.down();
  process.on('exit', cleanup);
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));
  try {
    chain.up();
    console.log(`8-hop chain ${chain.names[0]} … ${chain.names.at(-1)}, target ${chain.target}; medians of ${runs} runs (reports: ${mtrRuns})\n`);
    const clean = chain.inSource({ part: 'trace', runs });
    chain.silence(3);
    const silent = chain.inSource({ part: 'trace', runs });
    chain.unsilence(3);
    console.log('(a) trace: netdiag in-process vs `traceroute -n` whole process (target ≤ 1.00×)');
    for (const [name, r] of [['clean', clean], ['silent hop 3', silent]]) {
      for (const method of ['UDP', 'ICMP']) {
        const m = r[method];
        console.log(`    ${(name + ', ' + method).padEnd(20)} netdiag ${ms(m.netdiag).padStart(9)}   traceroute ${ms(m.traceroute).padStart(9)}   ratio ${ratio(m.netdiag, m.traceroute)}` +
          `   (${m.hops} hops, reached ${m.reached}${m.silent.length ? `, silent ${m.silent.join(',')}` : ''})`);
      }
    }
    const report = chain.inSource({ part: 'report', runs: mtrRuns });
    const r = report.report;
    console.log('\n(b) 10-cycle report vs `mtr -r -n -c 10` (target ≤ 0.20×)');
    console.log(`    netdiag ${ms(r.netdiag)}   mtr ${ms(r.mtr)}   ratio ${ratio(r.netdiag, r.mtr)}   (netdiag's default interval is 0.25 s, mtr's 1 s)`);
    console.log(`    same 0.25 s interval: mtr -i 0.25 ${ms(r.mtrSameInterval)}   ratio ${ratio(r.netdiag, r.mtrSameInterval)}`);
    console.log(`    netdiag per hop (TTL sent loss% avg): ${r.hops.map((h) => `${h.ttl}:${h.sent}/${h.loss}%/${h.avg.toFixed(3)}`).join('  ')}`);
    console.log('    mtr:\n' + r.mtrText.trimEnd().split('\n').map((l) => `      ${l}`).join('\n'));
  } finally {
    chain.unsilence(3);
    cleanup();
  }
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
} else {
  parent().catch((e) => {
    process.stderr.write(`bench/traceroute: ${e.message}\n`);
    process.exitCode = 1;
  });
}
