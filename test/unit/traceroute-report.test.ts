// Report mode (mtr-like) on a fake clock: cycle pacing (N cycles take about N × interval, no
// grace period), per-hop statistics, the destination TTL learned by the first cycle, the note
// on intermediate-hop loss, and the mtr-shaped table.
import { describe, expect, it } from 'vitest';
import { tracerouteReport } from '../../src/traceroute/index.js';
import { HopStatsAccumulator } from '../../src/traceroute/hop-stats.js';
import type { TracerouteEvent, TracerouteHop } from '../../src/traceroute/types.js';
import { intermediateLossNote, reportTable, startStamp } from '../../src/cli/traceroute/report-text.js';
import { answeredProbe, cycleEvents, FakeReportPath, lostProbe } from '../helpers/fake-report-path.js';
import { hostname } from 'node:os';
import { printReport } from '../../src/cli/traceroute/report-output.js';
import { parseInvocation } from '../../src/cli/traceroute/args.js';

describe('hop statistics', () => {
  it('computes loss, last, avg, best, worst, sample stddev and mean |Δ| jitter', () => {
    const acc = new HopStatsAccumulator();
    for (const rtt of [10, null, 14, 12, null]) acc.add(rtt);
    const s = acc.stats();
    expect(s).toMatchObject({ sent: 5, received: 3, loss: 40, last: 12, best: 10, worst: 14 });
    expect(s.avg).toBeCloseTo(12, 12);
    expect(s.stddev).toBeCloseTo(2, 12); // sqrt(((10-12)² + (14-12)² + 0) / 2)
    expect(s.jitter).toBeCloseTo(3, 12); // |14-10| and |12-14|
  });

  it('reports nulls, not zeros, for a hop that never answered', () => {
    const acc = new HopStatsAccumulator();
    acc.add(null);
    acc.add(null);
    expect(acc.stats()).toEqual({ sent: 2, received: 0, loss: 100, last: null, avg: null, best: null, worst: null, stddev: null, jitter: null });
  });
});

describe('tracerouteReport', () => {
  it('paces cycles at the interval and ends right after the last cycle is answered', async () => {
    const fake = FakeReportPath.linear(8);
    const r = await fake.report({ cycles: 5, intervalMs: 250 });
    // cycle k starts at k × 250 ms; the last (k = 4) is done when the 8-ms destination answers
    expect(r.elapsed).toBe(1008);
    expect(r.cycles).toBe(5);
    expect(r.reached).toBe(true);
    const starts = [...new Set(fake.path.sent.filter((p) => p.ttl === 1).map((p) => p.at))];
    expect(starts).toEqual([0, 250, 500, 750, 1000]);
    // the first cycle found the destination at TTL 8; later cycles send TTL 1-8 only, all at once
    expect(fake.path.sent.filter((p) => p.at >= 250).every((p) => p.ttl <= 8)).toBe(true);
    expect(fake.path.sent.filter((p) => p.at === 250).map((p) => p.ttl)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const h of r.hops) {
      expect(h.probes).toHaveLength(5);
      expect(h.stats).toMatchObject({ sent: 5, received: 5, loss: 0, best: h.ttl, worst: h.ttl, avg: h.ttl, stddev: 0, jitter: 0 });
    }
  });

  it('a hop answering every other probe shows 40% loss; a silent hop costs NEAR × RTT per cycle', async () => {
    const fake = FakeReportPath.linear(5, 1, { 2: { answers: (n) => n % 2 === 0 }, 3: { silent: true } });
    const r = await fake.report({ cycles: 5, intervalMs: 100 });
    expect(r.hops[1]!.stats).toMatchObject({ sent: 5, received: 3, loss: 40 });
    expect(r.hops[2]!.stats).toMatchObject({ sent: 5, received: 0, loss: 100, avg: null });
    expect(r.hops[4]!.stats).toMatchObject({ loss: 0 });
    // last cycle at 400 ms; hop 3 gives up (4 + 1) × 10 ms after it, once hop 4 answered
    expect(r.elapsed).toBe(450);
    expect(intermediateLossNote(r.hops, r.reached)).toMatch(/^Note: loss at hops 2, 3 but none at the destination/);
  });

  it('streams a cycle event with the statistics so far after every cycle', async () => {
    const events = await FakeReportPath.linear(3).events({ cycles: 3, intervalMs: 50 });
    const cycles = cycleEvents(events);
    expect(cycles.map((c) => c.cycle)).toEqual([1, 2, 3]);
    expect(cycles.map((c) => c.hops[0]!.stats!.sent)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === 'probe')).toHaveLength(9);
  });

  it('an endless report stops on abort with the cycles it completed', async () => {
    const fake = FakeReportPath.linear(3);
    const ac = new AbortController();
    fake.clock.setTimer(() => ac.abort(), 1020);
    const r = await fake.report({ cycles: Infinity, intervalMs: 100, signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(r.cycles).toBe(11);
    expect(r.hops[0]!.stats!.sent).toBe(11);
  });

  it('rejects --mtu in report mode and bad cycles', async () => {
    const { backend } = FakeReportPath.linear(2);
    await expect(tracerouteReport('10.0.2.1', { backend, discoverMtu: true })).rejects.toThrow(/discoverMtu/);
    await expect(tracerouteReport('10.0.2.1', { backend, cycles: 0 })).rejects.toThrow(RangeError);
  });
});

describe('report text', () => {
  const hops: TracerouteHop[] = [
    { ttl: 1, probes: [answeredProbe('10.0.1.1', 0.12)],
      stats: { sent: 10, received: 10, loss: 0, last: 0.12, avg: 0.1, best: 0.08, worst: 0.2, stddev: 0.03, jitter: 0.01 } },
    { ttl: 2, probes: [lostProbe()],
      stats: { sent: 10, received: 0, loss: 100, last: null, avg: null, best: null, worst: null, stddev: null, jitter: null } },
  ];

  it('lays out columns exactly like mtr -r, plus Javg', () => {
    const text = reportTable(hops, { names: false, localHost: 'vm', started: new Date(2026, 10, 21, 19, 53, 57) });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Start: 2026-11-21T19:53:57[+-]\d{4}$/);
    expect(lines[1]).toBe('HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev  Javg');
    expect(lines[2]).toBe('  1.|-- 10.0.1.1                   0.0%    10    0.1   0.1   0.1   0.2   0.0   0.0');
    expect(lines[3]).toBe('  2.|-- ???                      100.0%    10    0.0   0.0   0.0   0.0   0.0   0.0');
  });

  it('says nothing about loss when the destination loses too, or nothing was lost', () => {
    expect(intermediateLossNote(hops, false)).toBeNull();
    expect(intermediateLossNote([hops[0]!, { ...hops[0]!, ttl: 2 }], true)).toBeNull();
    expect(intermediateLossNote([hops[1]!, hops[0]!], true)).toMatch(/hop 2 but none at the destination/);
  });

  it('stamps the start like mtr', () => {
    expect(startStamp(new Date(2026, 0, 2, 3, 4, 5))).toMatch(/^2026-01-02T03:04:05[+-]\d{4}$/);
  });
});

describe('traceroute --watch on a backlogged stdout', () => {
  it('holds cycle tables while stdout is backlogged and prints only the newest held one', async () => {
    const events = await FakeReportPath.linear(2).events({ cycles: 4, intervalMs: 50 });
    const cycles = cycleEvents(events);
    expect(cycles).toHaveLength(4);
    // stdout is backlogged during cycles 1, 2 and 4; it drained before cycle 3
    const backloggedAt = [true, true, false, true];
    const written: string[] = [];
    let seen = 0;
    const out = {
      out: (s: string) => void written.push(s),
      color: false,
      err: () => {},
      isTTY: false,
      get backlogged() {
        return backloggedAt[seen - 1] ?? false;
      },
    };
    async function* replay(): AsyncGenerator<TracerouteEvent> {
      for (const e of events) {
        if (e.type === 'cycle') seen++;
        yield e;
      }
      seen = 0; // the end: nothing is backlogged any more
    }
    const inv = parseInvocation(['--watch', '-n', '10.0.2.1'])!;
    await printReport(replay(), inv, out);
    // the rows below the Start: line, as reportTable prints them
    const rows = (text: string) => text.split('\n').slice(1).join('\n');
    const expected = (e: TracerouteEvent) => rows(reportTable(e.type === 'cycle' ? e.hops : [], { names: false, localHost: hostname(), started: new Date() }) + '\n');
    const tables = written.filter((s) => s.startsWith('Start: '));
    // cycle 3 as it came, then cycle 4 (held while stdout was backlogged) once the report ended
    expect(tables.map(rows)).toEqual([expected(cycles[2]!), expected(cycles[3]!)]);
  });
});
