// testNetworkSupport() and doctor's "test networks" check: what is missing and how to allow it,
// checked for real by running the probe without capabilities and without the tools on PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { doctor } from '../../src/doctor.js';
import { testNetworkSupport } from '../../src/testing/support.js';
import { compiledWorker } from '../helpers/compiled-worker.js';
import { unmet } from '../helpers/requirements.js';

const probe = compiledWorker('src/testing/support.ts');
chmodSync(dirname(fileURLToPath(probe)), 0o755); // readable by the unprivileged run below

function supportIn(env: NodeJS.ProcessEnv, runner: string[] = []): ReturnType<typeof testNetworkSupport> {
  const script = `import(${JSON.stringify(probe.href)}).then((m) => console.log(JSON.stringify(m.testNetworkSupport({ tun: true }))))`;
  const argv = [...runner, process.execPath, '-e', script];
  const r = spawnSync(argv[0], argv.slice(1), { env, cwd: '/', encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof testNetworkSupport>;
}

describe('testNetworkSupport()', () => {
  it('agrees with the capabilities and tools this process has', () => {
    const s = testNetworkSupport();
    const expected = unmet(['net_admin', 'sys_admin', 'tool:ip', 'tool:nft']) === null;
    expect(s.ok).toBe(expected);
    expect(s.reason === '').toBe(expected);
  });

  it('names the missing tools and the packages that bring them', () => {
    const s = supportIn({ PATH: '/nonexistent' });
    expect(s.ok).toBe(false);
    expect(s.missing).toEqual(expect.arrayContaining(['ip', 'nft']));
    expect(s.reason).toMatch(/^test networks need .*ip, nft/);
    expect(s.fix).toContain('apt-get install iproute2 nftables');
  });

  it.skipIf(process.getuid?.() !== 0 || unmet(['tool:setpriv']) !== null)('without capabilities: names them and the Docker flags', () => {
    const s = supportIn(process.env, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']);
    expect(s.ok).toBe(false);
    expect(s.missing).toEqual(expect.arrayContaining(['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']));
    expect(s.fix).toMatch(/run the tests as root; in Docker: docker run --cap-add NET_ADMIN --cap-add SYS_ADMIN --device \/dev\/net\/tun \(or --privileged\)/);
  });
});

describe('netdiag doctor: the "test networks" check', () => {
  it('says whether test networks can be built here, as a warning at most', () => {
    const s = testNetworkSupport();
    const c = doctor().checks.find((x) => x.name === 'test networks');
    expect(c).toBeDefined();
    expect(c!.ok).toBe(s.ok);
    if (s.ok) expect(c!.detail).toMatch(/can build namespaces/);
    else expect(c).toMatchObject({ warning: true, fix: s.fix });
  });
});
