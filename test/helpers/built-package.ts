// Child processes run the compiled CLI (dist/) because Node 20 cannot run TypeScript.
// Unprivileged children (uid 65534) must be able to read it: when the checkout is not
// world-readable (a clone under /root, say), a minimal copy is made under /tmp.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** Path of bin/netdiag.js in the checkout; fails clearly when dist/ was not built. */
export function cliPath(): string {
  if (!existsSync(join(repoRoot, 'dist/bin/cli.js'))) {
    throw new Error('dist/ is missing: run npm run build:ts (the test command builds it) before the integration tests');
  }
  return join(repoRoot, 'bin/netdiag.js');
}

let readableCopy: string | undefined;
let overrideCopy: { from: string; to: string } | undefined;

/**
 * A package root that uid 65534 can read: the checkout itself, or a copy under /tmp with
 * bin/, dist/, the addon, node-gyp-build and the test fixtures. When NETDIAG_ADDON names a
 * build elsewhere (the sanitizer run), that file is copied too and NETDIAG_ADDON is pointed
 * at the copy, so children started afterwards load it.
 */
export function worldReadableRoot(): string {
  cliPath();
  if (readableCopy) return readableCopy;
  const override = process.env.NETDIAG_ADDON;
  if (readableByNobody(join(repoRoot, 'dist/bin/cli.js')) && (!override || readableByNobody(override))) {
    readableCopy = repoRoot;
    return repoRoot;
  }
  sweepStaleCopies();
  const dir = mkdtempSync(join(tmpdir(), `netdiag-pkg-${process.pid}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const part of ['package.json', 'bin', 'dist', 'build/Release/netdiag.node', 'prebuilds', 'node_modules/node-gyp-build', 'test/fixtures/native']) {
    const from = join(repoRoot, part);
    if (existsSync(from)) cpSync(from, join(dir, part), { recursive: true });
  }
  if (override) {
    const copy = join(dir, 'addon-override', 'netdiag.node');
    cpSync(override, copy);
    process.env.NETDIAG_ADDON = copy;
    overrideCopy = { from: override, to: copy };
  }
  makeReadable(dir);
  readableCopy = dir;
  return dir;
}

/** The same file inside worldReadableRoot() (for paths under the checkout). */
export function worldReadablePath(pathInRepo: string): string {
  const root = worldReadableRoot();
  if (overrideCopy && pathInRepo === overrideCopy.from) return overrideCopy.to;
  return pathInRepo.startsWith(repoRoot + '/') ? join(root, pathInRepo.slice(repoRoot.length + 1)) : pathInRepo;
}

/** Test workers can be killed before their exit handlers run: remove copies of dead pids. */
function sweepStaleCopies(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^netdiag-pkg-(\d+)-/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function readableByNobody(path: string): boolean {
  return spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', path]).status === 0;
}

function makeReadable(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  chmodSync(path, st.isDirectory() ? 0o755 : (st.mode & 0o111) ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of readdirSync(path)) makeReadable(join(path, e));
}
