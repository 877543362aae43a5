// The CLI's chunks load through V8 code caches the build writes (issue 9: start-up at Node's
// floor). A copy of the package gets caches from this Node, by the build's own script: every
// chunk a run loads must then come from its cache, not be refused; a cache that does not fit
// (another V8, a damaged file) is refused and the chunk compiled instead, with the same output.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/built-package.js';
import { unmet } from '../helpers/requirements.js';

const loaderPath = join(repoRoot, 'bin/code-cache-loader.js');
const copies: string[] = [];
afterAll(() => {
  for (const d of copies) rmSync(d, { recursive: true, force: true });
});

/**
 * A copy of the package (bin/, dist/bin/ without its caches, the addon) whose caches this
 * Node writes with the build's own script: whichever Node runs the tests, its caches are tested.
 */
function packageWithCachesForThisNode(): string {
  const root = mkdtempSync(join(tmpdir(), 'netdiag-code-cache-'));
  copies.push(root);
  const addon = ['build/Release/netdiag.node', `prebuilds/linux-${process.arch}/netdiag.node`].find((f) => existsSync(join(repoRoot, f)));
  for (const part of ['package.json', 'binding.gyp', 'bin', 'dist/bin', ...(addon ? [addon] : [])]) {
    mkdirSync(dirname(join(root, part)), { recursive: true });
    cpSync(join(repoRoot, part), join(root, part), { recursive: true });
  }
  rmSync(join(root, 'dist/bin/code-cache'), { recursive: true, force: true });
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-code-cache.mjs'), root], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return root;
}

/** Runs the CLI with `args` through the loader of `bundle`; returns its output and what the loader saw. */
function runThroughLoader(bundle: string, args: string[]): { stdout: string; loaded: number; rejected: string[] } {
  const script = `
    const { codeCacheLoaderFor } = require(${JSON.stringify(loaderPath)});
    const loader = codeCacheLoaderFor(${JSON.stringify(bundle)});
    if (!loader) throw new Error('no code cache for this Node');
    process.on('exit', () => process.stderr.write('\\nloader:' + JSON.stringify({ loaded: loader.loadedChunks().length, rejected: loader.rejected }) + '\\n'));
    loader.load(${JSON.stringify(join(bundle, 'cli.js'))}).main();`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  // -e puts no script path in argv; main() reads its arguments from argv[2] on
  const r = spawnSync(process.execPath, ['-e', script, '--', 'argv1', ...args], { encoding: 'utf8', env, timeout: 30_000 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('loader:'));
  expect(line, r.stderr).toBeDefined();
  return { stdout: r.stdout, ...JSON.parse(line!.slice('loader:'.length)) };
}

describe('CLI code cache', () => {
  let pkg = '';
  beforeAll(() => {
    pkg = packageWithCachesForThisNode();
  }, 120_000);

  it('every chunk of a run comes from its cache', () => {
    const r = runThroughLoader(join(pkg, 'dist/bin'), ['ping', '--help']);
    expect(r.stdout).toMatch(/^usage: netdiag ping/);
    expect(r.loaded).toBeGreaterThan(2);
    expect(r.rejected).toEqual([]);
  });

  it('a cache that does not fit is refused and the chunk compiled, with the same output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-code-cache-'));
    copies.push(dir);
    const bundle = join(dir, 'bin');
    cpSync(join(pkg, 'dist/bin'), bundle, { recursive: true });
    const copyCache = join(bundle, 'code-cache', `${process.version}-${process.arch}`);
    for (const f of readdirSync(copyCache)) writeFileSync(join(copyCache, f), Buffer.alloc(256, 7));
    const damaged = runThroughLoader(bundle, ['ping', '--help']);
    const good = runThroughLoader(join(pkg, 'dist/bin'), ['ping', '--help']);
    expect(damaged.rejected.length).toBe(damaged.loaded);
    expect(damaged.stdout).toBe(good.stdout);
  });

  it('the installed command loads every chunk through it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-code-cache-'));
    copies.push(dir);
    const preload = join(dir, 'record.cjs');
    writeFileSync(preload, `process.on('exit', () => {
      const files = Object.keys(require.cache);
      process.stderr.write('\\nrequired:' + JSON.stringify({ loader: files.some((f) => f.endsWith('/bin/code-cache-loader.js')), chunks: files.filter((f) => f.includes('/dist/bin/')) }) + '\\n');
    });`);
    const r = spawnSync(process.execPath, ['-r', preload, join(pkg, 'bin/netdiag.js'), '--version'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^netdiag \d+\.\d+\.\d+\n$/);
    const line = r.stderr.split('\n').find((l) => l.startsWith('required:'));
    expect(JSON.parse(line!.slice('required:'.length))).toEqual({ loader: true, chunks: [] });
  });

  /** A copy of `pkg` without caches for this Node, run with TMPDIR empty: its output, TMPDIR's entries, what it wrote in the package. */
  function runWithoutBuildCaches(owner?: number): { stdout: string; tmp: string[]; compileCache: string[] | null } {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-code-cache-'));
    copies.push(dir);
    const copy = join(dir, 'pkg');
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    cpSync(pkg, copy, { recursive: true });
    rmSync(join(copy, 'dist/bin/code-cache'), { recursive: true, force: true });
    rmSync(join(copy, 'dist/bin/compile-cache'), { recursive: true, force: true });
    if (owner !== undefined) spawnSync('chown', ['-R', String(owner), copy]);
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
    delete env.NODE_OPTIONS;
    delete env.NODE_COMPILE_CACHE;
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const r = spawnSync(process.execPath, [join(copy, 'bin/netdiag.js'), 'ping', '--help'], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const cache = join(copy, 'dist/bin/compile-cache');
    return { stdout: r.stdout, tmp: readdirSync(tmp), compileCache: existsSync(cache) ? readdirSync(cache, { recursive: true }).map(String) : null };
  }

  it('without caches for this Node, Node\'s compile cache is kept in the package, never under TMPDIR', () => {
    const r = runWithoutBuildCaches();
    expect(r.stdout).toMatch(/^usage: netdiag ping/);
    expect(r.tmp).toEqual([]);
    // a Node without module.enableCompileCache (Node 20) writes nothing anywhere
    if ('enableCompileCache' in nodeModule) expect(r.compileCache?.length).toBeGreaterThan(1);
    else expect(r.compileCache).toBeNull();
  });

  const notRoot = unmet(['root']);
  it.skipIf(notRoot !== null)(`a run by another user than the package's owner (sudo of a user's install) writes no compile cache${notRoot ? ` (skipped: ${notRoot})` : ''}`, () => {
    const r = runWithoutBuildCaches(65534);
    expect(r.stdout).toMatch(/^usage: netdiag ping/);
    expect(r.tmp).toEqual([]);
    expect(r.compileCache).toBeNull();
  });
});
