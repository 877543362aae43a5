// netdiag serve as a user without privileges (uid 65534, no capabilities) inside a network
// namespace whose ping_group_range admits every group: ping sockets, the same series, /probe
// and a reload that needs new sockets (ping sockets open without privilege).
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { worldReadableRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useLoopbackNamespace } from '../helpers/topology.js';

const NOBODY = { uid: 65534, noNewPrivs: true };

describeWith(['root', 'tool:ip', 'tool:setpriv'], 'serve as an unprivileged user (ping sockets)', () => {
  const net = useLoopbackNamespace();

  it('probes over ping sockets, answers /probe and reloads to sockets of a new kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-serve-nobody-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'serve.yml');
    writeFileSync(file, 'targets:\n  - hosts: [127.0.0.1, "::1"]\n    interval: 100ms\nprobe:\n  allow: [127.0.0.0/8]\n');
    const cli = join(worldReadableRoot(), 'bin/netdiag.js');
    const serve = net.start(net.ns, process.execPath, [cli, 'serve', '--listen', '127.0.0.1:9374', '--config', file], { user: NOBODY, timeoutMs: 120_000 });
    const get = async (path: string, method = 'GET'): Promise<string> => {
      const r = await net.run(net.ns, process.execPath, ['-e', `fetch('http://127.0.0.1:9374${path}', {method: '${method}'}).then(async r => process.stdout.write(r.status + '\\n' + await r.text()), () => process.exit(1))`]);
      if (r.code !== 0) throw new Error(`GET ${path} failed`);
      return r.stdout;
    };
    try {
      let page = '';
      for (let i = 0; !/netdiag_probe_replies_total\{target="::1"[^}]*\} [1-9]/.test(page); i++) {
        if (i > 40 || serve.child.exitCode !== null) throw new Error('netdiag serve did not come up');
        await new Promise((r) => setTimeout(r, 250));
        page = await get('/metrics').catch(() => '');
      }
      expect(page).toContain('netdiag_socket_mode{mode="dgram"} 1');
      expect(page).toMatch(/netdiag_probe_timeouts_total\{target="127\.0\.0\.1"[^}]*\} 0\n/);
      const probe = await get('/probe?target=127.0.0.2&count=2');
      expect(probe).toMatch(/^200\n/);
      expect(probe).toContain('\nprobe_success 1\n');
      // ttl 9: a socket of a kind not opened before, opened now without privilege
      writeFileSync(file, 'targets:\n  - hosts: [127.0.0.3]\n    interval: 100ms\n    ttl: 9\n');
      expect(await get('/-/reload', 'POST')).toMatch(/^200\n/);
      for (let i = 0; !/netdiag_probe_replies_total\{target="127\.0\.0\.3"[^}]*\} [1-9]/.test(page); i++) {
        if (i > 40) throw new Error('the reloaded target was not probed');
        await new Promise((r) => setTimeout(r, 250));
        page = await get('/metrics');
      }
    } finally {
      serve.kill('SIGTERM');
      const r = await serve.done;
      rmSync(dir, { recursive: true, force: true });
      expect(r.code, r.stderr).toBe(0);
    }
  }, 90_000);
});
