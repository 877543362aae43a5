// A real Prometheus scraping `netdiag serve` every second: /metrics directly and /probe through
// blackbox_exporter's relabelling pattern. Prometheus negotiates OpenMetrics, so a clean scrape
// also says the OpenMetrics page parses. A third job scrapes a library server that gzips for
// loopback scrapers too: Prometheus asks for gzip and must read the page gzipped.
import { once } from 'node:events';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { icmpAccess } from '../../src/privileges.js';
import { createProberServer } from '../../src/serve/http-server.js';
import { createProber, type Prober } from '../../src/serve/prober.js';
import { cliPath } from '../helpers/built-package.js';
import { startProcess, type RunningProcess } from '../helpers/process.js';
import { freePort, Prometheus, waitFor } from '../helpers/prometheus.js';
import { describeWith } from '../helpers/requirements.js';

const access = icmpAccess();
const reqs = access.raw.allowed || access.dgram.allowed ? [] : (['net_raw'] as const);

describeWith([...reqs, 'tool:prometheus'], 'serve scraped by a real Prometheus', () => {
  let dir = '';
  let serve: RunningProcess | null = null;
  let prom: Prometheus | null = null;
  let servePort = 0;
  let gzipProber: Prober | null = null;
  let gzipServer: Server | null = null;
  /** Accept-Encoding of each /metrics request the gzip server had, and the encoding it answered with */
  const gzipScrapes: Array<[string | undefined, unknown]> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-serve-prom-'));
    servePort = await freePort();
    writeFileSync(join(dir, 'serve.yml'), [
      'targets:',
      '  - hosts: [127.0.0.1, "::1"]',
      '    interval: 200ms',
      '    labels: {group: web}',
      'probe:',
      '  allow: [127.0.0.0/8]',
      '  modules:',
      '    icmp: {count: 3, interval: 50ms, timeout: 900ms}',
    ].join('\n'));
    serve = startProcess(process.execPath, [cliPath(), 'serve', '--listen', `127.0.0.1:${servePort}`, '--config', join(dir, 'serve.yml'), '--compat', 'smokeping'], { timeoutMs: 300_000 });
    await waitFor('netdiag serve to be ready', async () => (await fetch(`http://127.0.0.1:${servePort}/-/ready`)).ok);
    gzipProber = createProber({ targets: [{ hosts: ['127.0.0.4'], interval: '200ms' }] });
    await gzipProber.start();
    gzipServer = createProberServer(gzipProber, { gzip: 'when-asked' });
    gzipServer.on('request', (req, res) => res.on('finish', () => gzipScrapes.push([req.headers['accept-encoding'], res.getHeader('content-encoding')])));
    gzipServer.listen(0, '127.0.0.1');
    await once(gzipServer, 'listening');
    const gzipPort = (gzipServer.address() as AddressInfo).port;
    prom = await Prometheus.start([
      '  - job_name: netdiag',
      `    static_configs: [{targets: ["127.0.0.1:${servePort}"]}]`,
      '  - job_name: blackbox',
      '    metrics_path: /probe',
      '    params: {module: [icmp]}',
      '    static_configs: [{targets: ["127.0.0.2", "127.0.0.3"]}]',
      '    relabel_configs:',
      '      - {source_labels: [__address__], target_label: __param_target}',
      '      - {source_labels: [__param_target], target_label: instance}',
      `      - {target_label: __address__, replacement: "127.0.0.1:${servePort}"}`,
      '  - job_name: gzip',
      `    static_configs: [{targets: ["127.0.0.1:${gzipPort}"]}]`,
      '',
    ].join('\n'));
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    gzipServer?.close();
    await gzipProber?.stop();
    serve?.kill('SIGTERM');
    const r = await serve?.done;
    if (r && r.code !== 0) console.error(r.stderr);
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes /metrics: up == 1 after two scrapes, netdiag and smokeping series with their labels', async () => {
    await waitFor('two successful scrapes', async () => {
      const r = await prom!.query('sum_over_time(up{job="netdiag"}[1m])');
      return r.length === 1 && Number(r[0]!.value[1]) >= 2;
    }, 30_000);
    const health = (await prom!.targets()).filter((t) => t.labels.job === 'netdiag');
    expect(health.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
    const replies = await prom!.query('netdiag_probe_replies_total{job="netdiag"} > 0');
    const labels = replies.map((s) => { const { __name__, instance, job, ...rest } = s.metric; return rest; })
      .sort((a, b) => Number(a.family) - Number(b.family));
    expect(labels).toEqual([
      { target: '127.0.0.1', address: '127.0.0.1', family: '4', method: 'icmp', group: 'web' },
      { target: '::1', address: '::1', family: '6', method: 'icmp', group: 'web' },
    ]);
    const compat = await prom!.query('smokeping_requests_total{job="netdiag"}');
    // source="" as smokeping_prober writes it; Prometheus stores an empty label as no label
    expect(compat.map((s) => [s.metric.host, s.metric.ip, 'source' in s.metric, s.metric.tos, s.metric.group]).sort())
      .toEqual([['127.0.0.1', '127.0.0.1', false, '0', 'web'], ['::1', '::1', false, '0', 'web']]);
    const buckets = await prom!.query('smokeping_response_duration_seconds_bucket{job="netdiag",host="127.0.0.1"}');
    // smokeping_prober's 20 bounds with client_golang's spelling, and +Inf
    const les = new Set(buckets.map((s) => s.metric.le));
    expect(les.size).toBe(21);
    for (const le of ['5e-05', '0.0001', '0.0512', '26.2144', '+Inf']) expect(les.has(le)).toBe(true);
    const loss = await prom!.query('sum(netdiag_probe_timeouts_total{job="netdiag"})');
    expect(Number(loss[0]!.value[1])).toBe(0);
  }, 60_000);

  it('reads /metrics gzipped: Prometheus asks for gzip and gets it', async () => {
    await waitFor('two successful gzip scrapes', async () => {
      const r = await prom!.query('sum_over_time(up{job="gzip"}[1m])');
      return r.length === 1 && Number(r[0]!.value[1]) >= 2;
    }, 30_000);
    expect((await prom!.targets()).filter((t) => t.labels.job === 'gzip').map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
    expect(gzipScrapes.length).toBeGreaterThanOrEqual(2);
    for (const [asked, answered] of gzipScrapes) expect([asked, answered]).toEqual(['gzip', 'gzip']);
    const replies = await prom!.query('netdiag_probe_replies_total{job="gzip"} > 0');
    expect(replies.map((s) => s.metric.target)).toEqual(['127.0.0.4']);
  }, 60_000);

  it('scrapes /probe through blackbox-style relabelling', async () => {
    await waitFor('two probe scrapes per target', async () => {
      const r = await prom!.query('sum_over_time(up{job="blackbox"}[1m]) >= 2');
      return r.length === 2;
    }, 30_000);
    const success = await prom!.query('probe_success{job="blackbox"}');
    expect(success.map((s) => [s.metric.instance, s.value[1]]).sort()).toEqual([['127.0.0.2', '1'], ['127.0.0.3', '1']]);
    const sent = await prom!.query('probe_icmp_packets_sent{job="blackbox"}');
    expect(sent.map((s) => s.value[1])).toEqual(['3', '3']);
    const health = (await prom!.targets()).filter((t) => t.labels.job === 'blackbox');
    expect(health.every((t) => t.health === 'up' && t.lastError === '')).toBe(true);
  }, 60_000);
});
