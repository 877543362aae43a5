#!/usr/bin/env node
// Seqpacket IPC side by side, in one run: a C socketpair baseline (bench/seqpacket-baseline.c,
// compiled here with gcc into a temp dir), netdiag (from dist/) in its two receive modes, and
// Node's `net` over a Unix stream socket with 4-byte length-prefix framing. Two processes
// each, as IPC is used.
//   netdiag          'message' events: every message is a Buffer of its own (fresh memory)
//   netdiag onread   the onread option: messages in one reused buffer, like the C baseline's
//                    (and like net.Socket's onread)
//
//   node bench/seqpacket.mjs            (BENCH_RUNS=5 runs, BENCH_SCALE=1 message counts;
//                                        BENCH_ONLY=oneway64,oneway64k,pingpong64 and
//                                        BENCH_IMPLS=c,netdiag,netdiag-onread,net pick a subset)
//
// Figures: 64 B one-way messages/s, 64 KiB one-way MB/s, 64 B request/response round
// trips/s; the median of the runs, the implementations interleaved so that load from other
// processes hits them alike. A second table gives the CPU time (user + system, both
// processes) per message: it shows the cost of each implementation even when other work on
// the machine makes wall-clock rates jump. Not a test: it prints tables and the ratios to
// the targets.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distIndex = join(root, 'dist', 'seqpacket', 'index.js');
const self = fileURLToPath(import.meta.url);

const scale = Number(process.env.BENCH_SCALE ?? 1);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const only = process.env.BENCH_ONLY?.split(',');
const onlyImpls = process.env.BENCH_IMPLS?.split(',');
const allScenarios = [
  { key: 'oneway64', mode: 'oneway', size: 64, count: Math.round(1_000_000 * scale), unit: 'msgs/s' },
  { key: 'oneway64k', mode: 'oneway', size: 65536, count: Math.round(50_000 * scale), unit: 'MB/s' },
  { key: 'pingpong64', mode: 'pingpong', size: 64, count: Math.round(50_000 * scale), unit: 'round trips/s' },
];
const scenarios = allScenarios.filter((s) => only === undefined || only.includes(s.key));
const WARMUP_ROUND_TRIPS = 1000;

function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}

async function loadNetdiag() {
  if (!existsSync(distIndex)) {
    console.error(`bench/seqpacket: ${distIndex} is missing (build it: npx tsc -p tsconfig.build.json)`);
    process.exit(2);
  }
  return import(pathToFileURL(distIndex).href);
}

// ---- child side ---------------------------------------------------------------------------

/** The child reports its CPU time from here on as its last stdout line: `cpu <micros>`. */
function reportCpuAtExit() {
  const start = process.cpuUsage();
  process.on('exit', () => {
    const u = process.cpuUsage(start);
    process.stdout.write(`cpu ${u.user + u.system}\n`);
  });
}

/** netdiag sender/echoer on the socketpair end inherited as fd 3. */
async function childNetdiag(mode, size, count, variant) {
  const { seqpacketFromFd } = await loadNetdiag();
  const echo = function (data) {
    this.send(data);
  };
  const sock = seqpacketFromFd(3, variant === 'onread' && mode === 'pingpong' ? { onread: { callback: echo } } : {});
  reportCpuAtExit();
  sock.on('error', (e) => {
    console.error(`netdiag child: ${e.message}`);
    process.exit(1);
  });
  if (mode === 'pingpong') {
    if (variant !== 'onread') sock.on('message', (data) => sock.send(data));
    sock.on('end', () => sock.destroy());
    return;
  }
  const buf = Buffer.alloc(size, 7);
  let sent = 0;
  const pump = () => {
    while (sent < count) {
      sent++;
      if (!sock.send(buf)) {
        sock.once('drain', pump);
        return;
      }
    }
    sock.end();
  };
  sock.on('message', () => {});
  pump();
}

function frame(payload) {
  const f = Buffer.allocUnsafe(4 + payload.length);
  f.writeUInt32LE(payload.length, 0);
  payload.copy(f, 4);
  return f;
}

/** The usual length-prefix deframer over a byte stream. */
function deframer(onMessage) {
  let rest = null;
  return (chunk) => {
    if (rest !== null) {
      chunk = Buffer.concat([rest, chunk]);
      rest = null;
    }
    let off = 0;
    while (chunk.length - off >= 4) {
      const len = chunk.readUInt32LE(off);
      if (chunk.length - off - 4 < len) break;
      onMessage(chunk.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (off < chunk.length) rest = chunk.subarray(off);
  };
}

/** Node net sender/echoer connecting to the parent's unix stream server. */
function childNet(mode, size, count, path) {
  const sock = net.connect(path);
  reportCpuAtExit();
  sock.on('error', (e) => {
    console.error(`net child: ${e.message}`);
    process.exit(1);
  });
  if (mode === 'pingpong') {
    sock.on('data', deframer((m) => sock.write(frame(m))));
    sock.on('end', () => sock.end());
    return;
  }
  const f = frame(Buffer.alloc(size, 7));
  let sent = 0;
  const pump = () => {
    while (sent < count) {
      sent++;
      if (!sock.write(f)) {
        sock.once('drain', pump);
        return;
      }
    }
    sock.end();
  };
  sock.on('connect', pump);
  sock.resume();
}

// ---- parent side --------------------------------------------------------------------------

function startChild(args, extraFd) {
  const stdio = ['ignore', 'pipe', 'inherit'];
  if (extraFd !== undefined) stdio.push(extraFd);
  const child = spawn(process.execPath, [self, '--child', ...args], { stdio });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve, reject) =>
    child.on('close', (code, signal) => {
      const m = /^cpu (\d+)$/m.exec(out);
      if (code !== 0 || m === null) reject(new Error(`child ${args.join(' ')} failed (${code ?? signal})`));
      else resolve({ cpuMicros: Number(m[1]) });
    }),
  );
  return { child, exited };
}

/** Receives (one-way) or drives (ping-pong) with `send`/`onMessage`; resolves the figure. */
function measure(mode, size, count, send, setOnMessage) {
  return new Promise((resolve, reject) => {
    let got = 0;
    let t0 = 0;
    let cpu0 = process.cpuUsage();
    const payload = Buffer.alloc(size, 1);
    const finish = (measured) => {
      const s = now() - t0;
      const cpu = process.cpuUsage(cpu0);
      resolve({ seconds: s, perSecond: measured / s, mbPerSecond: (measured * size) / s / 1e6, parentCpuMicros: cpu.user + cpu.system });
    };
    if (mode === 'oneway') {
      setOnMessage((m) => {
        if (m.length !== size) reject(new Error(`message of ${m.length} bytes, expected ${size}`));
        if (++got === 1) {
          t0 = now();
          cpu0 = process.cpuUsage();
        }
        if (got === count) finish(count - 1);
      });
    } else {
      const total = count + WARMUP_ROUND_TRIPS;
      setOnMessage(() => {
        if (++got === WARMUP_ROUND_TRIPS) {
          t0 = now();
          cpu0 = process.cpuUsage();
        }
        if (got === total) {
          finish(count);
          return;
        }
        send(payload);
      });
      send(payload);
    }
  });
}

async function runNetdiag(mode, size, count, variant) {
  const { seqpacketPair } = await loadNetdiag();
  let onMessage = () => {};
  const options = variant === 'onread' ? { onread: { callback: (d) => void onMessage(d) } } : {};
  const [mine, theirs] = seqpacketPair(options);
  const { exited } = startChild(['netdiag', mode, String(size), String(count), variant], theirs.fileDescriptor);
  theirs.destroy();
  if (variant !== 'onread') mine.on('message', (d) => onMessage(d));
  mine.on('error', (e) => console.error(`netdiag parent: ${e.message}`));
  const figure = await measure(mode, size, count, (p) => mine.send(p), (f) => (onMessage = f));
  mine.end();
  await new Promise((r) => (mine.destroyed ? r() : mine.once('close', r)));
  const { cpuMicros } = await exited;
  return { ...figure, cpuMicrosPerMessage: (figure.parentCpuMicros + cpuMicros) / count };
}

async function runNet(mode, size, count, dir) {
  const path = join(dir, `net-${mode}-${size}.sock`);
  rmSync(path, { force: true });
  const server = net.createServer();
  await new Promise((r) => server.listen(path, r));
  const accepted = new Promise((r) => server.once('connection', r));
  const { exited } = startChild(['net', mode, String(size), String(count), path]);
  const sock = await accepted;
  let onMessage = () => {};
  sock.on('data', deframer((m) => onMessage(m)));
  sock.on('error', (e) => console.error(`net parent: ${e.message}`));
  const figure = await measure(mode, size, count, (p) => sock.write(frame(p)), (f) => (onMessage = f));
  sock.end();
  const { cpuMicros } = await exited;
  sock.destroy();
  await new Promise((r) => server.close(r));
  return { ...figure, cpuMicrosPerMessage: (figure.parentCpuMicros + cpuMicros) / count };
}

function runC(binary, mode, size, count) {
  const r = spawnSync(binary, [mode, String(size), String(count)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`C baseline failed: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout);
}

function printTable(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(n) {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

async function main() {
  await loadNetdiag();
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-'));
  try {
    const binary = join(dir, 'seqpacket-baseline');
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-o', binary, join(root, 'bench', 'seqpacket-baseline.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed (is gcc installed?): ${cc.stderr || cc.error?.message}`);

    const impls = {
      c: (s) => runC(binary, s.mode, s.size, s.count),
      netdiag: (s) => runNetdiag(s.mode, s.size, s.count, 'default'),
      'netdiag-onread': (s) => runNetdiag(s.mode, s.size, s.count, 'onread'),
      net: (s) => runNet(s.mode, s.size, s.count, dir),
    };
    const results = {};
    const cpu = {};
    for (let run = 1; run <= runs; run++) {
      for (const s of scenarios) {
        for (const [name, fn] of Object.entries(impls)) {
          if (onlyImpls !== undefined && !onlyImpls.includes(name)) continue;
          const r = await fn(s);
          const v = s.unit === 'MB/s' ? r.mbPerSecond : r.perSecond;
          ((results[s.key] ??= {})[name] ??= []).push(v);
          ((cpu[s.key] ??= {})[name] ??= []).push(r.cpuMicrosPerMessage);
          process.stderr.write(`run ${run}/${runs} ${s.key.padEnd(11)} ${name.padEnd(15)} ${fmt(v)} ${s.unit}, ${r.cpuMicrosPerMessage.toFixed(2)} us CPU per message\n`);
        }
      }
    }

    if (only !== undefined || onlyImpls !== undefined) return; // a subset: the lines above are the result
    const med = (k, n) => median(results[k][n]);
    const rows = scenarios.map((s) => [
      `${s.mode === 'oneway' ? 'one-way' : 'request/response'} ${s.size === 64 ? '64 B' : '64 KiB'} (${s.unit})`,
      fmt(med(s.key, 'c')),
      fmt(med(s.key, 'netdiag')),
      fmt(med(s.key, 'netdiag-onread')),
      fmt(med(s.key, 'net')),
      (med(s.key, 'netdiag') / med(s.key, 'c')).toFixed(2),
      (med(s.key, 'netdiag-onread') / med(s.key, 'c')).toFixed(2),
      (med(s.key, 'netdiag') / med(s.key, 'net')).toFixed(2),
      (med(s.key, 'netdiag-onread') / med(s.key, 'net')).toFixed(2),
    ]);
    const head = ['figure (median of ' + runs + ')', 'C socketpair', 'netdiag', 'nd onread', 'node net', 'nd/C', 'onread/C', 'nd/net', 'onread/net'];
    printTable(head, rows);
    console.log('');
    const cmed = (k, n) => median(cpu[k][n]);
    const cpuRows = scenarios.map((s) => [
      `${s.mode === 'oneway' ? 'one-way' : 'request/response'} ${s.size === 64 ? '64 B' : '64 KiB'}`,
      ...['c', 'netdiag', 'netdiag-onread', 'net'].map((n) => cmed(s.key, n).toFixed(2)),
      (cmed(s.key, 'c') / cmed(s.key, 'netdiag')).toFixed(2),
      (cmed(s.key, 'c') / cmed(s.key, 'netdiag-onread')).toFixed(2),
      (cmed(s.key, 'net') / cmed(s.key, 'netdiag')).toFixed(2),
    ]);
    printTable(['CPU us per message, both processes', 'C', 'netdiag', 'nd onread', 'node net', 'C/nd', 'C/onread', 'net/nd'], cpuRows);
    const targets = [
      ['64 B one-way vs C', 'oneway64', 'c', 0.85],
      ['64 KiB one-way vs C', 'oneway64k', 'c', 0.8],
      ['64 B round trips vs net', 'pingpong64', 'net', 1.0],
    ];
    console.log('');
    for (const [name, key, base, target] of targets) {
      const cells = ['netdiag', 'netdiag-onread'].map((impl) => {
        const ratio = med(key, impl) / med(key, base);
        return `${impl === 'netdiag' ? 'netdiag' : 'onread'} ${ratio.toFixed(2)} (${ratio >= target ? 'met' : 'NOT met'})`;
      });
      console.log(`${name.padEnd(24)} target >= ${target.toFixed(2)}: ${cells.join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [impl, mode, size, count, extra] = process.argv.slice(3);
  if (impl === 'netdiag') await childNetdiag(mode, Number(size), Number(count), extra);
  else childNet(mode, Number(size), Number(count), extra);
} else {
  await main();
}
