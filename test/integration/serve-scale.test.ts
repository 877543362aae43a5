// netdiag serve with 10,000 loopback targets (127.1.0.0/...): every one probed each second
// without loss, one series per target and family, and the page served whole over HTTP.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { icmpAccess } from '../../src/privileges.js';
import { createProberServer } from '../../src/serve/http-server.js';
import { createProber, type Prober } from '../../src/serve/prober.js';
import { waitFor } from '../helpers/prometheus.js';
import { describeWith } from '../helpers/requirements.js';

const access = icmpAccess();
const reqs = access.raw.allowed || access.dgram.allowed ? [] : (['net_raw'] as const);

function loopbackHosts(n: number): string[] {
  const out: string[] = [];
  for (let i = 1; out.length < n; i++) if ((i & 255) !== 0 && (i & 255) !== 255) out.push(`127.1.${i >> 8}.${i & 255}`);
  return out;
}

/** Per-series values of one family (its lines without the name). */
function values(page: string, name: string): number[] {
  const out: number[] = [];
  for (const line of page.split('\n')) if (line.startsWith(`${name}{`)) out.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  return out;
}

describeWith([...reqs], 'serve with 10,000 loopback targets', () => {
  let prober: Prober | null = null;
  afterAll(async () => {
    await prober?.stop();
  });

  it('probes every target once a second without loss and serves every series', async () => {
    const hosts = loopbackHosts(10_000);
    prober = createProber({ targets: [{ hosts, interval: '1s' }] });
    await prober.start();
    const server = createProberServer(prober);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      await waitFor('three rounds of replies from every target', () => Math.min(...values(prober!.metrics(), 'netdiag_probe_replies_total')) >= 3, 30_000);
      const res = await fetch(url);
      const page = await res.text();
      expect(res.status).toBe(200);
      const sent = values(page, 'netdiag_probes_sent_total');
      const replies = values(page, 'netdiag_probe_replies_total');
      expect(sent).toHaveLength(10_000);
      expect(replies).toHaveLength(10_000);
      expect(values(page, 'netdiag_probe_timeouts_total').reduce((a, b) => a + b, 0)).toBe(0);
      expect(values(page, 'netdiag_probe_rtt_seconds_bucket')).toHaveLength(10_000 * 21);
      // once a second each: after n rounds, n or n + 1 sent, at most the last one unanswered
      for (let i = 0; i < sent.length; i++) expect(sent[i]! - replies[i]!).toBeLessThanOrEqual(1);
      expect(Math.max(...sent) - Math.min(...sent)).toBeLessThanOrEqual(1);
      expect(page).toContain('\nnetdiag_targets 10000\n');
      for (const h of [hosts[0]!, hosts[9_999]!]) expect(page).toContain(`netdiag_probes_sent_total{target="${h}",address="${h}",family="4",method="icmp"}`);
    } finally {
      server.close();
    }
  }, 90_000);
});
