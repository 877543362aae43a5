// A real Prometheus (Debian's `prometheus` binary, started directly, never its service) on a
// loopback port with its TSDB in a tmp dir, scraping what a test tells it to every second;
// and the small pieces the serve tests share: a free loopback port, waiting for a condition,
// and reading one sample out of an exposition page.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type RunningProcess } from './process.js';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves once `what()` is true (checked every 100 ms); rejects after `ms` naming `label`. */
export async function waitFor(label: string, what: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await what()) return;
    } catch {
      // not there yet (connection refused while a server starts)
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The value of the first sample whose line starts with `prefix` (NaN when none does). */
export function sampleValue(page: string, prefix: string): number {
  const line = page.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export class Prometheus {
  private constructor(
    readonly url: string,
    private readonly proc: RunningProcess,
    private readonly dir: string,
  ) {}

  /** Starts Prometheus with these scrape_configs (YAML text, indented as list items under scrape_configs:). */
  static async start(scrapeConfigs: string): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-prom-'));
    const port = await freePort();
    const config = `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${scrapeConfigs}`;
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const proc = startProcess('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { timeoutMs: 600_000 });
    const p = new Prometheus(`http://127.0.0.1:${port}`, proc, dir);
    try {
      await waitFor('Prometheus to be ready', async () => (await fetch(`${p.url}/-/ready`)).ok, 30_000);
    } catch (e) {
      await p.stop();
      const r = await proc.done;
      throw new Error(`${(e as Error).message}: ${r.stderr.slice(-2000)}`);
    }
    return p;
  }

  /** An instant query's vector. */
  async query(promql: string): Promise<PromSeries[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data?: { result: PromSeries[] }; error?: string };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data!.result;
  }

  /** The scrape targets' health as Prometheus sees it. */
  async targets(): Promise<Array<{ health: string; lastError: string; scrapeUrl: string; labels: Record<string, string> }>> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    const body = (await res.json()) as { data: { activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string; labels: Record<string, string> }> } };
    return body.data.activeTargets;
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    await this.proc.done;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
