// Child processes run the compiled CLI (dist/) because Node 20 cannot run TypeScript.
// Unprivileged children (uid 65534) must be able to read it: when the checkout is not
// world-readable (a clone under /root, say), a minimal copy is made under /tmp.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** Path of bin/netdiag.js in the checkout; fails clearly when dist/ was not built. */
export function cliPath(): string {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run npm run build:ts (the test command builds it) before the integration tests');
  }
  return join(repoRoot, 'bin/netdiag.js');
}

let readableCopy: string | undefined;

/** A package root that uid 65534 can read: the checkout itself, or a copy under /tmp. */
export function worldReadableRoot(): string {
  cliPath();
  if (readableCopy) return readableCopy;
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', join(repoRoot, 'dist/cli/main.js')]);
  if (probe.status === 0) {
    readableCopy = repoRoot;
    return repoRoot;
  }
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-pkg-'));
  for (const part of ['package.json', 'bin', 'dist', 'build/Release/netdiag.node', 'prebuilds', 'node_modules/node-gyp-build']) {
    const from = join(repoRoot, part);
    if (existsSync(from)) cpSync(from, join(dir, part), { recursive: true });
  }
  makeReadable(dir);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  readableCopy = dir;
  return dir;
}

function makeReadable(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : (st.mode & 0o111) ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of readdirSync(path)) makeReadable(join(path, e));
}
