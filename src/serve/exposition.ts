// The exposition formats Prometheus reads: text 0.0.4 and OpenMetrics 1.0 (chosen from the
// scraper's Accept header, as client_golang's promhttp does). Label values and help texts are
// escaped per format; numbers are written as Go's strconv does for the values we hold
// (integers plainly, NaN and ±Inf by name).

import { ChunkPool } from './chunk-pool.js';
import type { Histogram, MetricFamily, MetricRegistry, Sample } from './metric-registry.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** A label value as both formats want it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c)) : v;
}

/** A HELP text: text 0.0.4 escapes backslash and newline; OpenMetrics also the double quote. */
export function escapeHelp(v: string, format: ExpositionFormat): string {
  const re = format === 'openmetrics' ? /[\\"\n]/g : /[\\\n]/g;
  return v.replace(re, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** Renders label pairs (names already valid) to the text inside the braces. */
export function renderLabels(pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = '';
  for (const [k, v] of pairs) out += `${out ? ',' : ''}${k}="${escapeLabelValue(v)}"`;
  return out;
}

export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * A bound as client_golang writes `le` (Go's strconv 'g' with the shortest digits: exponent
 * form below 1e-4 and from 1e6, e.g. 5e-05), so recording rules matching `le` texts keep working.
 */
export function formatBound(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === 0 || !Number.isFinite(v)) return formatValue(v);
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(v);
}

/** The format an Accept header asks for: OpenMetrics when it is accepted with a q above text's. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    let version: string | null = null;
    for (const p of params) {
      if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
      else if (p.startsWith('version=')) version = p.slice(8);
    }
    if (type === 'application/openmetrics-text' && (version === null || version === '1.0.0')) om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'text';
}

/** Copies src into dst at p; returns the position after it (a loop only for the shortest: measured, TypedArray.set wins from 16 bytes). */
function put(dst: Buffer, p: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 16) {
    dst.set(src, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) dst[p + i] = src[i]!;
  return p + n;
}

/** Writes a value at p (integers digit by digit, the rest as formatValue spells them); returns the position after it. */
function putValue(dst: Buffer, p: number, v: number): number {
  if (v >= 0 && v < 10 && Number.isInteger(v)) {
    dst[p] = 48 + v;
    return p + 1;
  }
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) return p + dst.write(formatValue(v), p, 'latin1');
  let digits = 0;
  for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
  let q = p + digits;
  for (let x = v; x >= 1; x = Math.floor(x / 10)) dst[--q] = 48 + (x % 10);
  return p + digits;
}

/** Longest value text putValue writes (formatValue of a double: at most 24 characters). */
const MAX_VALUE = 32;

/**
 * Bytes of the page as they are made, in chunks: ASCII names and label bytes copied from
 * buffers made once, integers written digit by digit, room checked once per series. A page of
 * 10,000 targets is tens of megabytes; building it as JavaScript strings costs several times as much.
 */
class PageWriter {
  buf: Buffer;
  pos = 0;
  /** full chunks not handed out yet */
  readonly done: Buffer[] = [];
  constructor(private readonly chunks: ChunkPool) {
    this.buf = chunks.take();
  }
  /** Makes room for n bytes (a new chunk when this one is full). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    // a text longer than a chunk (a HELP text cannot be, in practice) gets a buffer of its own
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }
  flush(): void {
    if (this.pos === 0) return;
    this.done.push(this.buf.subarray(0, this.pos));
    this.buf = this.chunks.take();
    this.pos = 0;
  }
  text(s: string): void {
    this.room(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos);
  }
}

/** Bytes of a page chunk: big enough that a chunk's overhead (a write, a pool turn) is small, small enough to stream. */
export const CHUNK_BYTES = 256 * 1024;

const NL = 10;
const SPACE = 32;

/**
 * The page of the registries' families in `format`, as chunks of about `chunk` bytes made as
 * they are taken (a 10,000-target page is tens of megabytes: a writer that waits for the client
 * holds a chunk or two, never the page).
 */
export function* exposeChunks(registries: readonly MetricRegistry[], format: ExpositionFormat, chunks: ChunkPool = new ChunkPool(CHUNK_BYTES, 0)): Generator<Buffer, void, void> {
  const w = new PageWriter(chunks);
  const om = format === 'openmetrics';
  for (const r of registries) {
    for (const f of r.families) {
      if (f.series.size === 0) continue;
      // OpenMetrics names a counter family without its _total suffix
      const familyName = om && f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -6) : f.name;
      w.text(`# HELP ${familyName} ${escapeHelp(f.help, format)}\n# TYPE ${familyName} ${f.type}\n`);
      if (f.type === 'histogram') yield* writeHistograms(f as MetricFamily<Histogram>, w);
      else yield* writeSamples(f as MetricFamily<Sample>, w);
    }
  }
  if (om) w.text('# EOF\n');
  w.flush();
  yield* w.done.splice(0);
  // the chunk flush() took last was never written to
  chunks.give(w.buf);
}

/** As exposeChunks, handing every chunk to `write` at once. */
export function expose(registries: readonly MetricRegistry[], format: ExpositionFormat, write: (chunk: Buffer) => void): void {
  for (const c of exposeChunks(registries, format)) write(c);
}

/** name{labels} value, or name value without labels; returns the position after the newline. */
function putLine(buf: Buffer, p: number, name: Uint8Array, labels: Uint8Array, v: number): number {
  p = put(buf, p, name);
  if (labels.length > 0) {
    buf[p++] = 123; // {
    p = put(buf, p, labels);
    buf[p++] = 125; // }
  }
  buf[p++] = SPACE;
  p = putValue(buf, p, v);
  buf[p++] = NL;
  return p;
}

function* writeSamples(f: MetricFamily<Sample>, w: PageWriter): Generator<Buffer, void, void> {
  const name = Buffer.from(f.name);
  for (const s of f.series.values()) {
    w.room(name.length + s.bytes.length + 4 + MAX_VALUE);
    w.pos = putLine(w.buf, w.pos, name, s.bytes, s.sample.value);
    if (w.done.length > 0) yield* w.done.splice(0);
  }
}

function* writeHistograms(f: MetricFamily<Histogram>, w: PageWriter): Generator<Buffer, void, void> {
  const les = [...f.bounds.map(formatBound), '+Inf'];
  const bucket = Buffer.from(`${f.name}_bucket{`);
  // with labels the le pair follows a comma; without, it is the only pair
  const leWithLabels = les.map((le) => Buffer.from(`,le="${le}"} `));
  const leAlone = les.map((le) => Buffer.from(`le="${le}"} `));
  const longestLe = Math.max(...leWithLabels.map((b) => b.length));
  const sumName = Buffer.from(`${f.name}_sum`);
  const countName = Buffer.from(`${f.name}_count`);
  for (const s of f.series.values()) {
    const h = s.sample;
    const l = s.bytes;
    const le = l.length > 0 ? leWithLabels : leAlone;
    w.room((le.length + 2) * (bucket.length + l.length + longestLe + MAX_VALUE + 4));
    const buf = w.buf;
    let p = w.pos;
    const counts = h.counts;
    // `name_bucket{labels` once; the other bucket lines copy it from the first (one copy a line, not two)
    const first = p;
    p = put(buf, p, bucket);
    p = put(buf, p, l);
    const prefix = p - first;
    let cumulative = counts[0]!;
    p = put(buf, p, le[0]!);
    p = putValue(buf, p, cumulative);
    buf[p++] = NL;
    for (let i = 1; i < le.length; i++) {
      cumulative += counts[i]!;
      buf.copyWithin(p, first, first + prefix);
      p += prefix;
      p = put(buf, p, le[i]!);
      p = putValue(buf, p, cumulative);
      buf[p++] = NL;
    }
    p = putLine(buf, p, sumName, l, h.sum);
    p = putLine(buf, p, countName, l, h.count);
    w.pos = p;
    if (w.done.length > 0) yield* w.done.splice(0);
  }
}

/** The whole exposition as one string (tests, small registries, the library's metrics()). */
export function exposeText(registries: readonly MetricRegistry[], format: ExpositionFormat): string {
  const parts: Buffer[] = [];
  expose(registries, format, (b) => parts.push(b));
  return Buffer.concat(parts).toString();
}
