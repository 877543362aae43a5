#!/usr/bin/env node
// netdiag serve beside prometheus-smokeping-prober (Debian's smokeping_prober), one after the
// other in one run: the same 1,000 and 10,000 loopback targets (127.1.0.0/...) probed once a
// second for --duration seconds (default 30). Per process: CPU seconds over the window (start-up
// excluded), peak RSS (VmHWM), /metrics scrape latency (Prometheus's request headers, one scrape
// every 5 s, median and 95th percentile, and the encoding each prober chose: both are asked for
// gzip as Prometheus asks), and loss (netdiag: its timeout counter; smokeping_prober: requests
// minus responses, less those still in flight). Targets: CPU <= 1.0x, RSS <= 1.5x, /metrics at
// 10,000 targets <= 100 ms. Needs root (or CAP_NET_RAW) and the Debian package.
//
//   node bench/serve.mjs [--duration 30] [--targets 1000,10000] [--quick] [--cli PATH] [--netdiag-only]   (--quick: 10 s, 1,000)
//   npm run bench -- serve --duration=10 --targets=1000
// smokeping_prober runs --privileged (raw sockets; Debian's 0.6.1 mismatches the identifiers of
// ping-socket replies), netdiag serve with its default (raw as root).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, have } from './lib/measure.mjs';

const args = process.argv.slice(2);
// --duration 30 or --duration=30 (npm run bench passes only arguments that start with -)
const opt = (name, dflt) => {
  const eq = args.find((a) => a.startsWith(`${name}=`));
  if (eq) return eq.slice(name.length + 1);
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
// --cli PATH: another build's bin/netdiag.js (a copy of an earlier tree, to compare in one run)
const netdiagCli = opt('--cli', cli);
// --netdiag-only: skip smokeping_prober (comparing two netdiag builds, run after run)
const netdiagOnly = args.includes('--netdiag-only');
const duration = Number(opt('--duration', quick ? '10' : '30'));
const sizes = opt('--targets', quick ? '1000' : '1000,10000').split(',').map(Number);
if (!(duration > 0) || sizes.some((n) => !(n > 0 && n <= 65000))) {
  console.error('bench/serve: --duration SECONDS and --targets N[,N] (at most 65000) please');
  process.exit(2);
}
const SMOKEPING = 'prometheus-smokeping-prober';
if (!netdiagOnly && !have(SMOKEPING)) {
  console.log(`bench/serve: skipped (${SMOKEPING} is not installed: apt-get install ${SMOKEPING})`);
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.log('bench/serve: skipped (needs root: smokeping_prober runs privileged, raw sockets)');
  process.exit(0);
}

// Everything runs inside a network namespace of its own (only lo, up): the probes' replies stay
// out of other raw sockets on the host, and the host's traffic out of the probers' sockets.
if (!args.includes('--inside')) {
  const { spawnSync } = await import('node:child_process');
  const ns = `ndserve${process.pid}`;
  const ip = (...a) => spawnSync('ip', a, { stdio: 'inherit' }).status === 0;
  if (!ip('netns', 'add', ns)) {
    console.log('bench/serve: skipped (ip netns add failed)');
    process.exit(0);
  }
  let status = 1;
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, new URL(import.meta.url).pathname, ...args, '--inside'], { stdio: 'inherit' });
    status = r.status ?? 1;
  } finally {
    ip('netns', 'del', ns);
  }
  process.exit(status);
}

const TICK = 100; // USER_HZ
const PROM_HEADERS = {
  Accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  'Accept-Encoding': 'gzip',
  'X-Prometheus-Scrape-Timeout-Seconds': '10',
};
const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-serve-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  for (const c of children) c.kill('SIGKILL');
  process.exit(130);
});

/** n loopback addresses from 127.1.0.1 on (no .0 or .255, which read like network and broadcast). */
function hostsOf(n) {
  const out = [];
  for (let i = 1; out.length < n; i++) {
    if ((i & 255) === 0 || (i & 255) === 255) continue;
    out.push(`127.1.${(i >> 8) & 255}.${i & 255}`);
  }
  return out;
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

function peakRssMiB(pid) {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function scrape(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: PROM_HEADERS, timeout: 120_000 }, (res) => {
      let bytes = 0;
      const parts = [];
      res.on('data', (d) => {
        bytes += d.length;
        parts.push(d);
      });
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes, body: Buffer.concat(parts), encoding: res.headers['content-encoding'] ?? 'identity', status: res.statusCode }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('scrape timed out after 120 s')));
    req.end();
  });
}

async function pageText(port) {
  const r = await scrape(port);
  if (r.encoding === 'gzip') {
    const { gunzipSync } = await import('node:zlib');
    return gunzipSync(r.body).toString();
  }
  return r.body.toString();
}

function sum(page, name) {
  let total = 0;
  for (const line of page.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(port, child, ms = 180_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    try {
      const r = await scrape(port);
      if (r.status === 200) return;
    } catch {}
    await sleep(200);
  }
  throw new Error('not ready in time');
}

async function freePort() {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts one prober, waits out its start-up, and measures the window. */
async function runOne(name, command, argv, port, n, lossOf) {
  const child = spawn('sh', ['-c', 'ulimit -n 200000 2>/dev/null || ulimit -n 65536; exec "$@"', 'sh', command, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => void (stderr = (stderr + d).slice(-4000)));
  try {
    await waitReady(port, child);
    // start-up over and every target probed a few times
    await sleep(5000);
    const cpu0 = cpuSeconds(child.pid);
    const t0 = performance.now();
    // a scrape every 5 s, never two at once; the window ends on time even when scrapes are slow
    const latencies = [];
    let bytes = 0;
    let encoding = '';
    let pending = null;
    const timer = setInterval(() => {
      if (pending) return;
      pending = scrape(port).then((r) => {
        latencies.push(r.ms);
        bytes = r.bytes;
        encoding = r.encoding;
      }, () => {}).finally(() => (pending = null));
    }, 5000);
    await sleep(duration * 1000);
    clearInterval(timer);
    const cpu = cpuSeconds(child.pid) - cpu0;
    const window = (performance.now() - t0) / 1000;
    const rss = peakRssMiB(child.pid);
    if (pending) await pending;
    const page = await pageText(port);
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return { name, cpu, window, rss, p50: at(0.5), p95: at(0.95), bytes, encoding, ...lossOf(page, n) };
  } catch (e) {
    throw new Error(`${name}: ${e.message}\n${stderr}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    children.delete(child);
  }
}

const rows = [];
for (const n of sizes) {
  const hosts = hostsOf(n);
  const cfg = join(dir, `targets-${n}.yml`);
  writeFileSync(cfg, `targets:\n  - hosts:\n${hosts.map((h) => `      - ${h}\n`).join('')}    interval: 1s\n`);
  const nPort = await freePort();
  const netdiag = await runOne('netdiag serve', process.execPath, [netdiagCli, 'serve', '--listen', `127.0.0.1:${nPort}`, '--config', cfg], nPort, n, (page) => {
    const sent = sum(page, 'netdiag_probes_sent_total');
    const replies = sum(page, 'netdiag_probe_replies_total');
    return { sent, replies, lost: sum(page, 'netdiag_probe_timeouts_total') };
  });
  const sPort = await freePort();
  const smoke = netdiagOnly ? { name: 'smokeping_prober', error: 'not run (--netdiag-only)' } : await runOne('smokeping_prober', SMOKEPING, ['--privileged', `--config.file=${cfg}`, `--web.listen-address=127.0.0.1:${sPort}`, '--log.level=warn'], sPort, n, (page) => {
    const sent = sum(page, 'smokeping_requests_total');
    const replies = sum(page, 'smokeping_response_duration_seconds_count');
    // at the instant of the scrape up to one probe per target may still be out (loopback answers in µs)
    return { sent, replies, lost: Math.max(0, sent - replies - n) };
  }).catch((e) => ({ name: 'smokeping_prober', error: e.message.split('\n')[0] }));
  rows.push({ n, netdiag, smoke });
}

const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
console.log(`netdiag serve vs prometheus-smokeping-prober: loopback targets, 1 probe/s each, ${duration} s window (after 5 s warm-up)`);
console.log('targets  prober             CPU s   CPU %   peak RSS MiB  /metrics p50 ms  p95 ms   KiB sent (encoding)  sent      replies   lost');
for (const { n, netdiag, smoke } of rows) {
  for (const r of [netdiag, smoke]) {
    if (r.error) {
      console.log(`${String(n).padEnd(8)} ${r.name.padEnd(18)} did not finish: ${r.error}`);
      continue;
    }
    console.log(`${String(n).padEnd(8)} ${r.name.padEnd(18)} ${f(r.cpu).padStart(6)}  ${f((100 * r.cpu) / r.window, 1).padStart(6)}  ${f(r.rss, 1).padStart(12)}  ${f(r.p50, 1).padStart(15)}  ${f(r.p95, 1).padStart(6)}  ${`${f(r.bytes / 1024, 0)} (${r.encoding})`.padStart(20)}  ${String(r.sent).padEnd(9)} ${String(r.replies).padEnd(9)} ${r.lost}`);
  }
  if (smoke.error) continue;
  const cpuRatio = netdiag.cpu / smoke.cpu;
  const rssRatio = netdiag.rss / smoke.rss;
  console.log(`${String(n).padEnd(8)} ratio netdiag/smokeping: CPU ${f(cpuRatio)}x (target <= 1.0), RSS ${f(rssRatio)}x (target <= 1.5)` +
    (n >= 10000 ? `, /metrics p50 ${f(netdiag.p50, 1)} ms, p95 ${f(netdiag.p95, 1)} ms (target <= 100)` : '') +
    `, loss netdiag ${netdiag.lost} / smokeping ${smoke.lost}`);
}
