// The /proc reader's worker thread as shipped: a module of its own next to the code that
// starts it, in the CLI bundle (dist/bin/) and in the library (dist/sockets/). A worker that
// cannot start only makes the reader read alone, so the build is checked for the file
// itself, and listings big enough for the worker (sockstat says 60k sockets; loadavg says a
// core is idle) are run through both.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/built-package.js';

const SOCKETS = 60_000;
const procRoot = mkdtempSync(join(tmpdir(), 'netdiag-bigproc-'));
afterAll(() => rmSync(procRoot, { recursive: true, force: true }));
mkdirSync(join(procRoot, 'net'));
const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
for (let i = 0; i < SOCKETS; i++) {
  const port = (1024 + (i % 60_000)).toString(16).toUpperCase().padStart(4, '0');
  lines.push(`${String(i).padStart(4)}: 0100007F:${port} 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 ${100_000 + i} 1 0000000000000000 20 4 30 10 -1`);
}
writeFileSync(join(procRoot, 'net/tcp'), lines.join('\n') + '\n');
writeFileSync(join(procRoot, 'net/sockstat'), `sockets: used ${SOCKETS}\nTCP: inuse ${SOCKETS} orphan 0 tw 0 alloc ${SOCKETS} mem 1\nUDP: inuse 0 mem 0\nRAW: inuse 0\n`);
writeFileSync(join(procRoot, 'loadavg'), '0.00 0.00 0.00 1/100 1234\n');

// a worker is only started where a second core can run it (sockstat.ts idleCoreAvailable)
const oneCore = availableParallelism() < 2 ? 'one core: the reader never starts a worker here' : null;

describe('the worker module in the build', () => {
  it('every new URL(..., import.meta.url) of the CLI bundle (CommonJS: the URL of __filename) names a file of the bundle', () => {
    cliPath();
    const bin = join(repoRoot, 'dist/bin');
    const urls = readdirSync(bin)
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [...readFileSync(join(bin, f), 'utf8').matchAll(/new URL\("(\.\/[^"]+)", (?:import\.meta\.url|require\("url"\)\.pathToFileURL\(__filename\)\.href)\)/g)].map((m) => m[1]!));
    expect(urls).toContain('./proc-reader-worker.js');
    for (const u of urls) expect(existsSync(join(bin, u)), u).toBe(true);
  });

  it('tsc writes it next to the reader in dist/sockets/', () => {
    expect(existsSync(join(repoRoot, 'dist/sockets/proc-reader-worker.js'))).toBe(true);
  });
});

describe.skipIf(oneCore !== null)(`the /proc reader's worker as built${oneCore ? ` (skipped: ${oneCore})` : ''}`, () => {
  it('the CLI bundle starts it from dist/bin/ (netdiag sockets -tanp)', () => {
    const r = spawnSync(process.execPath, [cliPath(), 'sockets', '-tanp'], { encoding: 'utf8', env: { ...process.env, PROC_ROOT: procRoot }, maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const out = r.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(SOCKETS + 1);
    expect(out[1]).toMatch(/^ESTAB\s+0\s+0\s+127\.0\.0\.1:1024\s+127\.0\.0\.1:5432/);
  });

  it('the library starts it from dist/sockets/, also under node --input-type=module', () => {
    const script = `import { listSockets } from ${JSON.stringify(join(repoRoot, 'dist/index.js'))};
const d = await listSockets({ procRoot: ${JSON.stringify(procRoot)}, protocols: ['tcp'], owners: true });
console.log(d.sockets.length);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(String(SOCKETS));
  });
});
