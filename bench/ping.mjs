// netdiag ping side by side with fping and iputils ping, on loopback, in one run. Prints medians
// of several alternating runs and the ratios the project targets:
//   (a) 10,000 loopback targets x 1 probe, no pacing: netdiag CLI vs `fping -i 0`, whole process
//       wall and CPU, plus netdiag's in-process time            target: wall <= 1.0x fping
//   (b) 100,000-probe flood of 127.0.0.1: netdiag -f vs `ping -f`, probes per second
//                                                                target: >= 1.0x iputils
//   (c) median loopback RTT while the event loop runs a 5 ms blocking task every 10 ms, vs
//       iputils ping on an idle machine                         target: <= 2x iputils
// Two reference lines help read (a) and (b): the wall time of `node -e 0` (Node's own start-up,
// part of every netdiag CLI run), and the rate of a bare loop that sends one echo and reads its
// reply with one native call per probe and no engine at all (what JavaScript driving the
// probes one at a time can reach at best).
// Needs root (raw sockets), the compiled dist/ (npm run build), fping and iputils ping.
// Usage: node bench/ping.mjs [runs]     (not a test: it reports, it does not fail)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin/netdiag.js');
const RUNS = Number(process.argv[2] ?? 7);
const FLOOD = 100_000;

function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

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

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const scratch = mkdtempSync(join(tmpdir(), 'netdiag-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** Runs a command; wall from spawn to exit, CPU (user+sys) from /usr/bin/time when present. */
function measure(cmd, args) {
  const timeFile = join(scratch, 'time');
  const argv = timeBin ? [timeBin, '-f', '%U %S', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  let cpu = null;
  if (timeBin) {
    const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(/\s+/).map(Number);
    cpu = u + s;
  }
  return { wall, cpu, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, digits = 3) => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

function check(label, r, ok) {
  if (!ok) {
    console.error(`${label} did not do what it should (exit ${r.status}):\n${(r.stdout ?? '').slice(-400)}${(r.stderr ?? '').slice(-400)}`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
// (a) 10,000 targets

function inProcessMany() {
  const script = `
    import { pingMany } from ${JSON.stringify(join(root, 'dist/ping/index.js'))};
    const targets = [];
    for (let i = 1; i <= 10000; i++) targets.push('127.0.' + ((i >> 8) & 255) + '.' + (i & 255));
    const t0 = performance.now();
    const doc = await pingMany(targets, { probes: false });
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ ms, answered: doc.targets.filter((t) => t.received === 1).length }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(r.stdout);
}

const many = { netdiag: [], fping: [], inproc: [], node: [] };
for (let i = 0; i < RUNS; i++) {
  const ours = measure(process.execPath, [cli, 'ping', '-q', '-g', '127.0.0.1', '127.0.39.16']);
  check('netdiag ping -q -g (10,000 targets)', ours, ours.status === 0 && (ours.stdout.match(/xmt\/rcv\/%loss = 1\/1\/0%/g) ?? []).length === 10_000);
  const theirs = measure('fping', ['-q', '-c1', '-i', '0', '-g', '127.0.0.1', '127.0.39.16']);
  check('fping -q -c1 -i 0 -g (10,000 targets)', theirs, theirs.status === 0);
  const inproc = inProcessMany();
  check('pingMany (10,000 targets)', { status: 0, stdout: JSON.stringify(inproc) }, inproc.answered === 10_000);
  many.netdiag.push(ours);
  many.fping.push(theirs);
  many.inproc.push(inproc.ms / 1000);
  many.node.push(measure(process.execPath, ['-e', '0']).wall);
}

// ---------------------------------------------------------------------------------------------
// (b) flood

/** probes/s from the tool's own "time Xms" (first to last probe) and from the whole process. */
function floodRate(r) {
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(r.stdout);
  return { own: m ? Number(m[1]) / (Math.max(1, Number(m[3])) / 1000) : NaN, whole: FLOOD / r.wall, received: m ? Number(m[2]) : 0 };
}

/** probes/s of a bare loop: one echo out and its reply read per native call, no engine. */
function bareLoopRate() {
  const script = `
    import { IcmpSocket } from ${JSON.stringify(join(root, 'dist/icmp/icmp-socket.js'))};
    import { SendBatch } from ${JSON.stringify(join(root, 'dist/icmp/send-batch.js'))};
    import { EchoTemplate } from ${JSON.stringify(join(root, 'dist/ping/echo-template.js'))};
    import { PayloadLayout } from ${JSON.stringify(join(root, 'dist/ping/payload.js'))};
    const s = new IcmpSocket({ family: 4, mode: 'raw', receiveBuffer: 4 << 20 });
    const echo = new EchoTemplate(4, s.identifier, new PayloadLayout(56, null));
    const b = new SendBatch(1, 64);
    const dest = Buffer.from([127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let got = 0;
    const take = () => void got++;
    const t0 = performance.now();
    for (let i = 1; i <= ${FLOOD}; i++) {
      b.clear();
      b.push(echo.write(b.data, 0, i), 4, dest, 0);
      s.sendAndReceive(b);
      s.read(false, take);
    }
    const ms = performance.now() - t0;
    s.close();
    process.stdout.write(JSON.stringify({ rate: ${FLOOD} / (ms / 1000), got }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout).rate;
  } catch {
    return NaN;
  }
}

const flood = { netdiag: [], iputils: [], bare: [] };
for (let i = 0; i < RUNS; i++) {
  const ours = measure(process.execPath, [cli, 'ping', '-q', '-f', '-c', String(FLOOD), '127.0.0.1']);
  const theirs = measure('ping', ['-q', '-f', '-c', String(FLOOD), '127.0.0.1']);
  const a = floodRate(ours), b = floodRate(theirs);
  check('netdiag ping -f', ours, ours.status === 0 && a.received === FLOOD);
  check('ping -f', theirs, theirs.status === 0 && b.received === FLOOD);
  flood.netdiag.push({ ...ours, ...a });
  flood.iputils.push({ ...theirs, ...b });
  flood.bare.push(bareLoopRate());
}

// ---------------------------------------------------------------------------------------------
// (c) RTT under a busy event loop vs iputils idle

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

const rtt = { netdiag: [], iputils: [] };
for (let i = 0; i < Math.min(RUNS, 5); i++) {
  const ours = busyLoopRtts();
  check('pingStream under a busy loop', { status: 0, stdout: '' }, ours.length === 200);
  const theirs = measure('ping', ['-c', '200', '-i', '0.01', '127.0.0.1']);
  const times = [...theirs.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  check('ping -c 200 -i 0.01', theirs, times.length === 200);
  rtt.netdiag.push(median(ours));
  rtt.iputils.push(median(times));
}

// ---------------------------------------------------------------------------------------------

const mWall = (rs) => median(rs.map((r) => r.wall));
const mCpu = (rs) => (rs.every((r) => r.cpu !== null) ? median(rs.map((r) => r.cpu)) : null);
const a = { ours: mWall(many.netdiag), theirs: mWall(many.fping), oursCpu: mCpu(many.netdiag), theirsCpu: mCpu(many.fping), inproc: median(many.inproc), node: median(many.node) };
const b = {
  oursOwn: median(flood.netdiag.map((r) => r.own)), theirsOwn: median(flood.iputils.map((r) => r.own)),
  oursWhole: median(flood.netdiag.map((r) => r.whole)), theirsWhole: median(flood.iputils.map((r) => r.whole)),
  oursCpu: mCpu(flood.netdiag), theirsCpu: mCpu(flood.iputils), bare: median(flood.bare),
};
const c = { ours: median(rtt.netdiag), theirs: median(rtt.iputils) };

const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`netdiag ping benchmark — medians of ${RUNS} alternating runs (load average ${loadavg})\n`);
console.log('(a) 10,000 loopback targets x 1 probe, no pacing');
console.log(`    netdiag CLI   wall ${fmt(a.ours)} s  cpu ${fmt(a.oursCpu, 2)} s   (in-process pingMany: ${fmt(a.inproc)} s)`);
console.log(`    fping -i 0    wall ${fmt(a.theirs)} s  cpu ${fmt(a.theirsCpu, 2)} s`);
console.log(`    ratio wall ${fmt(a.ours / a.theirs, 2)}x (target <= 1.0x), cpu ${a.oursCpu !== null && a.theirsCpu ? fmt(a.oursCpu / a.theirsCpu, 2) : 'n/a'}x, in-process vs fping wall ${fmt(a.inproc / a.theirs, 2)}x`);
console.log(`    reference: node -e 0 alone takes ${fmt(a.node)} s wall`);
console.log('(b) flood of 127.0.0.1, 100,000 probes');
console.log(`    netdiag -f    ${fmt(b.oursOwn / 1000, 1)}k probes/s by its own time, ${fmt(b.oursWhole / 1000, 1)}k/s whole process, cpu ${fmt(b.oursCpu, 2)} s`);
console.log(`    ping -f       ${fmt(b.theirsOwn / 1000, 1)}k probes/s by its own time, ${fmt(b.theirsWhole / 1000, 1)}k/s whole process, cpu ${fmt(b.theirsCpu, 2)} s`);
console.log(`    ratio ${fmt(b.oursOwn / b.theirsOwn, 2)}x by own time, ${fmt(b.oursWhole / b.theirsWhole, 2)}x whole process (target >= 1.0x)`);
console.log(`    reference: a bare JS loop, one native send+read per probe, no engine: ${fmt(b.bare / 1000, 1)}k/s (${fmt(b.bare / b.theirsOwn, 2)}x ping -f)`);
console.log('(c) median loopback RTT');
console.log(`    netdiag, event loop blocked 5 ms every 10 ms   ${fmt(c.ours, 4)} ms`);
console.log(`    iputils ping, idle                            ${fmt(c.theirs, 4)} ms`);
console.log(`    ratio ${fmt(c.ours / c.theirs, 2)}x (target <= 2x)`);
