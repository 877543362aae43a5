// Runs examples/ the way a user would: netdiag compiled in a temporary copy (dist/ of the
// checkout is left alone) and packed with npm pack, the tarball unpacked into a fresh project's
// node_modules, and the examples importing 'netdiag/testing' through the package's "exports". Then the same vitest
// example with an assertion broken: it must fail and leave no namespace behind.
// examples/jest is a project of its own (package.json with jest): `npm install <tarball>` there
// installs netdiag and jest (from the npm registry, or npm's cache when it has them), then its
// `npm test` runs, and a copy with a broken assertion.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNetworkSupport } from '../../src/testing/index.js';
import { repoRoot } from '../helpers/built-package.js';

const support = testNetworkSupport();
const requireAll = process.env.NETDIAG_REQUIRE_ALL === '1';
const addon = join(repoRoot, 'build/Release/netdiag.node');
const why = !support.ok ? support.reason : !existsSync(addon) ? 'build/Release/netdiag.node is missing (npm run build:native)' : null;
if (why && !requireAll) process.stderr.write(`[skipped] netdiag/testing examples: ${why}\n`);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces named by netdiag/testing whose creating process is gone: leaks. */
function leaked(before: Set<string>): string[] {
  const now = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  return now.filter((n) => !before.has(n) && /^ndt-(\d+)-/.test(n) && !pidAlive(Number(/^ndt-(\d+)-/.exec(n)![1])));
}

const netnsNow = () => new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);

describe.skipIf(why !== null && !requireAll)('examples/ against netdiag/testing from a fresh project', () => {
  let tmp: string;
  let project: string;
  let tarball: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'netdiag-examples-'));
    const pkg = join(tmp, 'pkg');
    mkdirSync(join(pkg, 'build/Release'), { recursive: true });
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) copyFileSync(join(repoRoot, f), join(pkg, f));
    cpSync(join(repoRoot, 'src'), join(pkg, 'src'), { recursive: true });
    copyFileSync(addon, join(pkg, 'build/Release/netdiag.node'));
    symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(pkg, 'tsconfig.build.json')], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    if (tsc.status !== 0) throw new Error(`tsc of the copy failed: ${tsc.stdout}${tsc.stderr}`);

    // packed as published (its "files" and "exports"), unpacked where npm install would put it
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: pkg, encoding: 'utf8', timeout: 60_000 });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    tarball = join(tmp, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0].filename);
    project = join(tmp, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{ "name": "user-project", "private": true, "type": "module" }\n');
    const untar = spawnSync('tar', ['xzf', tarball, '-C', join(project, 'node_modules')], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
    const installed = join(project, 'node_modules/netdiag');
    renameSync(join(project, 'node_modules/package'), installed);
    // what npm install would add: the dependencies, and the addon (a prebuild; here the local build)
    symlinkSync(join(repoRoot, 'node_modules'), join(installed, 'node_modules'));
    mkdirSync(join(installed, 'build/Release'), { recursive: true });
    copyFileSync(addon, join(installed, 'build/Release/netdiag.node'));
    symlinkSync(join(repoRoot, 'node_modules/vitest'), join(project, 'node_modules/vitest'));
    cpSync(join(repoRoot, 'examples'), project, { recursive: true });
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const run = (args: string[]) =>
    spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', CI: '1' } });

  it('the vitest example type-checks against the packed types of netdiag/testing', () => {
    symlinkSync(join(repoRoot, 'node_modules/@types'), join(project, 'node_modules/@types'));
    const config = {
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'ESNext.Disposable'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true },
      files: ['vitest/chain-loss.test.ts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config));
    const r = run([join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.json')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // and a wrong use is caught: the types are really there, not `any`
    writeFileSync(join(project, 'wrong.ts'), "import { createTopology } from 'netdiag/testing';\nawait createTopology({ routers: 'three' });\nexport {};\n");
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...config, files: ['wrong.ts'] }));
    const wrong = run([join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.json')]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toMatch(/wrong\.ts.*error TS2322/);
  }, 60_000);

  it('node --test examples/node-test: passes, the chain deleted', () => {
    const before = netnsNow();
    // TAP on every Node line (22+ print the spec reporter by default)
    const r = run(['--test', '--test-reporter=tap', 'node-test/chain-loss.test.mjs']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/# pass 1\b/);
    expect(r.stdout).toMatch(/# skip(ped)? 0\b/);
    expect(leaked(before)).toEqual([]);
  }, 130_000);

  it('vitest examples/vitest: passes, the chain deleted', () => {
    const before = netnsNow();
    const r = run([join(project, 'node_modules/vitest/vitest.mjs'), 'run', 'vitest/chain-loss.test.ts']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Tests\s+1 passed/);
    expect(leaked(before)).toEqual([]);
  }, 130_000);

  it('vitest example with a failing assertion: fails, and still leaves no namespace behind', () => {
    const src = readFileSync(join(project, 'vitest/chain-loss.test.ts'), 'utf8');
    const broken = src.replace('expect(seen.transmitted).toBe(200);', 'expect(seen.transmitted).toBe(201);');
    expect(broken).not.toBe(src);
    writeFileSync(join(project, 'vitest/broken-chain-loss.test.ts'), broken);
    const before = netnsNow();
    const r = run([join(project, 'node_modules/vitest/vitest.mjs'), 'run', 'vitest/broken-chain-loss.test.ts']);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/expected 200 to be 201/);
    expect(leaked(before)).toEqual([]);
  }, 130_000);

  describe('examples/jest, installed with npm from the tarball', () => {
    let jestProject: string;
    beforeAll(() => {
      jestProject = join(tmp, 'jest-project');
      cpSync(join(repoRoot, 'examples/jest'), jestProject, { recursive: true });
      // the user's `npm install`: netdiag from the tarball (its package.json asks for netdiag
      // ^0.1.0, which the tarball satisfies) and jest from the registry or the cache. Scripts
      // off: the tarball has no prebuilds, and its addon would be compiled; the local build is
      // put where the install script would have found a prebuild.
      const install = spawnSync('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
        cwd: jestProject,
        encoding: 'utf8',
        timeout: 400_000,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      });
      if (install.status !== 0) throw new Error(`npm install in examples/jest failed (it needs the npm registry or npm's cache): ${install.stderr.slice(-2000)}`);
      const installed = join(jestProject, 'node_modules/netdiag');
      mkdirSync(join(installed, 'build/Release'), { recursive: true });
      copyFileSync(addon, join(installed, 'build/Release/netdiag.node'));
    }, 420_000);

    const npmTest = (args: string[] = []) =>
      spawnSync('npm', ['test', '--', ...args], { cwd: jestProject, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', CI: '1' } });

    it('npm test (jest, native ES modules): passes, the chain deleted', () => {
      const before = netnsNow();
      const r = npmTest();
      const out = r.stdout + r.stderr;
      expect(r.status, out).toBe(0);
      expect(out).toMatch(/Tests:\s+1 passed, 1 total/);
      expect(out).not.toMatch(/skipped/);
      expect(leaked(before)).toEqual([]);
    }, 130_000);

    it('jest with a failing assertion: fails, and afterAll still deletes the chain', () => {
      const src = readFileSync(join(jestProject, 'chain-loss.test.js'), 'utf8');
      const broken = src.replace('expect(seen.sent).toBe(200);', 'expect(seen.sent).toBe(201);');
      expect(broken).not.toBe(src);
      writeFileSync(join(jestProject, 'broken-chain-loss.test.js'), broken);
      const before = netnsNow();
      const r = npmTest(['broken-chain-loss.test.js']);
      const out = r.stdout + r.stderr;
      expect(r.status).not.toBe(0);
      expect(out).toMatch(/Expected: 201\s+Received: 200/);
      expect(out).toMatch(/Tests:\s+1 failed, 1 total/);
      expect(leaked(before)).toEqual([]);
    }, 130_000);

    it('a jest test that never closes its chain: the namespaces go when jest exits (its `process` fires no exit event)', async () => {
      writeFileSync(
        join(jestProject, 'forgotten-close.test.js'),
        "import { createTopology } from 'netdiag/testing';\n" +
          "it('makes a chain and forgets it', async () => {\n" +
          "  const net = await createTopology({ routers: 1 });\n" +
          "  console.log(`namespaces: ${net.namespaces.join(' ')} :end`);\n" +
          '}, 30_000);\n',
      );
      const r = npmTest(['forgotten-close.test.js']);
      const out = r.stdout + r.stderr;
      expect(r.status, out).toBe(0);
      const names = /namespaces: (.*?) :end/.exec(out)?.[1].split(' ') ?? [];
      expect(names, out).toHaveLength(3);
      // the guard deletes them once the pipe from the ended process closes: give it a moment
      let left = names;
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const now = netnsNow();
        left = names.filter((n) => now.has(n));
      }
      expect(left).toEqual([]);
    }, 130_000);
  });
});
