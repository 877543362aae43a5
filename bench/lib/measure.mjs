// Shared by the benchmarks: whole-process timing of a command (what a user feels, from spawn to
// exit), medians, alternation of the sides so load from other processes hits them alike, and
// the number formats of the printed tables.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The command users run; whatever dist/ holds behind it (modules or a bundle), it is this file. */
export const cli = join(root, 'bin/netdiag.js');

export function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * The measured commands' environment. NODE_EXTRA_CA_CERTS is left out unless --keep-ca-certs:
 * Node parses that bundle at every start (45–80 ms on a machine that sets it, `node -e 0`
 * included) though netdiag makes no TLS connection, and users' machines rarely set it; the C
 * tools never pay it. bench/sockets.mjs does the same.
 */
const keepCaCerts = process.argv.includes('--keep-ca-certs');
const commandEnv = { ...process.env };
if (!keepCaCerts && commandEnv.NODE_EXTRA_CA_CERTS !== undefined) {
  delete commandEnv.NODE_EXTRA_CA_CERTS;
  // said once per benchmark, not by its timing children
  if (!process.argv[1]?.endsWith('time-commands.mjs')) process.stderr.write('bench: NODE_EXTRA_CA_CERTS is left out of the measured commands (Node parses it at every start; --keep-ca-certs keeps it)\n');
}
let scratch = null;
function scratchDir() {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), 'netdiag-bench-'));
    process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  }
  return scratch;
}

/**
 * A signal that killed a child without our timeout was sent to the whole process group (Ctrl-C,
 * a CI timeout): stop here, so exit handlers remove what the benchmark built. While a spawnSync
 * runs, our own signal handlers cannot, so this is where the signal is noticed.
 */
export function exitIfInterrupted(r) {
  if (['SIGINT', 'SIGTERM', 'SIGHUP'].includes(r.signal) && r.error?.code !== 'ETIMEDOUT') {
    process.stderr.write(`bench: interrupted (${r.signal})\n`);
    process.exit(130);
  }
}

/**
 * Runs a command to its end. wall: seconds from spawn to exit. cpu: user+system seconds from
 * /usr/bin/time when asked for and present (it adds its own fork+exec to wall, on both sides).
 * A command that outlives timeoutMs is killed and reported with status null.
 */
export function measure(cmd, args, { cpu = false, timeoutMs = 60_000 } = {}) {
  const timeFile = cpu && timeBin ? join(scratchDir(), 'time') : null;
  const argv = timeFile ? [timeBin, '-f', '%U %S', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20, timeout: timeoutMs, env: commandEnv });
  const wall = (performance.now() - t0) / 1000;
  exitIfInterrupted(r);
  let used = null;
  if (timeFile && r.status !== null) {
    const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(/\s+/).map(Number);
    used = u + s;
  }
  return { wall, cpu: used, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Runs every side once as a warm-up (page cache, neighbour tables; warmup: false skips it for
 * sides that take seconds), then `runs` rounds of all sides one after the other.
 * sides: { label: () => result }. Returns { label: [result...] }.
 */
export function alternate(runs, sides, { warmup = true } = {}) {
  const out = {};
  for (const [label, run] of Object.entries(sides)) {
    if (warmup) run();
    out[label] = [];
  }
  for (let i = 0; i < runs; i++) for (const [label, run] of Object.entries(sides)) out[label].push(run());
  return out;
}

export function median(xs) {
  const s = xs.filter((x) => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const medianOf = (results, key) => median(results.map((r) => r[key]));

export function fmt(x, digits = 3) {
  return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits);
}

/** Seconds as ms below one second, else s. */
export function seconds(s) {
  if (s === null || Number.isNaN(s)) return 'n/a';
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`;
}

export function ratio(a, b) {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a';
}

export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Throws with the tail of the output when a run did not do what it should. */
export function expect(label, r, ok) {
  if (!ok) {
    throw new Error(`${label} did not do what it should (exit ${r.status}):\n${(r.stdout ?? '').slice(-400)}${(r.stderr ?? '').slice(-400)}`);
  }
}
