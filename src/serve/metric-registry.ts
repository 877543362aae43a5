// A small metric registry for the prober's own series: counters, gauges and histograms whose
// label sets are rendered once (when a series is made), so writing ten thousand targets' series
// is string concatenation only. The number of series is capped: a config that would exceed it
// is refused instead of growing without bound. One sample store can be exposed under several
// names (the native family and its smokeping_prober twin share the numbers).

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Most series one registry holds (per target ~30; a histogram counts as one). */
export const DEFAULT_MAX_SERIES = 2_000_000;

export class SeriesLimitError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} metric series`);
    this.name = 'SeriesLimitError';
  }
}

/** A counter or a gauge: one number. */
export class Sample {
  value = 0;
}

/** A cumulative histogram over fixed upper bounds (seconds), +Inf implied. */
export class Histogram {
  /** per bucket (not cumulative); the last is +Inf */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    // bounds are few (20): a linear scan is as fast as a search and branch-predictable
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export interface Series<S> {
  /** rendered label pairs without braces, e.g. `target="a",family="4"` ('' for none) */
  readonly labels: string;
  /** the same as UTF-8 bytes (shared by the families of one target): what the page copies */
  readonly bytes: Uint8Array;
  readonly sample: S;
}

export class MetricFamily<S extends Sample | Histogram = Sample | Histogram> {
  readonly series = new Map<string, Series<S>>();
  constructor(
    readonly registry: MetricRegistry,
    readonly name: string,
    readonly type: MetricType,
    readonly help: string,
    /** histogram bounds; bucket `le` texts are rendered once */
    readonly bounds: readonly number[] = [],
  ) {}

  /**
   * The series of `labels`, made on first use: with `sample`, sharing another family's numbers
   * (a twin); with `bytes`, the labels' UTF-8 another family of the same target already holds.
   */
  add(labels: string, sample?: S, bytes?: Uint8Array): S {
    const have = this.series.get(labels);
    if (have) return have.sample;
    this.registry.count(1);
    const s = sample ?? ((this.type === 'histogram' ? new Histogram(this.bounds) : new Sample()) as S);
    this.series.set(labels, { labels, bytes: bytes ?? Buffer.from(labels), sample: s });
    return s;
  }

  remove(labels: string): void {
    if (this.series.delete(labels)) this.registry.count(-1);
  }

  clear(): void {
    this.registry.count(-this.series.size);
    this.series.clear();
  }
}

export class MetricRegistry {
  readonly families: MetricFamily[] = [];
  private seriesCount = 0;
  constructor(readonly maxSeries = DEFAULT_MAX_SERIES) {}

  family<S extends Sample | Histogram>(name: string, type: MetricType, help: string, bounds: readonly number[] = []): MetricFamily<S> {
    if (this.families.some((f) => f.name === name)) throw new Error(`metric ${name} registered twice`);
    const f = new MetricFamily<S>(this, name, type, help, bounds);
    this.families.push(f as unknown as MetricFamily);
    return f;
  }

  get size(): number {
    return this.seriesCount;
  }

  /** @internal */
  count(n: number): void {
    if (n > 0 && this.seriesCount + n > this.maxSeries) throw new SeriesLimitError(this.maxSeries);
    this.seriesCount += n;
  }
}
