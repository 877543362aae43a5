#!/usr/bin/env node
// Coverage-guided fuzzing of every parser of outside input with Jazzer.js (libFuzzer).
//
//   npm run fuzz -- [--time SECONDS] [--ci] [--regression] [TARGET ...]
//
// Targets are test/fuzz/targets/<name>.ts (all of them by default). Each is compiled with tsc
// into build-fuzz/js/, then fuzzed for --time seconds (default 60; --ci: 20) starting from the
// committed seeds test/fuzz/corpus/<name>/ and the earlier findings test/fuzz/findings/<name>/;
// new corpus entries go to build-fuzz/corpus/<name>/ (not committed), a crashing input to
// build-fuzz/findings/<name>/crash-<sha1>.
//   --ci          fail on a finding; the last line is `fuzz: N passed, N failed, N skipped`
//                 (one count per target) for scripts/ci-summary.mjs's `counts` kind.
//   --regression  only replay the seeds and findings (no mutation), e.g. after a parser fix.
// Exit status: 0 when no target found anything, 1 otherwise, 2 on bad usage.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => process.stderr.write(`[fuzz] ${m}\n`);

const args = process.argv.slice(2);
let ci = false, regression = false, seconds = null;
const wanted = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--ci') ci = true;
  else if (a === '--regression') regression = true;
  else if (a === '--time') seconds = Number(args[++i]);
  else if (a.startsWith('--time=')) seconds = Number(a.slice(7));
  else if (a.startsWith('-')) { log(`unknown option ${a} (use --time SECONDS, --ci, --regression, TARGET...)`); process.exit(2); }
  else wanted.push(a);
}
seconds ??= ci ? 20 : 60;
if (!Number.isInteger(seconds) || seconds < 1) { log('--time must be a whole number of seconds >= 1'); process.exit(2); }

const targetDir = join(root, 'test', 'fuzz', 'targets');
const all = readdirSync(targetDir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const unknown = wanted.filter((t) => !all.includes(t));
if (unknown.length) { log(`no such target: ${unknown.join(', ')} (targets: ${all.join(', ')})`); process.exit(2); }
const targets = wanted.length ? wanted : all;

const preload = execFileSync(process.execPath, [join(root, 'scripts', 'fuzz-prepare.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

log('compiling the targets (tsc -p test/fuzz/tsconfig.json)');
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'test', 'fuzz', 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  // tsc still emits; a type error elsewhere in src/ (work in progress) must not stop fuzzing
  log('warning: tsc reported type errors (see above); fuzzing what was emitted');
}

const out = join(root, 'build-fuzz');
const jazzer = join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js');

function runTarget(name) {
  const compiled = join(out, 'js', 'test', 'fuzz', 'targets', `${name}.js`);
  if (!existsSync(compiled)) return Promise.resolve({ name, rc: 1, note: 'not compiled' });
  const work = join(out, 'corpus', name);
  const findings = join(out, 'findings', name);
  mkdirSync(work, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const seeds = [join(root, 'test', 'fuzz', 'corpus', name), join(root, 'test', 'fuzz', 'findings', name)].filter(existsSync);
  const corpusArgs = regression ? [] : [work];
  if (regression) for (const s of seeds) cpSync(s, work, { recursive: true });
  const jargs = [
    jazzer, compiled, ...(regression ? [work] : [...corpusArgs, ...seeds]),
    '--sync',
    '-i', join(out, 'js', 'src') + '/',
    '--timeout', '10000',
    ...(regression ? ['--mode', 'regression'] : []),
    '--',
    `-artifact_prefix=${findings}/`,
    ...(regression ? [] : [`-max_total_time=${seconds}`]),
    '-max_len=4096',
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, jargs, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // a sanitizer runtime the caller preloads must stay first (scripts/fuzz-native.sh)
      env: { ...process.env, LD_PRELOAD: [process.env.LD_PRELOAD, preload].filter(Boolean).join(':') },
    });
    let tail = '';
    const keep = (chunk) => { tail = (tail + chunk.toString()).slice(-20000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code, signal) => {
      const lines = tail.split('\n');
      const runs = lines.map((l) => /^Done (\d+) runs/.exec(l)).filter(Boolean).pop();
      const cov = lines.map((l) => /cov: (\d+) ft: (\d+) corp: (\d+)/.exec(l)).filter(Boolean).pop();
      const rc = code ?? 128;
      resolve({
        name, rc, seconds: Math.round((Date.now() - started) / 1000),
        runs: runs ? Number(runs[1]) : null,
        cov: cov ? `cov ${cov[1]} ft ${cov[2]} corpus ${cov[3]}` : '',
        note: rc === 0 ? '' : `exit ${code ?? signal}`,
        tail: rc === 0 ? '' : lines.filter((l) => !/^(#\d+|"|INFO:|\s*$)/.test(l)).slice(-25).join('\n'),
        findings,
      });
    });
  });
}

let passed = 0, failed = 0;
for (const name of targets) {
  log(`${name}: ${regression ? 'replaying seeds and findings' : `fuzzing for ${seconds} s`}`);
  const r = await runTarget(name);
  if (r.rc === 0) {
    passed++;
    log(`${name}: ok in ${r.seconds} s${r.runs !== null ? `, ${r.runs} runs` : ''}${r.cov ? `, ${r.cov}` : ''}`);
  } else {
    failed++;
    log(`${name}: FINDING or failure (${r.note}) after ${r.seconds} s; input saved under ${r.findings}/`);
    if (r.tail) process.stderr.write(`${r.tail}\n`);
  }
}
console.log(`fuzz: ${passed} passed, ${failed} failed, 0 skipped`);
process.exit(failed ? 1 : 0);
