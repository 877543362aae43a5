// Writes V8 code caches for the CLI bundle (npm run build:cli, after rolldown), for the Node
// that runs the build: first each chunk's top level, then the functions a few short runs of
// the commands users start most compile, so a run deserializes instead of compiling them
// (bin/code-cache-loader.js). The runs reach only 127.0.0.1; one that fails for want of
// privilege still leaves what it compiled. Another Node or V8 flags refuse the caches and
// compile as before.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// the package root: this checkout, or the copy a test names
const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist/bin');
const { cacheDirOf, compileChunk } = createRequire(import.meta.url)('../bin/code-cache-loader.js');
const TRAINING_RUN = fileURLToPath(new URL('./code-cache-training-run.cjs', import.meta.url));

const TRAINING_RUNS = [
  ['ping', '-c', '1', '127.0.0.1'],
  ['ping', '-q', '-c', '1', '127.0.0.1', '127.0.0.2'],
  ['traceroute', '-n', '-q', '1', '-m', '2', '127.0.0.1'],
  ['traceroute', '-I', '-n', '-q', '1', '-m', '2', '127.0.0.1'],
  ['sockets', '-tan'],
  ['--help'],
];

const cacheDir = cacheDirOf(bundle);
rmSync(join(bundle, 'code-cache'), { recursive: true, force: true });
mkdirSync(cacheDir, { recursive: true });
for (const name of readdirSync(bundle).filter((f) => f.endsWith('.js'))) {
  writeFileSync(join(cacheDir, `${name}.cache`), compileChunk(join(bundle, name)).createCachedData());
}
const env = { ...process.env };
delete env.NODE_OPTIONS;
for (const args of TRAINING_RUNS) {
  spawnSync(process.execPath, [TRAINING_RUN, bundle, ...args], { stdio: 'ignore', env, timeout: 30_000 });
}
const caches = readdirSync(cacheDir);
const bytes = caches.reduce((n, f) => n + statSync(join(cacheDir, f)).size, 0);
process.stderr.write(`code cache: ${caches.length} chunks, ${(bytes / 1024).toFixed(0)} KiB in ${cacheDir}\n`);
