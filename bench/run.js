#!/usr/bin/env node
// npm run bench [-- name...]: runs bench/<name>.mjs (all of them by default) one after the
// other. Benchmarks compare netdiag with the real tools in the same run and print ratios;
// they need the compiled dist/ (npm run build) and, for most, root. CLI figures are whole
// processes of `node bin/netdiag.js ...`. Shared helpers live in bench/lib/; the CI-sized subset
// is `npm run bench:quick` (bench/quick.js, not run from here).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing (run npm run build first)');
  process.exit(2);
}
const args = process.argv.slice(2);
const wanted = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const all = readdirSync(here).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no benchmark named ${name} (have: ${all.join(', ')})`);
    process.exit(2);
  }
  console.log(`\n=== bench/${name} ===`);
  const r = spawnSync(process.execPath, [join(here, `${name}.mjs`), ...flags], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
