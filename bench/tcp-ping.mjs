// netdiag's TCP ping side by side with hping3 and nping, on loopback only, in one run (issue 13):
//   (a) median loopback RTT of SYN probes to an open port: `netdiag ping --tcp=P --tcp-method syn`
//       vs `hping3 -S` (hping3 times in user space; netdiag from the send time taken in C to the
//       kernel's receive stamp)                                        target: <= 1.5x hping3
//   (b) 1,000 loopback targets x 1 SYN, whole process: netdiag -q -c 1 --file vs
//       `nping --tcp -c 1 --delay 0` over the same 1,000 addresses (a closed port: RSTs)
//                                                                      target: <= 0.5x nping
//   (c) connect-mode median RTT with the event loop blocked 5 ms every 10 ms: netdiag
//       (tcpi_rtt, the kernel's measurement) vs a net.connect timed in JavaScript (what
//       is-reachable and tcp-ping do), in the same busy process
// The open port is a listener in a child process on 127.0.0.1; nothing leaves loopback.
// Needs root (raw sockets), the compiled dist/ (npm run build), hping3 and nping (nmap).
// Usage: node bench/tcp-ping.mjs [runs]     (not a test: it reports, it does not fail)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, fmt, have, loadAverage, measure, median, ratio, root, seconds } from './lib/measure.mjs';

const RUNS = Number(process.argv[2] ?? 5);
const PROBES = 200;

const missing = [
  !existsSync(join(root, 'dist/ping/index.js')) && 'dist/ (run npm run build)',
  process.geteuid?.() !== 0 && 'root (raw sockets for SYN probes, hping3 and nping)',
  !have('hping3') && 'hping3 (apt-get install hping3)',
  !have('nping') && 'nping (apt-get install nmap)',
].filter(Boolean);
if (missing.length) {
  console.log(`bench/tcp-ping.mjs skipped: needs ${missing.join(', ')}`);
  process.exit(0);
}

/** A listener on 127.0.0.1 in a child process (accepts and closes); resolves with its port. */
function listener() {
  const script = `const s = require('node:net').createServer((c) => c.on('error', () => {}).destroy());
s.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

/** A port nothing listens on (taken from the kernel and given back). */
async function closedPort() {
  const { child, port } = await listener();
  child.kill();
  await new Promise((r) => child.once('exit', r));
  return port;
}

function synRtts(port) {
  const r = measure(process.execPath, [cli, 'ping', '--json', `--tcp=${port}`, '--tcp-method', 'syn', '-c', String(PROBES), '-i', '0.01', '127.0.0.1']);
  const doc = JSON.parse(r.stdout);
  const rtts = doc.targets[0].probes.filter((p) => p.state === 'open').map((p) => p.rtt);
  if (rtts.length !== PROBES) throw new Error(`netdiag --tcp got ${rtts.length} of ${PROBES} SYN-ACKs`);
  return rtts;
}

function hpingRtts(port) {
  const r = measure('hping3', ['-S', '-p', String(port), '-c', String(PROBES), '-i', 'u10000', '127.0.0.1']);
  const rtts = [...r.stdout.matchAll(/flags=SA .*rtt=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (rtts.length < PROBES * 0.9) throw new Error(`hping3 -S got ${rtts.length} of ${PROBES} SYN-ACKs:\n${r.stdout.slice(-300)}${r.stderr.slice(-300)}`);
  return rtts;
}

/** 127.0.0-3.1-250: the 1,000 addresses nping's range syntax and netdiag's --file both take. */
function thousandTargets(dir) {
  const hosts = [];
  for (let c = 0; c <= 3; c++) for (let d = 1; d <= 250; d++) hosts.push(`127.0.${c}.${d}`);
  const file = join(dir, 'targets.txt');
  writeFileSync(file, hosts.join('\n') + '\n');
  return { file, spec: '127.0.0-3.1-250', count: hosts.length };
}

function manySyn(port, targets) {
  const ours = measure(process.execPath, [cli, 'ping', `--tcp=${port}`, '--tcp-method', 'syn', '-q', '-c', '1', '--file', targets.file]);
  const answered = (ours.stdout.match(/xmt\/rcv\/%loss = 1\/1\//g) ?? []).length;
  const theirs = measure('nping', ['--tcp', '-p', String(port), '-c', '1', '--delay', '0', '-q', targets.spec]);
  const rcvd = /Raw packets sent: \d+ .*\| Rcvd: (\d+)/.exec(theirs.stdout);
  return { netdiag: ours.wall, nping: theirs.wall, answered: `${answered}/${rcvd ? rcvd[1] : '?'}` };
}

/** Median connect RTTs in one process whose event loop is blocked 5 ms every 10 ms: netdiag's, then a JS-timed net.connect. */
function busyConnect(port) {
  const script = `
    import { once } from 'node:events';
    import { connect } from 'node:net';
    import { setTimeout as sleep } from 'node:timers/promises';
    import { pingStream } from ${JSON.stringify(join(root, 'dist/ping/index.js'))};
    const blocker = setInterval(() => { const end = performance.now() + 5; while (performance.now() < end); }, 10);
    const run = pingStream('127.0.0.1', { method: 'tcp', port: ${port}, tcpMethod: 'connect', count: ${PROBES}, interval: 10, timeout: 2000 });
    const ours = [];
    for await (const e of run) if (e.type === 'reply' && e.reply.state === 'open') ours.push(e.reply.rtt);
    const js = [];
    for (let i = 0; i < ${PROBES}; i++) {
      const t0 = performance.now();
      const s = connect(${port}, '127.0.0.1');
      await once(s, 'connect');
      js.push(performance.now() - t0);
      s.destroy();
      await sleep(10);
    }
    clearInterval(blocker);
    process.stdout.write(JSON.stringify({ ours, js }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const out = JSON.parse(r.stdout);
  if (out.ours.length !== PROBES) throw new Error(`netdiag connect probes under a busy loop: ${out.ours.length} of ${PROBES} open`);
  return out;
}

async function main() {
  const { child, port } = await listener();
  const closed = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-tcp-'));
  try {
    const targets = thousandTargets(dir);
    const a = { netdiag: [], hping3: [] };
    const b = [];
    const c = { netdiag: [], js: [] };
    // warm-up (page cache, the listener's first accepts)
    synRtts(port);
    manySyn(closed, targets);
    for (let i = 0; i < RUNS; i++) {
      a.netdiag.push(median(synRtts(port)));
      a.hping3.push(median(hpingRtts(port)));
      b.push(manySyn(closed, targets));
    }
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const r = busyConnect(port);
      c.netdiag.push(median(r.ours));
      c.js.push(median(r.js));
    }
    console.log(`netdiag TCP ping benchmark — loopback, medians of ${RUNS} alternating runs (load average ${loadAverage()})\n`);
    const rtt = { ours: median(a.netdiag), theirs: median(a.hping3) };
    console.log(`(a) median RTT of ${PROBES} SYN probes to an open port on 127.0.0.1, 10 ms apart`);
    console.log(`    netdiag ping --tcp --tcp-method syn   ${fmt(rtt.ours, 4)} ms`);
    console.log(`    hping3 -S                             ${fmt(rtt.theirs, 4)} ms   (prints 0.1 ms steps)`);
    console.log(`    ratio ${ratio(rtt.ours, rtt.theirs)} (target <= 1.50×)`);
    const many = { ours: median(b.map((x) => x.netdiag)), theirs: median(b.map((x) => x.nping)) };
    console.log(`(b) ${targets.count.toLocaleString('en-US')} loopback targets x 1 SYN to a closed port, whole process`);
    console.log(`    netdiag ping --tcp -q -c 1 --file     ${seconds(many.ours)}`);
    console.log(`    nping --tcp -c 1 --delay 0            ${seconds(many.theirs)}`);
    console.log(`    ratio ${ratio(many.ours, many.theirs)} (target <= 0.50×); answered netdiag/nping per run: ${b.map((x) => x.answered).join(' ')}`);
    const con = { ours: median(c.netdiag), js: median(c.js) };
    console.log(`(c) connect-mode median RTT, event loop blocked 5 ms every 10 ms, ${PROBES} probes 10 ms apart`);
    console.log(`    netdiag --tcp-method connect (tcpi_rtt)  ${fmt(con.ours, 4)} ms`);
    console.log(`    net.connect timed in JavaScript          ${fmt(con.js, 4)} ms`);
    console.log(`    the JavaScript timing reads ${fmt(con.js / con.ours, 0)}× netdiag's (it counts the event loop's delays as network time)`);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench/tcp-ping: ${e.message}`);
  process.exitCode = 1;
}
