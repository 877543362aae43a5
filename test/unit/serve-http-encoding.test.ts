// /metrics over HTTP: gzip negotiation (when the scraper asks and, by default, only off
// loopback), and pages written from reused chunks arriving byte for byte as rendered, also
// with several scrapes at once sharing the chunks.
import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkPool } from '../../src/serve/chunk-pool.js';
import { exposeChunks, exposeText, type ExpositionFormat } from '../../src/serve/exposition.js';
import { acceptsGzip, createProberServer, isLoopbackAddress, type ProberServerOptions } from '../../src/serve/http-server.js';
import { MetricRegistry } from '../../src/serve/metric-registry.js';
import type { Prober } from '../../src/serve/prober.js';
import { ProbeMetrics } from '../../src/serve/target-metrics.js';

/** A registry with `n` targets' series and some numbers in them (a page of about 3.4 kB a target). */
function registryOf(n: number): MetricRegistry {
  const r = new MetricRegistry();
  const m = new ProbeMetrics(r, false);
  for (let i = 0; i < n; i++) {
    const a = `127.1.${i >> 8}.${i & 255}`;
    const t = m.seriesFor({ host: a, address: a, family: 4, method: 'icmp', labels: {}, source: null, tos: 0 });
    t.sent.value = i;
    t.replies.value = i;
    for (let k = 0; k < i % 7; k++) t.rtt.observe(0.00003 * (k + 1) * (i + 1));
  }
  return r;
}

/** The HTTP layer over a registry (a prober's other parts are not used by /metrics). */
function metricsOnly(r: MetricRegistry): Prober {
  return {
    metricChunks: (format: ExpositionFormat, chunks?: ChunkPool) => exposeChunks([r], format, chunks),
    running: true,
  } as unknown as Prober;
}

interface Scrape {
  encoding: string;
  vary: string | undefined;
  body: string;
}

function scrape(port: number, headers: Record<string, string>): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const encoding = res.headers['content-encoding'] ?? 'identity';
        resolve({ encoding, vary: res.headers.vary, body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString() });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const servers: Array<ReturnType<typeof createProberServer>> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(r: MetricRegistry, options: ProberServerOptions = {}): Promise<number> {
  const s = createProberServer(metricsOnly(r), options);
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as AddressInfo).port;
}

describe('serve /metrics encoding', () => {
  it('reads Accept-Encoding as HTTP does: gzip by name or *, never at q=0', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('*;q=1, gzip;q=0')).toBe(false);
    expect(acceptsGzip('br, x-gzip')).toBe(true);
  });

  it('tells loopback peers from the others', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', '::', undefined]) expect(isLoopbackAddress(a)).toBe(false);
  });

  it('gzips when asked only off loopback by default, always with when-asked, never with never', async () => {
    const r = registryOf(20);
    const page = exposeText([r], 'text');
    const asks = { 'Accept-Encoding': 'gzip' };
    const byDefault = await scrape(await serve(r), asks);
    expect(byDefault).toEqual({ encoding: 'identity', vary: 'Accept-Encoding', body: page });
    const whenAsked = await serve(r, { gzip: 'when-asked' });
    expect(await scrape(whenAsked, asks)).toEqual({ encoding: 'gzip', vary: 'Accept-Encoding', body: page });
    expect((await scrape(whenAsked, {})).encoding).toBe('identity');
    expect((await scrape(whenAsked, { 'Accept-Encoding': 'gzip;q=0' })).encoding).toBe('identity');
    expect((await scrape(await serve(r, { gzip: 'never' }), asks)).encoding).toBe('identity');
  });

  it('sends pages of many reused chunks whole, one scrape after another and several at once', async () => {
    // ~3.4 MB a page: more chunks than the writer queues before it waits for the client
    const r = registryOf(1000);
    const text = exposeText([r], 'text');
    const om = exposeText([r], 'openmetrics');
    for (const gzip of ['never', 'when-asked'] as const) {
      const port = await serve(r, { gzip });
      const prom = { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5', 'Accept-Encoding': 'gzip' };
      for (let i = 0; i < 2; i++) expect((await scrape(port, prom)).body === om).toBe(true);
      const at = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => scrape(port, i % 2 ? prom : {})));
      at.forEach((s, i) => expect(s.body === (i % 2 ? om : text)).toBe(true));
    }
  });

  it('renders the same page from a pool as from fresh chunks', () => {
    const r = registryOf(300);
    const pool = new ChunkPool(4096, 4);
    for (const format of ['text', 'openmetrics'] as const) {
      const parts: string[] = [];
      // each chunk read, then handed back before the next is made: the writer must never reuse one it handed out
      for (const c of exposeChunks([r], format, pool)) {
        parts.push(c.toString());
        pool.give(c);
      }
      expect(parts.length).toBeGreaterThan(100);
      expect(parts.join('') === exposeText([r], format)).toBe(true);
    }
  });

  it('keeps only whole chunks of its own size, each once, up to its bound', () => {
    const pool = new ChunkPool(1024, 2);
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    expect(a.length).toBe(1024);
    pool.give(a.subarray(0, 10));
    pool.give(a.subarray(0, 10));
    pool.give(b.subarray(5));
    pool.give(Buffer.alloc(2048));
    pool.give(c);
    pool.give(pool.take());
    // a (once) and c came back; b's view did not start at its start, the 2 kB buffer is not the pool's
    const again = [pool.take(), pool.take()].map((x) => x.buffer);
    expect(new Set(again)).toEqual(new Set([a.buffer, c.buffer]));
    expect(pool.take().buffer).not.toBe(b.buffer);
    // three back, two kept
    const three = [pool.take(), pool.take(), pool.take()];
    for (const x of three) pool.give(x);
    const kept = new Set(three.map((x) => x.buffer));
    expect([pool.take(), pool.take(), pool.take()].filter((x) => kept.has(x.buffer))).toHaveLength(2);
  });
});
