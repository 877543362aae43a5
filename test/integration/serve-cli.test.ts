// `netdiag serve` as users run it: bad flags, HTTP endpoints and their limits, reload by SIGHUP
// and POST /-/reload (a bad config refused with the reason, the running one kept), ten
// scrapers at once, SIGTERM while probing (exit 0, listener closed), and --gzip deciding
// whether a loopback scraper that asks for gzip gets it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { icmpAccess } from '../../src/privileges.js';
import { cliPath } from '../helpers/built-package.js';
import { runProcess, startProcess, type RunningProcess } from '../helpers/process.js';
import { sampleValue, waitFor } from '../helpers/prometheus.js';
import { describeWith } from '../helpers/requirements.js';

const access = icmpAccess();
const reqs = access.raw.allowed || access.dgram.allowed ? [] : (['net_raw'] as const);

describeWith([], 'serve command line', () => {
  it.each([
    [['serve'], /^netdiag: nothing to probe \(give --config FILE or --target HOST\)\n$/],
    [['serve', '--target', '127.0.0.1', '--listen', '127.0.0.1'], /^netdiag: option --listen needs ADDR:PORT, got '127\.0\.0\.1' \(e\.g\./],
    [['serve', '--target', '127.0.0.1', '--listen', '127.0.0.1:70000'], /port 70000 is above 65535/],
    [['serve', '--target', '127.0.0.1', '--compat', 'blackbox'], /option --compat must be one of smokeping/],
    [['serve', '--target', '127.0.0.1', '--gzip', 'yes'], /^netdiag: option --gzip must be one of remote, when-asked, never, got 'yes' \(e\.g\. netdiag serve --gzip when-asked\)\n$/],
    [['serve', '--target', '10.0.0.0/8'], /^netdiag: option --target '10\.0\.0\.0\/8': 10\.0\.0\.0\/8 holds 16777214 addresses, more than the 65536 one block may expand to/],
    [['serve', '--target', 'bad host'], /^netdiag: option --target 'bad host': the host /],
    [['serve', '--config', '/nonexistent/serve.yml'], /\/nonexistent\/serve\.yml: cannot be read \(ENOENT\)/],
    [['serve', '127.0.0.1'], /unexpected argument '127\.0\.0\.1' \(give hosts with --target HOST/],
  ])('refuses %j with one line and exit 2', async (argv, message) => {
    const r = await runProcess(process.execPath, [cliPath(), ...argv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

interface Reply {
  status: number;
  /** the body as sent (gzipped when encoding says so) */
  raw: Buffer;
  body: string;
  type: string;
  encoding: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const encoding = res.headers['content-encoding'] ?? 'identity';
        const body = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString();
        resolve({ status: res.statusCode!, raw, body, type: String(res.headers['content-type']), encoding });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

interface Serve {
  proc: RunningProcess;
  port: number;
  /** what it wrote on stderr so far */
  stderr(): string;
}

/** `netdiag serve ARGS` on an ephemeral 127.0.0.1 port, once /-/ready answers 200. */
async function startServe(args: string[]): Promise<Serve> {
  const proc = startProcess(process.execPath, [cliPath(), 'serve', '--listen', '127.0.0.1:0', ...args], { timeoutMs: 300_000 });
  let stderr = '';
  proc.child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  let port = 0;
  let exited = false;
  void proc.done.then(() => void (exited = true));
  await waitFor('netdiag serve to say where it listens', () => {
    port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1] ?? 0);
    return port > 0 || exited;
  });
  if (port === 0) throw new Error(`netdiag serve ${args.join(' ')} ended before listening: ${stderr}`);
  await waitFor('netdiag serve to be ready', async () => (await get(port, '/-/ready')).status === 200);
  return { proc, port, stderr: () => stderr };
}

async function stopServe(serve: Serve | undefined): Promise<void> {
  serve?.proc.kill('SIGKILL');
  await serve?.proc.done;
}

describeWith([...reqs], 'serve over HTTP', () => {
  let dir = '';
  let port = 0;
  let started: Serve | undefined;
  let serve: RunningProcess;
  const configFile = (): string => join(dir, 'serve.json');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-serve-cli-'));
    writeFileSync(configFile(), JSON.stringify({ targets: [{ hosts: ['127.0.0.10'], interval: '100ms' }], probe: { allow: ['127.0.0.1'] } }));
    started = await startServe(['--config', configFile()]);
    ({ port, proc: serve } = started);
  });

  afterAll(async () => {
    await stopServe(started);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the health endpoints and negotiates the format', async () => {
    expect(await get(port, '/-/healthy')).toMatchObject({ status: 200, body: 'Healthy\n' });
    expect(await get(port, '/-/ready')).toMatchObject({ status: 200 });
    const text = await get(port, '/metrics');
    expect(text.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.body).not.toContain('# EOF');
    const om = await get(port, '/metrics', { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    expect(om.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toContain('# TYPE netdiag_probes_sent counter\n');
    // without --gzip (remote): a loopback scraper gets no gzip even when it asks
    expect((await get(port, '/metrics', { 'Accept-Encoding': 'gzip' })).encoding).toBe('identity');
    expect((await get(port, '/nope')).status).toBe(404);
    expect((await get(port, '/metrics', {}, 'POST')).status).toBe(405);
    expect((await get(port, '/-/reload')).status).toBe(405);
  });

  it('bounds requests and refuses probes outside the allow-list with the reason', async () => {
    expect((await get(port, `/probe?target=${'1'.repeat(5000)}`)).status).toBe(414);
    const refused = await get(port, '/probe?target=127.0.0.2');
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('target 127.0.0.2 is not inside probe.allow of the config\n');
    const ok = await get(port, '/probe?target=127.0.0.1&count=2', { 'X-Prometheus-Scrape-Timeout-Seconds': '3' });
    expect(ok.status).toBe(200);
    expect(sampleValue(ok.body, 'probe_success')).toBe(1);
    expect(sampleValue(ok.body, 'probe_icmp_packets_received')).toBe(2);
  });

  it('serves ten scrapers at once, each a whole page', async () => {
    const pages = await Promise.all(Array.from({ length: 10 }, () => get(port, '/metrics')));
    for (const p of pages) {
      expect(p.status).toBe(200);
      expect(sampleValue(p.body, 'netdiag_probes_sent_total{target="127.0.0.10"')).toBeGreaterThan(0);
      expect(p.body.trimEnd().split('\n').at(-1)).toMatch(/^netdiag_probe_reply_ttl\{/);
    }
  });

  it('reloads on POST /-/reload and SIGHUP; a bad config is refused and the running one kept', async () => {
    writeFileSync(configFile(), JSON.stringify({ targets: [{ hosts: ['127.0.0.11'], interval: '100ms' }], probe: { allow: ['127.0.0.1'] } }));
    expect(await get(port, '/-/reload', {}, 'POST')).toMatchObject({ status: 200 });
    await waitFor('the new target', async () => sampleValue((await get(port, '/metrics')).body, 'netdiag_probe_replies_total{target="127.0.0.11"') > 0);
    expect((await get(port, '/metrics')).body).not.toContain('target="127.0.0.10"');

    writeFileSync(configFile(), '{"targets": [{"hosts": ["127.0.0.12"],\n "intervall": "1s"}]}');
    const bad = await get(port, '/-/reload', {}, 'POST');
    expect(bad.status).toBe(500);
    expect(bad.body).toContain(`${configFile()}:2: unknown key 'intervall' in targets[0]`);
    const page = (await get(port, '/metrics')).body;
    expect(sampleValue(page, 'netdiag_config_last_reload_successful')).toBe(0);
    expect(page).toContain('target="127.0.0.11"');

    if (access.raw.allowed) {
      // raw mode: a socket of a new kind cannot be opened once the capabilities are dropped
      writeFileSync(configFile(), JSON.stringify({ targets: [{ hosts: ['127.0.0.12'], interval: '100ms', ttl: 9 }] }));
      const refused = await get(port, '/-/reload', {}, 'POST');
      expect(refused.status).toBe(500);
      expect(refused.body).toMatch(/needs an IPv4 socket with ttl 9 that cannot be opened now \(.*\); restart netdiag serve to use it/);
      expect((await get(port, '/metrics')).body).toContain('target="127.0.0.11"');
      writeFileSync(configFile(), '{"targets": [{"hosts": ["127.0.0.12"],\n "intervall": "1s"}]}');
    }

    serve.kill('SIGHUP');
    await waitFor('the SIGHUP refusal on stderr', () => started!.stderr().includes("reload refused, the running config is kept: " + configFile() + ":2: unknown key 'intervall'"));
    writeFileSync(configFile(), JSON.stringify({ targets: [{ hosts: ['127.0.0.13'], interval: '100ms' }] }));
    serve.kill('SIGHUP');
    await waitFor('the target of the SIGHUP reload', async () => sampleValue((await get(port, '/metrics')).body, 'netdiag_probe_replies_total{target="127.0.0.13"') > 0);
    expect(sampleValue((await get(port, '/metrics')).body, 'netdiag_config_last_reload_successful')).toBe(1);
  });

  it('stops on SIGTERM while probing: exit 0, listener closed', async () => {
    const before = sampleValue((await get(port, '/metrics')).body, 'netdiag_probes_sent_total{target="127.0.0.13"');
    expect(before).toBeGreaterThan(0);
    serve.kill('SIGTERM');
    const r = await serve.done;
    expect(r.code).toBe(0);
    await expect(get(port, '/-/healthy')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describeWith([...reqs], 'serve --gzip', () => {
  const running: Serve[] = [];
  afterAll(async () => {
    await Promise.all(running.map(stopServe));
  });
  const start = async (policy: string): Promise<Serve> => {
    const s = await startServe(['--target', '127.0.0.10', '--gzip', policy]);
    running.push(s);
    return s;
  };
  const asksForGzip = { 'Accept-Encoding': 'gzip' };

  it('never: a scraper that asks for gzip gets the page as it is', async () => {
    const { port } = await start('never');
    const page = await get(port, '/metrics', asksForGzip);
    expect(page.status).toBe(200);
    expect(page.encoding).toBe('identity');
    expect(page.raw.toString()).toContain('netdiag_probes_sent_total{target="127.0.0.10"');
  });

  it('when-asked: a loopback scraper that asks gets gzip, one that does not gets the page as it is', async () => {
    const { port } = await start('when-asked');
    const page = await get(port, '/metrics', asksForGzip);
    expect(page.status).toBe(200);
    expect(page.encoding).toBe('gzip');
    expect(page.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(page.body).toContain('netdiag_probes_sent_total{target="127.0.0.10"');
    expect((await get(port, '/metrics')).encoding).toBe('identity');
  });
});
