// Round-trip statistics: iputils' integer arithmetic against numbers iputils ping 20221126 printed
// on this project's test VM for the same per-reply times, and the JSON summary's own formulas.
import { describe, expect, it } from 'vitest';
import { iputilsMs } from '../../src/cli/ping/number-format.js';
import { RttStatistics, llsqrt, nearestRank } from '../../src/ping/statistics.js';

// per-reply times (µs, as printed by `ping` with time=0.0XX ms) and the summary it printed
const IPUTILS_RUNS = [
  { args: '-c 12 -i 0.002', times: [23, 16, 14, 16, 20, 7, 18, 15, 17, 14, 15, 18], rtt: '0.007/0.016/0.023/0.003', ewma: null },
  { args: '-c 15 -i 0', times: [23, 5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 4], rtt: '0.003/0.004/0.023/0.004', ewma: '0.006' },
  { args: '-c 10 -i 0 -s 1400', times: [26, 5, 4, 4, 4, 4, 4, 4, 3, 4], rtt: '0.003/0.006/0.026/0.006', ewma: '0.010' },
  { args: '-c 8 -i 0.003 -l 3', times: [24, 4, 4, 28, 10, 19, 14, 27], rtt: '0.004/0.016/0.028/0.009', ewma: null },
  { args: '-c 3 -i 0.2', times: [26, 31, 29], rtt: '0.026/0.028/0.031/0.002', ewma: null },
  { args: '-c 2 -i 0.2', times: [14, 37], rtt: '0.014/0.025/0.037/0.011', ewma: null },
];

function iputilsLine(times: number[]): { rtt: string; ewma: string } {
  const s = new RttStatistics();
  for (const us of times) s.add(us / 1000);
  const r = s.iputils()!;
  return { rtt: [r.min, r.avg, r.max, r.mdev].map(iputilsMs).join('/'), ewma: iputilsMs(Math.trunc(r.ewmaTimes8 / 8)) };
}

describe('iputils arithmetic', () => {
  for (const run of IPUTILS_RUNS) {
    it(`prints what iputils printed for ping ${run.args}`, () => {
      const got = iputilsLine(run.times);
      expect(got.rtt).toBe(run.rtt);
      if (run.ewma !== null) expect(got.ewma).toBe(run.ewma);
    });
  }

  it('takes its integer square root from iputils, rounding quirk included', () => {
    // Newton's method returns the step after the minimum for some inputs: llsqrt(3) is 2 and
    // llsqrt(8) 3 in iputils, not the floor of the root
    expect([0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 132].map(llsqrt)).toEqual([0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 11]);
  });

  it('switches formula for sums past INT_MAX as iputils does', () => {
    const s = new RttStatistics();
    for (let i = 0; i < 3; i++) s.add(1_000_000);
    expect(s.iputils()).toMatchObject({ min: 1e9, avg: 1e9, max: 1e9, mdev: 0 });
  });
});

describe('JSON summary', () => {
  it('gives min/avg/max, mdev over n, stddev over n-1, nearest-rank percentiles and an EWMA of weight 1/8', () => {
    const s = new RttStatistics();
    const xs = [1, 2, 3, 4, 10];
    for (const x of xs) s.add(x);
    const sum = s.summary()!;
    const mean = 4;
    const mdev = Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / 5 - mean * mean);
    const stddev = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / 4);
    let ewma = 1;
    for (const x of xs.slice(1)) ewma += (x - ewma) / 8;
    expect(sum).toEqual({
      min: 1, avg: 4, max: 10, mdev: Math.round(mdev * 1e6) / 1e6, stddev: Math.round(stddev * 1e6) / 1e6,
      p50: 3, p90: 10, p99: 10, ewma: Math.round(ewma * 1e6) / 1e6,
    });
    expect(new RttStatistics().summary()).toBeNull();
  });

  it('picks nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 90, 99, 100].map((p) => nearestRank(sorted, p))).toEqual([50, 90, 99, 100]);
    expect(nearestRank([7], 99)).toBe(7);
    expect(nearestRank([1, 2], 50)).toBe(1);
  });
});
