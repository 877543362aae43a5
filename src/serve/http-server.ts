// The prober's HTTP face on node:http: /metrics (text 0.0.4 or OpenMetrics by Accept; gzip for
// a scraper that asks, by default only off loopback), /probe (blackbox-style), /-/healthy,
// /-/ready, POST /-/reload. Requests are bounded (URL length, header size, no bodies, time
// limits) so a client cannot make the exporter hold memory.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { ChunkPool } from './chunk-pool.js';
import { CHUNK_BYTES, CONTENT_TYPES, negotiateFormat } from './exposition.js';
import type { Prober } from './prober.js';

/** Longest request target (path and query) answered. */
export const MAX_URL_LENGTH = 4096;
/** Bytes of a page queued for a client before the writer waits for it to take them. */
const BUFFERED_BEFORE_WAITING = 1 << 20;

/** Whether a peer address is on loopback (IPv4 127/8, ::1, or 127/8 mapped into IPv6). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** Whether Accept-Encoding takes gzip (by name or *, with a q above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | null = null;
  let any: number | null = null;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') any = Math.max(any ?? 0, q);
  }
  return (gzip ?? any ?? 0) > 0;
}
/** Largest body read (POST /-/reload takes none; anything bigger is refused). */
const MAX_BODY_BYTES = 4096;

export interface ProberServerOptions {
  /** re-reads the config (the CLI's file) and reloads; absent: POST /-/reload answers 400 */
  reload?: () => Promise<void>;
  /**
   * When /metrics is gzipped for a scraper whose Accept-Encoding takes gzip (Prometheus's
   * does): 'remote' (the default) unless the scraper is on loopback, 'when-asked', or 'never'.
   * Measured at 10,000 targets: gzip (level 1) cuts the 33 MB page to 1.4 MB but costs the
   * prober ~90 ms of CPU a scrape, which on loopback buys nothing and lengthens the scrape.
   */
  gzip?: 'remote' | 'when-asked' | 'never';
}

function answer(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** True once the response can take more, false when the client went away first. */
function drained(res: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

const LANDING = `<html><head><title>netdiag serve</title></head><body><h1>netdiag serve</h1>
<ul><li><a href="/metrics">/metrics</a></li><li><a href="/probe?target=127.0.0.1&amp;module=icmp">/probe?target=&amp;module=[&amp;count=]</a></li>
<li><a href="/-/healthy">/-/healthy</a></li><li><a href="/-/ready">/-/ready</a></li></ul></body></html>\n`;

/** An http.Server answering for `prober` (not listening yet). */
export function createProberServer(prober: Prober, options: ProberServerOptions = {}): Server {
  // enough chunks for the bytes one page keeps queued, plus the one being filled
  const chunks = new ChunkPool(CHUNK_BYTES, Math.ceil(BUFFERED_BEFORE_WAITING / CHUNK_BYTES) + 2);
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: 10_000 }, (req, res) => {
    handle(prober, options, chunks, req, res).catch((e: unknown) => {
      if (!res.headersSent) answer(res, 500, `${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.maxRequestsPerSocket = 1000;
  return server;
}

async function handle(prober: Prober, options: ProberServerOptions, chunks: ChunkPool, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  if (raw.length > MAX_URL_LENGTH) return answer(res, 414, `the request URL is longer than ${MAX_URL_LENGTH} characters\n`);
  let declared = Number(req.headers['content-length'] ?? 0);
  if (!Number.isFinite(declared)) declared = Infinity;
  if (declared > MAX_BODY_BYTES || (req.headers['transfer-encoding'] !== undefined && req.method !== 'POST')) {
    res.setHeader('Connection', 'close');
    return answer(res, 413, 'request bodies are not accepted\n');
  }
  // a small body (POST /-/reload with one) is read and dropped, so keep-alive stays in step
  req.resume();
  const url = new URL(raw, 'http://localhost');
  const method = req.method ?? 'GET';
  const getLike = method === 'GET' || method === 'HEAD';
  switch (url.pathname) {
    case '/metrics': {
      if (!getLike) return answer(res, 405, 'use GET\n');
      const format = negotiateFormat(req.headers.accept);
      const gzipPolicy = options.gzip ?? 'remote';
      const gzip = gzipPolicy !== 'never' && acceptsGzip(req.headers['accept-encoding']) && (gzipPolicy === 'when-asked' || !isLoopbackAddress(req.socket.remoteAddress));
      // set one by one (not in writeHead) so that they stay readable with getHeader
      res.setHeader('Content-Type', CONTENT_TYPES[format]);
      res.setHeader('Vary', 'Accept-Encoding');
      if (gzip) res.setHeader('Content-Encoding', 'gzip');
      res.writeHead(200);
      if (method === 'HEAD') return void res.end();
      let sink: Writable = res;
      if (gzip) {
        const gz = createGzip({ level: 1, chunkSize: 64 * 1024 });
        pipeline(gz, res, () => {});
        sink = gz;
      }
      // chunks made as the client takes them: a slow scraper holds a few megabytes, not the page
      for (const chunk of prober.metricChunks(format, chunks)) {
        // back to the pool once the socket (or gzip) is done with it
        const more = sink.write(chunk, () => chunks.give(chunk));
        if (!more && sink.writableLength >= BUFFERED_BEFORE_WAITING && !(await drained(sink))) return;
      }
      sink.end();
      return;
    }
    case '/probe': {
      if (!getLike) return answer(res, 405, 'use GET\n');
      const format = negotiateFormat(req.headers.accept);
      const header = req.headers['x-prometheus-scrape-timeout-seconds'];
      const a = await prober.probe({
        target: url.searchParams.get('target'), module: url.searchParams.get('module'), count: url.searchParams.get('count'),
        scrapeTimeout: typeof header === 'string' ? header : null,
      }, format);
      return answer(res, a.status, a.body, a.status === 200 ? CONTENT_TYPES[format] : undefined);
    }
    case '/-/healthy':
      return answer(res, 200, 'Healthy\n');
    case '/-/ready':
      return prober.running ? answer(res, 200, 'Ready\n') : answer(res, 503, 'Not ready\n');
    case '/-/reload': {
      if (method !== 'POST' && method !== 'PUT') return answer(res, 405, 'This endpoint requires a POST request.\n');
      if (!options.reload) return answer(res, 400, 'there is no config file to reload (netdiag serve --config FILE)\n');
      try {
        await options.reload();
      } catch (e) {
        return answer(res, 500, `failed to reload the config, the running one is kept: ${(e as Error).message}\n`);
      }
      return answer(res, 200, 'reloaded\n');
    }
    case '/':
      return answer(res, 200, LANDING, 'text/html; charset=utf-8');
    default:
      return answer(res, 404, `no such page: ${url.pathname} (try /metrics)\n`);
  }
}
