// createProber on real sockets over loopback: series per target with the right labels, the
// smokeping_prober twins, /probe's allow-list, reload good and bad, and output that promtool
// accepts.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createProber, type Prober } from '../../src/serve/prober.js';
import { parseConfigText } from '../../src/serve/config.js';
import { icmpAccess } from '../../src/privileges.js';
import { describeWith } from '../helpers/requirements.js';

const canPing = (): boolean => {
  const a = icmpAccess();
  return a.raw.allowed || a.dgram.allowed;
};

let prober: Prober | null = null;
afterEach(async () => {
  await prober?.stop();
  prober = null;
});

/** The value of the one sample whose line starts with `prefix`, or NaN. */
function sample(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWith(canPing() ? [] : ['net_raw'], 'serve prober on loopback', () => {
  it('probes every interval and exports native and smokeping series per target', async () => {
    const config = parseConfigText([
      'targets:',
      '- hosts: [127.0.0.1, 127.0.0.2]',
      '  interval: 100ms',
      '  labels: {dc: "lab \\"1\\""}',
    ].join('\n'));
    prober = createProber(config, { compat: 'smokeping' });
    await prober.start();
    const key = 'target="127.0.0.1",address="127.0.0.1",family="4",method="icmp",dc="lab \\"1\\""';
    await until(() => sample(prober!.metrics(), `netdiag_probe_replies_total{${key}}`) >= 5);
    const text = prober.metrics();
    const sent = sample(text, `netdiag_probes_sent_total{${key}}`);
    const replies = sample(text, `netdiag_probe_replies_total{${key}}`);
    expect(replies).toBeGreaterThanOrEqual(5);
    expect(sent - replies).toBeLessThanOrEqual(1); // one may be in flight
    expect(sample(text, `netdiag_probe_timeouts_total{${key}}`)).toBe(0);
    expect(sample(text, `netdiag_probe_rtt_seconds_count{${key}}`)).toBe(replies);
    expect(sample(text, `netdiag_probe_rtt_seconds_bucket{${key},le="+Inf"}`)).toBe(replies);
    const compat = 'dc="lab \\"1\\"",host="127.0.0.1",ip="127.0.0.1",source="",tos="0"';
    expect(sample(text, `smokeping_requests_total{${compat}}`)).toBe(sent);
    expect(sample(text, `smokeping_response_duration_seconds_bucket{${compat},le="5e-05"}`)).toBeGreaterThanOrEqual(0);
    expect(sample(text, `smokeping_response_duration_seconds_count{${compat}}`)).toBe(replies);
    expect(sample(text, `netdiag_socket_mode{mode="${prober.socketMode}"}`)).toBe(1);
    expect(sample(text, 'netdiag_targets')).toBe(2);
    if (prober.socketMode === 'raw') expect(sample(text, `netdiag_probe_reply_ttl{${key}}`)).toBe(64);
  });

  it('probes a name at the address it resolves to (localhost, from /etc/hosts)', async () => {
    prober = createProber({ targets: [{ hosts: ['localhost'], network: 'ip4', interval: '100ms', resolve_interval: '1s' }] });
    const warnings: string[] = [];
    prober.on('warning', (m: string) => warnings.push(m));
    await prober.start();
    const key = 'netdiag_probe_replies_total{target="localhost",address="127.0.0.1",family="4",method="icmp"}';
    await until(() => sample(prober!.metrics(), key) >= 2);
    expect(warnings).toEqual([]);
  });

  it('answers /probe inside the allow-list only, with count and loss', async () => {
    prober = createProber(parseConfigText([
      'probe:',
      '  allow: [127.0.0.0/8]',
      '  modules:',
      '    icmp: {count: 1, timeout: 2s}',
      '    icmp3: {count: 3, interval: 100ms, timeout: 1s}',
    ].join('\n')));
    await prober.start();
    const ok = await prober.probe({ target: '127.0.0.3', module: 'icmp3', count: null, scrapeTimeout: '10' });
    expect(ok.status).toBe(200);
    expect(sample(ok.body, 'probe_success')).toBe(1);
    expect(sample(ok.body, 'probe_icmp_packets_sent')).toBe(3);
    expect(sample(ok.body, 'probe_icmp_packets_received')).toBe(3);
    expect(sample(ok.body, 'probe_icmp_loss_ratio')).toBe(0);
    expect(sample(ok.body, 'probe_ip_protocol')).toBe(4);
    expect(sample(ok.body, 'probe_icmp_duration_seconds{phase="rtt"}')).toBeGreaterThan(0);
    const counted = await prober.probe({ target: '127.0.0.3', module: null, count: '2', scrapeTimeout: null });
    expect(sample(counted.body, 'probe_icmp_packets_sent')).toBe(2);
    const refused = await prober.probe({ target: '::1', module: 'icmp', count: null, scrapeTimeout: null });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('not inside probe.allow');
    const name = await prober.probe({ target: 'localhost', module: 'icmp', count: null, scrapeTimeout: null });
    expect(name.status).toBe(403);
    expect((await prober.probe({ target: null, module: null, count: null, scrapeTimeout: null })).status).toBe(400);
    expect((await prober.probe({ target: '127.0.0.1', module: 'nope', count: null, scrapeTimeout: null })).status).toBe(400);
    expect((await prober.probe({ target: '127.0.0.1', module: 'icmp', count: '1000', scrapeTimeout: null })).status).toBe(400);
  });

  it('reloads a good config and refuses a bad one, keeping the running one', async () => {
    prober = createProber({ targets: [{ hosts: ['127.0.0.4'], interval: '100ms' }] });
    await prober.start();
    await until(() => prober!.metrics().includes('netdiag_probe_replies_total{target="127.0.0.4"'));
    await expect(prober.reload({ targets: [{ hosts: ['127.0.0.5'], interval: '100ms', colour: 'red' }] })).rejects.toThrow(/unknown key 'colour'/);
    expect(sample(prober.metrics(), 'netdiag_config_last_reload_successful')).toBe(0);
    expect(prober.config.targets[0]!.hostTexts).toEqual(['127.0.0.4']);
    await prober.reload({ targets: [{ hosts: ['127.0.0.5'], interval: '100ms' }] });
    await until(() => sample(prober!.metrics(), 'netdiag_probe_replies_total{target="127.0.0.5",address="127.0.0.5",family="4",method="icmp"}') >= 2);
    const text = prober.metrics();
    expect(text).not.toContain('target="127.0.0.4"');
    expect(sample(text, 'netdiag_config_last_reload_successful')).toBe(1);
  });

  it('probes TCP targets (open and closed ports) and answers tcp /probe modules', async () => {
    const server = createServer((c) => c.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const open = (server.address() as AddressInfo).port;
    // a port nobody listens on: bound and closed again
    const gone = createServer();
    gone.listen(0, '127.0.0.1');
    await once(gone, 'listening');
    const closed = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    try {
      prober = createProber({
        targets: [{ hosts: ['127.0.0.1'], method: 'tcp', port: open, interval: '100ms' }, { hosts: ['127.0.0.1'], method: 'tcp', port: closed, interval: '100ms', labels: { port: String(closed) } }],
        probe: { allow: ['127.0.0.1'], modules: { up: { method: 'tcp', port: open }, down: { method: 'tcp', port: closed } } },
      });
      await prober.start();
      const openKey = 'target="127.0.0.1",address="127.0.0.1",family="4",method="tcp"}';
      const closedKey = `target="127.0.0.1",address="127.0.0.1",family="4",method="tcp",port="${closed}"}`;
      await until(() => sample(prober!.metrics(), `netdiag_probe_replies_total{${openKey}`) >= 3 && sample(prober!.metrics(), `netdiag_probe_replies_total{${closedKey}`) >= 3);
      const text = prober.metrics();
      expect(sample(text, `netdiag_probe_tcp_closed_total{${openKey}`)).toBe(0);
      expect(sample(text, `netdiag_probe_tcp_closed_total{${closedKey}`)).toBe(sample(text, `netdiag_probe_replies_total{${closedKey}`));
      expect(sample(text, `netdiag_probe_timeouts_total{${openKey}`)).toBe(0);
      const up = await prober.probe({ target: '127.0.0.1', module: 'up', count: '2', scrapeTimeout: null });
      expect(sample(up.body, 'probe_success')).toBe(1);
      expect(sample(up.body, 'probe_icmp_packets_received')).toBe(2);
      const down = await prober.probe({ target: '127.0.0.1', module: 'down', count: null, scrapeTimeout: null });
      expect(sample(down.body, 'probe_success')).toBe(0);
    } finally {
      server.close();
    }
  });

  describeWith(['tool:promtool'], 'promtool', () => {
    it('accepts /metrics and /probe output', async () => {
      prober = createProber({ targets: [{ hosts: ['127.0.0.1', '::1'], interval: '50ms', labels: { path: 'a\\b\nc' } }], probe: { allow: ['127.0.0.1'] } }, { compat: 'smokeping' });
      await prober.start();
      await until(() => /netdiag_probe_replies_total\{target="::1"[^}]*\} [1-9]/.test(prober!.metrics()));
      for (const body of [prober.metrics('text'), (await prober.probe({ target: '127.0.0.1', module: null, count: null, scrapeTimeout: null })).body]) {
        const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
        // neither a format error nor a lint complaint
        expect(r.stdout + r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
    });
  });
});
