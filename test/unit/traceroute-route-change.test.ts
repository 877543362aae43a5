// Route changes and ICMP rate limiting in report mode: the pure detection (routeStep, path ids,
// rateLimitedTtls), the per-cycle bookkeeping (RouteHistory: cycle order, paths, refinement),
// the engine on a fake path whose hop changes address mid-report, and the text.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pathIdOf, routeStep, type CycleRoute, type KnownRoute } from '../../src/traceroute/route-changes.js';
import { cycleRoute, RouteHistory } from '../../src/traceroute/route-history.js';
import { rateLimitedTtls } from '../../src/traceroute/rate-limited-hops.js';
import type { HopStats, TracerouteEvent, TracerouteHop } from '../../src/traceroute/types.js';
import { reportTable } from '../../src/cli/traceroute/report-text.js';
import { rateLimitLegend, routeText } from '../../src/cli/traceroute/route-text.js';
import { answeredProbe, cycleEvents, FakeReportPath } from '../helpers/fake-report-path.js';

const A = '10.0.1.1';
const B = '10.0.2.1';
const B2 = '10.9.2.1';
const D = '10.0.3.1';

function seen(cycle: number, hops: Array<string | null>, reached = true, time = 1000 * cycle): CycleRoute {
  return { cycle, time, hops, reached };
}

/** Folds cycles through routeStep, collecting the changes with their cycle. */
function fold(cycles: CycleRoute[]): { route: KnownRoute | null; ids: string[]; changes: Array<{ cycle: number; index: number; from: string; to: string }> } {
  let route: KnownRoute | null = null;
  const ids: string[] = [];
  const changes: Array<{ cycle: number; index: number; from: string; to: string }> = [];
  for (const c of cycles) {
    const step = routeStep(route, c);
    route = step.route;
    ids.push(step.pathId);
    if (step.change) changes.push({ cycle: c.cycle, ...step.change });
  }
  return { route, ids, changes };
}

describe('pathIdOf', () => {
  it('is the first 16 hex digits of SHA-256 over the addresses joined by ",", "*" for an unknown hop', () => {
    const want = createHash('sha256').update(`${A},*,${D}`).digest('hex').slice(0, 16);
    expect(pathIdOf([A, null, D])).toBe(want);
    expect(pathIdOf([A, null, D])).toMatch(/^[0-9a-f]{16}$/);
    expect(pathIdOf([A, B, D])).not.toBe(want);
    expect(pathIdOf(['fd00:1::2', 'fd00:2::2'])).toBe(pathIdOf(['fd00:1::2', 'fd00:2::2']));
  });
});

describe('routeStep', () => {
  it('keeps one path id while every cycle sees the same route', () => {
    const r = fold([seen(1, [A, B, D]), seen(2, [A, B, D]), seen(3, [A, B, D])]);
    expect(new Set(r.ids)).toEqual(new Set([pathIdOf([A, B, D])]));
    expect(r.changes).toEqual([]);
  });

  it('does not take a lost probe (or a lost destination answer) for a new route', () => {
    const r = fold([seen(1, [A, B, D]), seen(2, [A, null, D]), seen(3, [A, B, null], false), seen(4, [null, null], false)]);
    expect(r.changes).toEqual([]);
    expect(new Set(r.ids)).toEqual(new Set([pathIdOf([A, B, D])]));
    expect(r.route).toEqual({ hops: [A, B, D], reached: true });
  });

  it('flags the first TTL that answers from another address, at the cycle it happens', () => {
    const r = fold([seen(1, [A, B, D]), seen(2, [A, B, D]), seen(3, [A, B2, D]), seen(4, [A, B2, D]), seen(5, [A, B, D])]);
    expect(r.changes).toEqual([
      { cycle: 3, index: 1, from: B, to: B2 },
      { cycle: 5, index: 1, from: B2, to: B },
    ]);
    expect(r.ids).toEqual([pathIdOf([A, B, D]), pathIdOf([A, B, D]), pathIdOf([A, B2, D]), pathIdOf([A, B2, D]), pathIdOf([A, B, D])]);
  });

  it('carries nothing known past the change: a hop lost in the changing cycle stays unknown', () => {
    const step = routeStep({ hops: [A, B, '10.0.4.1', D], reached: true }, seen(2, [A, B2, null, D]));
    expect(step.route.hops).toEqual([A, B2, null, D]);
    expect(step.change).toEqual({ index: 1, from: B, to: B2 });
  });

  it('flags a destination reached at another TTL: shorter where it answers now, longer where it was', () => {
    const shorter = routeStep({ hops: [A, null, D], reached: true }, seen(2, [A, D]));
    expect(shorter.change).toEqual({ index: 1, from: '*', to: D });
    expect(shorter.route).toEqual({ hops: [A, D], reached: true });
    const longer = routeStep({ hops: [A, D], reached: true }, seen(2, [A, null, D]));
    expect(longer.change).toEqual({ index: 1, from: D, to: '*' });
    expect(longer.route).toEqual({ hops: [A, null, D], reached: true });
  });

  it('fills in a hop first seen later without a change; the path id becomes the fuller route\'s', () => {
    const r = fold([seen(1, [A, null, D]), seen(2, [A, B, D])]);
    expect(r.changes).toEqual([]);
    expect(r.ids).toEqual([pathIdOf([A, null, D]), pathIdOf([A, B, D])]);
  });

  it('an unreached route ends at its last answer and grows as deeper hops answer', () => {
    const r = fold([seen(1, [A, B, null], false), seen(2, [A, null, null], false), seen(3, [A, B, D], false)]);
    expect(r.changes).toEqual([]);
    expect(r.ids).toEqual([pathIdOf([A, B]), pathIdOf([A, B]), pathIdOf([A, B, D])]);
    expect(r.route).toEqual({ hops: [A, B, D], reached: false });
  });
});

describe('cycleRoute', () => {
  const probe = (ttl: number, address: string | null, reached = false) => ({ ttl, address, reached });

  it('ends where the cycle reached the destination (the lowest TTL that did), from the first TTL', () => {
    const c = cycleRoute(4, 123, 2, [probe(2, A), probe(3, null), probe(4, D, true), probe(5, D, true)], null);
    expect(c).toEqual({ cycle: 4, time: 123, hops: [A, null, D], reached: true });
  });

  it('without the destination: up to its TTL known from other cycles, else up to the last answer', () => {
    expect(cycleRoute(2, 0, 1, [probe(1, A), probe(2, null), probe(3, null)], 3).hops).toEqual([A, null, null]);
    expect(cycleRoute(2, 0, 1, [probe(1, A), probe(2, B), probe(3, null)], null).hops).toEqual([A, B]);
    expect(cycleRoute(2, 0, 1, [probe(1, A), probe(2, B)], null).reached).toBe(false);
  });
});

describe('RouteHistory', () => {
  it('takes cycles in cycle order, lists each route once with its cycles, and every change', () => {
    const h = new RouteHistory(1);
    // cycle 3 completes before cycle 2 (a slow probe held 2 back)
    h.add(seen(1, [A, B, D]));
    h.add(seen(3, [A, B2, D]));
    expect(h.routeChanges()).toEqual([]);
    h.add(seen(2, [A, B, D]));
    h.add(seen(4, [A, B, D]));
    h.add(seen(5, [A, B, D]));
    expect(h.routeChanges()).toEqual([
      { cycle: 3, time: 3000, ttl: 2, from: B, to: B2, pathId: pathIdOf([A, B2, D]) },
      { cycle: 4, time: 4000, ttl: 2, from: B2, to: B, pathId: pathIdOf([A, B, D]) },
    ]);
    expect(h.paths()).toEqual([
      { pathId: pathIdOf([A, B, D]), hops: [A, B, D], firstCycle: 1, lastCycle: 5, cycles: 4 },
      { pathId: pathIdOf([A, B2, D]), hops: [A, B2, D], firstCycle: 3, lastCycle: 3, cycles: 1 },
    ]);
  });

  it('names TTLs from the first TTL of the report', () => {
    const h = new RouteHistory(3);
    h.add(seen(1, [A, D]));
    h.add(seen(2, [B, D]));
    expect(h.routeChanges()[0]).toMatchObject({ ttl: 3, from: A, to: B });
  });

  it('a route whose unknown hop gets known keeps one entry, renamed in the change that led to it too', () => {
    const h = new RouteHistory(1);
    h.add(seen(1, [A, B, D]));
    h.add(seen(2, [A, B2, null, D]));
    h.add(seen(3, [A, B2, '10.0.4.1', D]));
    expect(h.paths().map((p) => [p.pathId, p.firstCycle, p.lastCycle, p.cycles])).toEqual([
      [pathIdOf([A, B, D]), 1, 1, 1],
      [pathIdOf([A, B2, '10.0.4.1', D]), 2, 3, 2],
    ]);
    expect(h.routeChanges().map((c) => c.pathId)).toEqual([pathIdOf([A, B2, '10.0.4.1', D])]);
  });

  it('flush() takes the cycles still waiting behind one that never completed', () => {
    const h = new RouteHistory(1);
    h.add(seen(1, [A, B, D]));
    h.add(seen(3, [A, B2, D]));
    h.flush();
    expect(h.routeChanges().map((c) => c.cycle)).toEqual([3]);
    expect(h.paths().map((p) => p.cycles)).toEqual([1, 1]);
  });
});

describe('rateLimitedTtls', () => {
  const stats = (sent: number, received: number): HopStats => ({
    sent, received, loss: ((sent - received) / sent) * 100, last: null, avg: null, best: null, worst: null, stddev: null, jitter: null,
  });
  const hops = (...rows: Array<[number, number]>) => rows.map(([sent, received], i) => ({ ttl: i + 1, stats: stats(sent, received) }));

  it('flags a hop whose loss a later answering hop does not show', () => {
    expect(rateLimitedTtls(hops([10, 10], [10, 3], [10, 10], [10, 10]))).toEqual(new Set([2]));
    // loss that carries on to the destination is real loss (from hop 2 on), but hop 3 loses more
    expect(rateLimitedTtls(hops([10, 10], [10, 7], [10, 5], [10, 7]))).toEqual(new Set([3]));
  });

  it('does not flag loss that carries on, a hop without loss, or a hop that never answered', () => {
    expect(rateLimitedTtls(hops([10, 10], [10, 6], [10, 6], [10, 5]))).toEqual(new Set());
    expect(rateLimitedTtls(hops([10, 10], [10, 0], [10, 10]))).toEqual(new Set());
    // a destination that never answers is no yardstick: hop 3 is judged by nothing, hop 2 by hop 3
    expect(rateLimitedTtls(hops([10, 10], [10, 5], [10, 8], [10, 0]))).toEqual(new Set([2]));
  });

  it('judges by TTL, not by the order given', () => {
    expect(rateLimitedTtls([{ ttl: 3, stats: stats(10, 10) }, { ttl: 1, stats: stats(10, 4) }, { ttl: 2 }])).toEqual(new Set([1]));
  });
});

describe('report mode on a fake path', () => {
  it('flags the route change at the cycle whose probes first took the new route, with its time', async () => {
    const fake = FakeReportPath.linear(4);
    // the second router is replaced between cycle 3 (sent at 200 ms) and cycle 4 (300 ms)
    fake.clock.setTimer(() => (fake.hops[1]!.address = B2), 250);
    const before = Date.now();
    const r = await fake.report({ cycles: 6, intervalMs: 100 });
    const after = Date.now();
    const oldRoute = ['10.0.1.1', '10.0.2.1', '10.0.3.1', '10.0.4.1'];
    const newRoute = ['10.0.1.1', B2, '10.0.3.1', '10.0.4.1'];
    expect(r.routeChanges).toHaveLength(1);
    const change = r.routeChanges![0]!;
    expect(change).toMatchObject({ cycle: 4, ttl: 2, from: '10.0.2.1', to: B2, pathId: pathIdOf(newRoute) });
    // Unix ms: the wall clock at the start plus the 300 ms (fake) at which cycle 4 went out
    expect(change.time).toBeGreaterThanOrEqual(before + 300);
    expect(change.time).toBeLessThanOrEqual(after + 300);
    expect(r.paths).toEqual([
      { pathId: pathIdOf(oldRoute), hops: oldRoute, firstCycle: 1, lastCycle: 3, cycles: 3 },
      { pathId: pathIdOf(newRoute), hops: newRoute, firstCycle: 4, lastCycle: 6, cycles: 3 },
    ]);
    expect(r.hops.every((h) => h.rateLimited === false)).toBe(true);
  });

  it('a longer route: the router now at the destination\'s TTL is the change, and the next cycles find the destination again', async () => {
    const fake = FakeReportPath.linear(3);
    const X = '10.0.9.1';
    fake.clock.setTimer(() => fake.hops.splice(2, 0, { address: X, rtt: 2.5 }), 250);
    const r = await fake.report({ cycles: 6, intervalMs: 100 });
    const longer = ['10.0.1.1', '10.0.2.1', X, '10.0.3.1'];
    expect(r.routeChanges!.map((c) => [c.cycle, c.ttl, c.from, c.to, c.pathId])).toEqual([[4, 3, '10.0.3.1', X, pathIdOf(longer)]]);
    expect(r.paths!.map((p) => [p.hops, p.firstCycle, p.lastCycle, p.cycles])).toEqual([
      [['10.0.1.1', '10.0.2.1', '10.0.3.1'], 1, 3, 3],
      [longer, 4, 6, 3],
    ]);
    // cycle 5 probed beyond TTL 3 again and found the destination at 4
    expect(fake.path.sent.filter((p) => p.at === 400).map((p) => p.ttl)).toContain(4);
    expect(r.reached).toBe(true);
    expect(r.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4]);
    expect(r.hops[3]!.probes.at(-1)!.address).toBe('10.0.3.1');
  });

  it('a shorter route: the destination answers at a lower TTL, and the hops beyond it leave the table', async () => {
    const fake = FakeReportPath.linear(4);
    fake.clock.setTimer(() => fake.hops.splice(1, 1), 250);
    const r = await fake.report({ cycles: 6, intervalMs: 100 });
    expect(r.routeChanges!.map((c) => [c.cycle, c.ttl, c.from, c.to])).toEqual([[4, 2, '10.0.2.1', '10.0.3.1']]);
    expect(r.paths!.map((p) => p.hops)).toEqual([['10.0.1.1', '10.0.2.1', '10.0.3.1', '10.0.4.1'], ['10.0.1.1', '10.0.3.1', '10.0.4.1']]);
    expect(r.hops.map((h) => h.ttl)).toEqual([1, 2, 3]);
  });

  it('one route, all cycles: a single path and no change; cycle events carry both so far', async () => {
    const events = await FakeReportPath.linear(3).events({ cycles: 3, intervalMs: 50 });
    const cycles = cycleEvents(events);
    expect(cycles.map((c) => c.paths.map((p) => p.cycles))).toEqual([[1], [2], [3]]);
    expect(cycles.every((c) => c.routeChanges.length === 0)).toBe(true);
    const end = events.find((e): e is Extract<TracerouteEvent, { type: 'end' }> => e.type === 'end')!.result;
    expect(end.paths).toHaveLength(1);
    expect(end.routeChanges).toEqual([]);
  });

  it('marks the hop that answers one probe in three while the hops after it answer every one', async () => {
    const r = await FakeReportPath.linear(4, 1, { 2: { answers: (n) => n % 3 === 0 } }).report({ cycles: 9, intervalMs: 100 });
    expect(r.hops.map((h) => [h.ttl, h.stats!.received, h.rateLimited])).toEqual([[1, 9, false], [2, 3, true], [3, 9, false], [4, 9, false]]);
    // its lost probes are not a route change either
    expect(r.routeChanges).toEqual([]);
    expect(r.paths).toHaveLength(1);
  });
});

describe('report text', () => {
  const hop = (ttl: number, address: string, received: number, rateLimited: boolean): TracerouteHop => ({
    ttl, rateLimited,
    probes: [answeredProbe(address, 0.5)],
    stats: { sent: 10, received, loss: (10 - received) * 10, last: 0.5, avg: 0.5, best: 0.5, worst: 0.5, stddev: 0, jitter: 0 },
  });

  it('marks a rate-limited hop after its host and explains the marker once', () => {
    const hops = [hop(1, A, 10, false), hop(2, B, 3, true), hop(3, D, 10, false)];
    const lines = reportTable(hops, { names: false, localHost: 'vm', started: new Date() }).split('\n');
    expect(lines[2]).toBe('  1.|-- 10.0.1.1                   0.0%    10    0.5   0.5   0.5   0.5   0.0   0.0');
    expect(lines[3]).toBe('  2.|-- 10.0.2.1 [RL]             70.0%    10    0.5   0.5   0.5   0.5   0.0   0.0');
    expect(rateLimitLegend(hops)).toBe('[RL] hop 2: likely ICMP rate limiting, not packet loss (later hops answer with less loss)\n');
    expect(rateLimitLegend([hops[0]!])).toBeNull();
  });

  it('says where and when the route changed, and which routes were taken; nothing for one route', () => {
    const p1 = { pathId: 'aaaaaaaaaaaaaaaa', hops: [A, B, D], firstCycle: 1, lastCycle: 3, cycles: 3 };
    const p2 = { pathId: 'bbbbbbbbbbbbbbbb', hops: [A, B2, D], firstCycle: 4, lastCycle: 6, cycles: 3 };
    const time = new Date(2026, 11, 6, 10, 40, 1, 234).getTime();
    const text = routeText([p1, p2], [{ cycle: 4, time, ttl: 2, from: B, to: B2, pathId: p2.pathId }]);
    expect(text).toMatch(/^Route changed at cycle 4 \(2026-12-06T10:40:01\.234[+-]\d{4}\): hop 2 10\.0\.2\.1 -> 10\.9\.2\.1, now path bbbbbbbbbbbbbbbb\n/);
    expect(text.split('\n')[1]).toBe('Paths: aaaaaaaaaaaaaaaa cycles 1-3 (3), bbbbbbbbbbbbbbbb cycles 4-6 (3)');
    expect(routeText([p1], [])).toBe('');
  });

  it('shows only the latest ten changes of a flapping route', () => {
    const changes = Array.from({ length: 12 }, (_, i) => ({ cycle: i + 2, time: 0, ttl: 2, from: i % 2 ? B2 : B, to: i % 2 ? B : B2, pathId: 'x' }));
    const lines = routeText([], changes).trimEnd().split('\n');
    expect(lines[0]).toBe('(2 earlier route changes not shown)');
    expect(lines.filter((l) => l.startsWith('Route changed'))).toHaveLength(10);
    expect(lines[1]).toMatch(/^Route changed at cycle 4 /);
  });
});
