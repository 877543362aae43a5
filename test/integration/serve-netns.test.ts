// netdiag serve across a namespace chain: loss injected with nftables on the router shows up in
// the timeout counters exactly (the rule's own counter), per family, while the other counters
// stay consistent (sent = replies + timeouts + what is still in flight); and /metrics gzipped
// for a scraper off loopback (the router) unless --gzip never.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useTopology } from '../helpers/topology.js';

describeWith(['root', 'tool:ip', 'tool:nft'], 'serve across a namespace chain', () => {
  const net = useTopology({ routers: 1 });

  it('counts exactly the probes nftables dropped', async () => {
    const port = 19374;
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-serve-netns-'));
    const file = join(dir, 'serve.json');
    writeFileSync(file, JSON.stringify({ targets: [{ hosts: [net.target.v4, net.target.v6], interval: '20ms', timeout: '400ms' }] }));
    const serve = net.start(net.source, process.execPath, [cliPath(), 'serve', '--listen', `127.0.0.1:${port}`, '--config', file], { timeoutMs: 120_000 });
    const scrape = async (): Promise<string> => {
      const r = await net.run(net.source, process.execPath, ['-e', `fetch('http://127.0.0.1:${port}/metrics').then(r => r.text()).then(t => process.stdout.write(t), () => process.exit(1))`]);
      if (r.code !== 0) throw new Error('scrape failed');
      return r.stdout;
    };
    const value = (page: string, name: string, family: 4 | 6): number => {
      const line = page.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`family="${family}"`));
      return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    try {
      for (let i = 0; ; i++) {
        try {
          if (value(await scrape(), 'netdiag_probe_replies_total', 6) > 0) break;
        } catch {
          if (i > 40 || serve.child.exitCode !== null) throw new Error('netdiag serve did not come up');
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const v4 = await net.addLoss(net.routers[0]!, 30, { family: 'ipv4', match: 'icmp type echo-request' });
      const v6 = await net.addLoss(net.routers[0]!, 30, { family: 'ipv6', match: 'icmpv6 type echo-request' });
      await new Promise((r) => setTimeout(r, 3000));
      // freeze the prober: nothing more is sent, so the drop counters are final
      serve.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 200));
      const dropped4 = (await net.counter(net.routers[0]!, v4)).packets;
      const dropped6 = (await net.counter(net.routers[0]!, v6)).packets;
      await net.resetRules();
      serve.kill('SIGCONT');
      // every dropped probe has timed out (400 ms); no probe sent since can be lost
      await new Promise((r) => setTimeout(r, 1500));
      const page = await scrape();
      expect(dropped4).toBeGreaterThan(10);
      expect(dropped6).toBeGreaterThan(10);
      expect(value(page, 'netdiag_probe_timeouts_total', 4)).toBe(dropped4);
      expect(value(page, 'netdiag_probe_timeouts_total', 6)).toBe(dropped6);
      for (const f of [4, 6] as const) {
        const inFlight = value(page, 'netdiag_probes_sent_total', f) - value(page, 'netdiag_probe_replies_total', f) - value(page, 'netdiag_probe_timeouts_total', f);
        expect(inFlight).toBeGreaterThanOrEqual(0);
        expect(inFlight).toBeLessThanOrEqual(1);
        expect(value(page, 'netdiag_probe_late_replies_total', f)).toBe(0);
        // TTL 64 less the router
        expect(value(page, 'netdiag_probe_reply_ttl', f)).toBe(63);
      }
    } finally {
      serve.kill('SIGCONT');
      serve.kill('SIGTERM');
      const r = await serve.done;
      rmSync(dir, { recursive: true, force: true });
      expect(r.code, r.stderr).toBe(0);
    }
  }, 90_000);

  it('gzips /metrics for a scraper off loopback by default, never with --gzip never', async () => {
    // the scraper is the first router: its address on link 1 is not loopback to the server
    const scrape = (port: number) =>
      net.runFunction(net.routers[0]!, async ({ host, port }: { host: string; port: number }) => {
        const { request } = await import('node:http');
        const { gunzipSync } = await import('node:zlib');
        return new Promise<{ encoding: string; sent: boolean }>((resolve, reject) => {
          const req = request({ host, port, path: '/metrics', headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => {
              const encoding = res.headers['content-encoding'] ?? 'identity';
              const raw = Buffer.concat(parts);
              const body = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString();
              resolve({ encoding, sent: body.includes('netdiag_probes_sent_total{') });
            });
          });
          req.on('error', reject);
          req.end();
        });
      }, { host: net.sourceAddress.v4, port });
    const serving = [['remote', 19375], ['never', 19376]] as const;
    const procs = serving.map(([policy, port]) =>
      net.start(net.source, process.execPath, [cliPath(), 'serve', '--listen', `${net.sourceAddress.v4}:${port}`, '--target', net.target.v4, ...(policy === 'remote' ? [] : ['--gzip', policy])], { timeoutMs: 60_000 }));
    try {
      const seen: Record<string, { encoding: string; sent: boolean }> = {};
      for (const [i, [policy, port]] of serving.entries()) {
        for (let tries = 0; ; tries++) {
          try {
            seen[policy] = await scrape(port);
            break;
          } catch {
            if (tries > 40 || procs[i]!.child.exitCode !== null) throw new Error(`netdiag serve --gzip ${policy} did not come up`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      expect(seen).toEqual({ remote: { encoding: 'gzip', sent: true }, never: { encoding: 'identity', sent: true } });
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      for (const p of procs) expect((await p.done).code).toBe(0);
    }
  }, 60_000);
});
