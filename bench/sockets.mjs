#!/usr/bin/env node
// Benchmark (not a test): netdiag sockets against ss and netstat with 10,000 and 50,000
// loopback TCP connections open (20k / 100k sockets), whole process and in-process: -tan,
// -tanp, -tani, and a filtered query matching one connection
// (-tan state established '( dport = :PORT )'); netdiag on its default backend (sock_diag)
// and, for -tan, on /proc.
//
//   node bench/sockets.mjs [--quick] [--runs N] [--connections N[,N...]] [--keep-ca-certs]
//
// --quick: 10,000 connections and 3 runs. --connections: only these sizes (e.g. 50000).
// NODE_EXTRA_CA_CERTS is left out of the commands' environment unless --keep-ca-certs: Node
// parses that bundle at every start-up (tens of ms of CPU) though netdiag makes no TLS
// connection; the floor line shows what node -e 0 pays with it. Needs the compiled code (npm run build:ts),
// python3 (the connection holders) and ss; netstat (net-tools) is optional. Connections are
// held by python3 worker processes, a few thousand each, so every process stays within
// RLIMIT_NOFILE; they close with RST (SO_LINGER 0), leaving no TIME_WAIT, and are killed
// when the bench ends or is interrupted. Only 127.0.0.1 is used.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : quick ? 3 : 5;
const sizesArg = args.indexOf('--connections');
const sizes = sizesArg >= 0 ? String(args[sizesArg + 1]).split(',').map(Number) : quick ? [10_000] : [10_000, 50_000];
if (!Number.isInteger(runs) || runs < 1) fail('--runs needs a whole number, e.g. --runs 7');
const keepCaCerts = args.includes('--keep-ca-certs');
const commandEnv = { ...process.env };
if (!keepCaCerts) delete commandEnv.NODE_EXTRA_CA_CERTS;
if (!sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 200_000)) fail('--connections needs whole numbers from 1 to 200000, e.g. --connections 50000');

const distIndex = join(root, 'dist/sockets/index.js');
const bin = join(root, 'bin/netdiag.js');
if (!existsSync(distIndex) || !existsSync(join(root, 'dist/cli/sockets/command.js'))) fail('dist/ is missing: run npm run build:ts first');
if (!has('python3')) fail('python3 is needed to hold the connections');
if (!has('ss')) fail('ss is missing: apt-get install iproute2');
const haveNetstat = has('netstat');
if (!haveNetstat) process.stderr.write('netstat is missing (apt-get install net-tools): its rows are left out\n');

function fail(message) {
  process.stderr.write(`bench/sockets: ${message}\n`);
  process.exit(2);
}

function has(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

// --- connection holders ----------------------------------------------------------------

const HOLDER = `
import os, resource, signal, socket, struct, sys
n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ls = socket.socket()
ls.bind(('127.0.0.1', 0))
ls.listen(4096)
linger = struct.pack('ii', 1, 0)
conns = []
def bye(*_):
    for s in conns:
        s.close()
    ls.close()
    os._exit(0)
signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
for i in range(n):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    c.connect(ls.getsockname())
    s, _ = ls.accept()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    conns.append(c)
    conns.append(s)
# the listener's port and one client's port: 'dport = :CLIENT' matches one accepted socket
print('ready', ls.getsockname()[1], conns[0].getsockname()[1], flush=True)
sys.stdin.read()
bye()
`;

const holders = new Set();

function hardFdLimit() {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : 1024;
}

/** Starts holders for `total` connections; resolves once every one is connected, with one client's port. */
async function openConnections(total) {
  // two descriptors per connection, some spare
  const perHolder = Math.max(100, Math.min(8_334, Math.floor((hardFdLimit() - 64) / 2)));
  const started = [];
  for (let left = total; left > 0; left -= perHolder) {
    const n = Math.min(perHolder, left);
    const child = spawn('python3', ['-c', HOLDER, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
    holders.add(child);
    child.on('exit', () => holders.delete(child));
    started.push(
      new Promise((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.once('line', (l) => (l.startsWith('ready ') ? resolve(Number(l.split(' ')[2])) : reject(new Error(`holder said ${l}`))));
        child.once('exit', (code) => reject(new Error(`a connection holder exited with ${code} before it was ready`)));
      }),
    );
  }
  const clientPorts = await Promise.all(started);
  return clientPorts[0];
}

async function closeConnections() {
  const exits = [...holders].map((c) => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', resolve))));
  for (const c of holders) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of holders) c.kill('SIGKILL');
  }, 5000);
  await Promise.all(exits);
  clearTimeout(timer);
}

function killEverything() {
  for (const c of holders) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killEverything);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killEverything();
    process.stderr.write(`bench/sockets: interrupted, connections closed\n`);
    process.exit(130);
  });
}

// --- measuring --------------------------------------------------------------------------

const devNull = openSync('/dev/null', 'w');

// Runs one command (stdout to /dev/null) and prints its wall time and the CPU time (user +
// system, from wait4) it and its threads used, in ms: on a loaded machine the CPU time is
// the steadier figure.
const RUNNER = `
import os, sys, time
null = os.open('/dev/null', os.O_WRONLY)
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(null, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
wall = (time.perf_counter() - t0) * 1000
print(os.waitstatus_to_exitcode(status), wall, (ru.ru_utime + ru.ru_stime) * 1000)
`;

/** Wall and CPU time of one whole run of argv, stdout to /dev/null. */
function timeProcess(argv) {
  const r = spawnSync('python3', ['-c', RUNNER, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: argv.env ?? commandEnv });
  const [code, wall, cpu] = r.stdout.trim().split(' ').map(Number);
  if (r.status !== 0 || code !== 0) throw new Error(`${argv.join(' ')} exited with ${code ?? r.status}: ${r.stderr.trim()}`);
  return { wall, cpu };
}

function countLines(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'], env: argv.env ?? commandEnv });
  return r.stdout.split('\n').filter((l) => l.length > 0).length;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall times of `runs` calls of fn (after one warm-up), with the CPU time of each as `.cpu`. */
async function timeInProcess(fn) {
  await fn(); // warm-up
  const times = [];
  times.cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    times.cpu.push((c.user + c.system) / 1000);
  }
  return times;
}

/** The owner-scan floor, two ways: sync readdir/readlink vs the promise API. */
function walkFdsSync() {
  let sockets = 0;
  for (const pid of readdirSync('/proc')) {
    if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // gone
      }
    }
  }
  return sockets;
}

async function walkFdsAsync() {
  let sockets = 0;
  for (const pid of await readdir('/proc')) {
    if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
    let fds;
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    for (const l of links) if (l.startsWith('socket:')) sockets++;
  }
  return sockets;
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)).padStart(7);

async function benchSize(connections) {
  process.stdout.write(`\n== ${connections.toLocaleString('en-US')} loopback TCP connections (${(2 * connections).toLocaleString('en-US')} sockets + listeners), median of ${runs} runs, ms ==\n`);
  const clientPort = await openConnections(connections);
  const filter = ['state', 'established', '(', 'dport', '=', `:${clientPort}`, ')'];
  try {
    const groups = [
      {
        // what every whole-process figure of netdiag pays before it reads a socket
        name: 'floor',
        commands: [
          ['node', ['node', '-e', '0']],
          ...(process.env.NODE_EXTRA_CA_CERTS && !keepCaCerts ? [['node', Object.assign(['node', '-e', '0', '# NODE_EXTRA_CA_CERTS kept'], { env: process.env })]] : []),
          ['netdiag', ['node', bin, 'sockets', '--help']],
        ],
      },
      {
        name: '-tan',
        commands: [
          ['netdiag', ['node', bin, 'sockets', '-tan']],
          ['netdiag', ['node', bin, 'sockets', '-tan', '--backend', 'proc']],
          ['ss', ['ss', '-tan']],
          ...(haveNetstat ? [['netstat', ['netstat', '-tan']]] : []),
        ],
      },
      {
        name: 'filtered',
        commands: [
          ['netdiag', ['node', bin, 'sockets', '-tan', ...filter]],
          ['ss', ['ss', '-tan', ...filter]],
        ],
      },
      {
        name: '-tani',
        commands: [
          ['netdiag', ['node', bin, 'sockets', '-tani']],
          ['ss', ['ss', '-tani']],
        ],
      },
      {
        name: '-tanp',
        commands: [
          ['netdiag', ['node', bin, 'sockets', '-tanp']],
          ['ss', ['ss', '-tanp']],
          ...(haveNetstat ? [['netstat', ['netstat', '-tanp']]] : []),
        ],
      },
    ];
    const results = new Map();
    for (const g of groups) {
      for (const [, argv] of g.commands) {
        const lines = countLines(argv); // warm-up, and a check that they list the same
        results.set(argv.join(' '), { lines, times: [], cpu: [] });
      }
    }
    // interleaved, so load from elsewhere hits every tool alike
    for (let r = 0; r < runs; r++) {
      for (const g of groups) {
        for (const [, argv] of g.commands) {
          const { wall, cpu } = timeProcess(argv);
          results.get(argv.join(' ')).times.push(wall);
          results.get(argv.join(' ')).cpu.push(cpu);
        }
      }
    }
    const { listSockets } = await import(distIndex);
    const inTan = await timeInProcess(() => listSockets({ protocols: ['tcp'] }));
    const inTanp = await timeInProcess(() => listSockets({ protocols: ['tcp'], owners: true }));
    const inFiltered = await timeInProcess(() => listSockets({ protocols: ['tcp'], states: ['established'], remotePort: clientPort }));
    const inTanProc = await timeInProcess(() => listSockets({ protocols: ['tcp'], backend: 'proc' }));
    const fdSync = await timeInProcess(async () => walkFdsSync());
    const fdAsync = await timeInProcess(() => walkFdsAsync());

    process.stdout.write(`${'command (wall ms; cpu: user+system ms, median)'.padEnd(60)}${'median'.padStart(7)}${'min'.padStart(7)}${'max'.padStart(7)}${'cpu'.padStart(7)}  lines\n`);
    for (const [key, { lines, times, cpu }] of results) {
      process.stdout.write(`${key.replace(bin, 'bin/netdiag.js').padEnd(60)}${fmt(median(times))}${fmt(Math.min(...times))}${fmt(Math.max(...times))}${fmt(median(cpu))}  ${lines}\n`);
    }
    const row = (name, times) => process.stdout.write(`${name.padEnd(60)}${fmt(median(times))}${fmt(Math.min(...times))}${fmt(Math.max(...times))}${fmt(median(times.cpu ?? []))}\n`);
    row('in-process listSockets tcp', inTan);
    row('in-process listSockets tcp+owners', inTanp);
    row('in-process listSockets tcp, /proc', inTanProc);
    row('in-process filtered (one match)', inFiltered);
    row('/proc/*/fd walk, readlinkSync', fdSync);
    row('/proc/*/fd walk, fs.promises', fdAsync);

    const m = (argv) => median(results.get(argv.join(' ')).times);
    const tan = m(['node', bin, 'sockets', '-tan']);
    const tanp = m(['node', bin, 'sockets', '-tanp']);
    const tani = m(['node', bin, 'sockets', '-tani']);
    const filtered = m(['node', bin, 'sockets', '-tan', ...filter]);
    const ssTan = m(['ss', '-tan']);
    const ratio = (a, b) => (a / b).toFixed(2) + 'x';
    const big = connections >= 50_000;
    process.stdout.write(`ratios: -tan  netdiag/ss ${ratio(tan, ssTan)} (target <= ${big ? '1.0' : '2.0'}x)`);
    if (haveNetstat) process.stdout.write(`, netdiag/netstat ${ratio(tan, m(['netstat', '-tan']))}`);
    process.stdout.write(`, /proc backend/ss ${ratio(m(['node', bin, 'sockets', '-tan', '--backend', 'proc']), ssTan)}`);
    process.stdout.write(`\n        -tanp netdiag/ss ${ratio(tanp, m(['ss', '-tanp']))} (target <= 0.3x at 50k)`);
    if (haveNetstat) process.stdout.write(`, netdiag/netstat ${ratio(tanp, m(['netstat', '-tanp']))}`);
    process.stdout.write(`\n        -tani netdiag/ss ${ratio(tani, m(['ss', '-tani']))} (target <= 1.0x at 50k)`);
    process.stdout.write(`\n        filtered netdiag whole process / unfiltered ss -tan ${ratio(filtered, ssTan)} (target <= 1.0x at 50k)`);
    process.stdout.write(`, / filtered ss ${ratio(filtered, m(['ss', '-tan', ...filter]))}`);
    process.stdout.write(`, in-process / filtered ss whole process ${ratio(median(inFiltered), m(['ss', '-tan', ...filter]))}`);
    const c = (argv) => median(results.get(argv.join(' ')).cpu);
    process.stdout.write(`\nCPU ratios (steadier on a loaded machine): -tan ${ratio(c(['node', bin, 'sockets', '-tan']), c(['ss', '-tan']))}, -tani ${ratio(c(['node', bin, 'sockets', '-tani']), c(['ss', '-tani']))}`);
    process.stdout.write(`, -tanp ${ratio(c(['node', bin, 'sockets', '-tanp']), c(['ss', '-tanp']))}, filtered in-process / filtered ss whole process ${ratio(median(inFiltered.cpu), c(['ss', '-tan', ...filter]))}`);
    process.stdout.write(`\n        floor: node -e 0 ${fmt(m(['node', '-e', '0'])).trim()} ms, netdiag sockets --help ${fmt(m(['node', bin, 'sockets', '--help'])).trim()} ms`);
    process.stdout.write('\n');
  } finally {
    await closeConnections();
  }
}

const load = spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim();
process.stdout.write(`netdiag sockets benchmark: node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, loadavg ${load}\n`);
if (process.env.NODE_EXTRA_CA_CERTS && !keepCaCerts) process.stdout.write('NODE_EXTRA_CA_CERTS is set: left out of the commands\' environment (--keep-ca-certs keeps it)\n');
try {
  for (const n of sizes) await benchSize(n);
} finally {
  killEverything();
  closeSync(devNull);
}
