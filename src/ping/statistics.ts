// Round-trip statistics of one target, two ways, both computed from the samples on demand:
// - exact floating-point milliseconds for the JSON result: min/avg/max, iputils' mdev formula,
//   sample stddev (Welford), nearest-rank percentiles, EWMA with weight 1/8;
// - iputils ping's own integer-microsecond arithmetic (tsum, tsum2, llsqrt, rtt*8 EWMA) so the
//   text summary prints the very digits iputils would print for the same samples.
// Every counted reply goes in, duplicates included, as iputils does.

import type { IputilsRtt, PingRttFigures, PingRttSummary } from './types.js';

const INT_MAX = 2147483647;

/** Rounds milliseconds to nanoseconds, dropping binary-fraction noise from the JSON. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1e6) / 1e6;
}

export class RttStatistics implements PingRttFigures {
  // the hot path keeps the samples (in arrival order, for the EWMA) and what the per-reply
  // lines need; everything else is computed from the samples when asked. Ten thousand targets
  // pinged once keep one number each: the first sample is a field (its own sum, min and max),
  // the array and the running sum/min/max come with the second. (-0: a double from the start,
  // so no layout change at the first reply.) The samples are a typed array grown by doubling:
  // a flood's hundreds of thousands of samples are no garbage-collected array being regrown.
  private first = -0;
  /** the samples [0, n) once there are two */
  private more: Float64Array | null = null;
  /** sum, min, max once there are two samples */
  private agg: Float64Array | null = null;
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Mean, min and max in ms (NaN when empty). */
  get mean(): number {
    return this.n > 1 ? this.agg![0]! / this.n : this.n === 1 ? this.first : NaN;
  }
  get min(): number {
    return this.n > 1 ? this.agg![1]! : this.n === 1 ? this.first : NaN;
  }
  get max(): number {
    return this.n > 1 ? this.agg![2]! : this.n === 1 ? this.first : NaN;
  }

  /** Adds one round trip in ms; a negative one (a clock step) counts as 0. */
  add(rttMs: number): void {
    const x = rttMs > 0 ? rttMs : 0;
    const n = this.n++;
    if (n === 0) {
      this.first = x;
      return;
    }
    let agg = this.agg;
    let more = this.more;
    if (agg === null || more === null) {
      const f = this.first;
      more = this.more = new Float64Array(4);
      more[0] = f;
      agg = this.agg = new Float64Array(3);
      agg[0] = f;
      agg[1] = f;
      agg[2] = f;
    } else if (n === more.length) {
      const grown = new Float64Array(n * 2);
      grown.set(more);
      more = this.more = grown;
    }
    more[n] = x;
    agg[0] += x;
    if (x < agg[1]!) agg[1] = x;
    if (x > agg[2]!) agg[2] = x;
  }

  /** The samples in arrival order. */
  private get samples(): ArrayLike<number> & Iterable<number> {
    return this.more !== null ? this.more.subarray(0, this.n) : this.n > 0 ? [this.first] : [];
  }

  /** The JSON summary, or null when nothing was received. */
  summary(): PingRttSummary | null {
    const xs = this.samples;
    const n = xs.length;
    if (n === 0) return null;
    const mean = this.mean;
    let sumSquares = 0, m2 = 0, welford = 0, ewma = xs[0]!;
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      sumSquares += x * x;
      const delta = x - welford;
      welford += delta / (i + 1);
      m2 += delta * (x - welford);
      if (i > 0) ewma += (x - ewma) / 8;
    }
    const variance = sumSquares / n - mean * mean;
    const sorted = Float64Array.from(xs).sort();
    return {
      min: roundMs(this.min),
      avg: roundMs(mean),
      max: roundMs(this.max),
      mdev: roundMs(Math.sqrt(variance > 0 ? variance : 0)),
      stddev: roundMs(n > 1 ? Math.sqrt(m2 / (n - 1)) : 0),
      p50: roundMs(nearestRank(sorted, 50)),
      p90: roundMs(nearestRank(sorted, 90)),
      p99: roundMs(nearestRank(sorted, 99)),
      ewma: roundMs(ewma),
    };
  }

  /**
   * What iputils' finish() computes from the same samples (whole microseconds), or null when
   * there are none.
   */
  iputils(): IputilsRtt | null {
    const xs = this.samples;
    const total = xs.length;
    if (total === 0) return null;
    let tsum = 0, tsum2 = 0, tmin = Infinity, tmax = 0, rtt8 = 0;
    for (const x of xs) {
      const us = Math.round(x * 1000);
      tsum += us;
      // a double in iputils too
      tsum2 += us * us;
      if (us < tmin) tmin = us;
      if (us > tmax) tmax = us;
      // iputils: rtt = triptime*8 at first, then rtt += triptime - rtt/8 (integer division)
      rtt8 = rtt8 === 0 ? us * 8 : rtt8 + us - Math.trunc(rtt8 / 8);
    }
    const tmavg = Math.trunc(tsum / total);
    let tmvar: number;
    if (tsum < INT_MAX) {
      // (tsum2 - ((tsum * tsum) / total)) / total: the square is a long long, divided as integers
      const sq = Number((BigInt(tsum) * BigInt(tsum)) / BigInt(total));
      tmvar = Math.trunc((tsum2 - sq) / total);
    } else {
      tmvar = Math.trunc(tsum2 / total - tmavg * tmavg);
    }
    return { min: tmin, avg: tmavg, max: tmax, mdev: llsqrt(tmvar), ewmaTimes8: rtt8 };
  }
}

/** Nearest-rank percentile of an ascending array: the smallest sample with p% at or below it. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[Math.min(n, rank) - 1]!;
}

/** iputils' integer square root (Newton's method, rounding down). */
export function llsqrt(a: number): number {
  if (a <= 0) return 0;
  let prev = Infinity;
  let x = a;
  while (x < prev) {
    prev = x;
    x = Math.trunc((x + Math.trunc(a / x)) / 2);
  }
  return x;
}
