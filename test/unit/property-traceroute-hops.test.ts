// Property tests of traceroute's hop assembly (src/traceroute/: scheduler, slots, final
// placement, results) on the simulated path of test/sim/fake-network.ts (a fake clock; no
// packet leaves the process, and no name is looked up): for any path (hops that answer,
// stay silent or answer only some probes, an unreachable on the way, any RTTs) and any
// -q/-N/-f/-m, the result has consecutive hops from firstTtl, `queries` probes each, every
// answer in the hop of the router that sent it with that router's RTT, the trace ends at the
// destination or at an unreachable, the window holds, and every probe is let go.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceroute } from '../../src/traceroute/index.js';
import { FakeClock, FakePath, fakeBackend, type FakeHop } from '../sim/fake-network.js';

const hop = fc.record({
  rtt: fc.integer({ min: 1, max: 80 }),
  silent: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  // bit n: whether the n-th probe reaching this hop is answered (undefined: all are)
  mask: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
});

const scenario = fc.record({
  hops: fc.array(hop, { minLength: 1, maxLength: 10 }),
  unreachableAt: fc.option(fc.integer({ min: 1, max: 10 }), { nil: null }),
  queries: fc.integer({ min: 1, max: 4 }),
  window: fc.integer({ min: 1, max: 20 }),
  firstTtl: fc.integer({ min: 1, max: 3 }),
  maxTtl: fc.integer({ min: 3, max: 14 }),
});

describe('traceroute hop assembly (fast-check)', () => {
  it('assembles consecutive hops of the right probes, each answer where its router is', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const path: FakeHop[] = s.hops.map((h, i) => ({
          address: `127.0.${i + 1}.1`,
          rtt: h.rtt,
          silent: h.silent,
          ...(h.mask !== undefined ? { answers: (n: number) => ((h.mask! >> (n % 16)) & 1) === 1 } : {}),
          ...(s.unreachableAt === i + 1 && i + 1 < s.hops.length ? { annotation: '!H' } : {}),
        }));
        const clock = new FakeClock();
        const fake = new FakePath(clock, path);
        const destination = path.at(-1)!.address;
        const r = await clock.run(traceroute(destination, {
          method: 'icmp', backend: fakeBackend(clock, fake), resolveNames: false,
          queries: s.queries, window: s.window, firstTtl: s.firstTtl, maxTtl: s.maxTtl,
          wait: { maxMs: 200, here: 0, near: 0 },
        }));

        // consecutive hops from firstTtl, never past maxTtl, `queries` probes each
        expect(r.hops.map((h) => h.ttl)).toEqual(Array.from({ length: r.hops.length }, (_, i) => s.firstTtl + i));
        if (r.hops.length > 0) expect(r.hops.at(-1)!.ttl).toBeLessThanOrEqual(s.maxTtl);
        for (const h of r.hops) expect(h.probes).toHaveLength(s.queries);

        // every answer sits in the hop of the router that sent it, with that router's RTT
        // (an unreachable's answer may be moved back into an expired slot, as traceroute does)
        for (const h of r.hops) {
          const at = path[Math.min(h.ttl, path.length) - 1]!;
          for (const p of h.probes) {
            if (p.status === 'timeout') {
              expect(p.address).toBeNull();
              continue;
            }
            if (p.annotation === null) {
              expect(p.address, `ttl ${h.ttl}`).toBe(at.address);
              expect(p.rtt).toBe(at.rtt);
            } else {
              expect(path.some((x) => x.annotation === p.annotation && x.address === p.address), `ttl ${h.ttl}: ${p.address} ${p.annotation}`).toBe(true);
            }
          }
        }

        // it ends where it must: reached at the destination's TTL, or at an unreachable, or at maxTtl
        const last = r.hops.at(-1);
        if (r.reached) {
          // at the destination's TTL, or later when the destination left the earlier probes unanswered
          expect(last!.ttl).toBeGreaterThanOrEqual(path.length);
          for (const h of r.hops) if (h.ttl >= path.length && h !== last) expect(h.probes.every((p) => p.status === 'timeout')).toBe(true);
          expect(last!.probes.some((p) => p.address === destination && p.status === 'reply')).toBe(true);
        } else if (last && last.probes.some((p) => p.annotation === '!H')) {
          expect(last.ttl).toBeLessThanOrEqual(s.maxTtl);
        } else if (!r.aborted && last) {
          expect(last.ttl).toBe(s.maxTtl);
        }
        // nothing ends before its cause: no hop after the first hop whose every answer is final
        for (const h of r.hops.slice(0, -1)) {
          const answered = h.probes.filter((p) => p.status === 'reply');
          expect(answered.length > 0 && answered.every((p) => p.annotation !== null || p.address === destination), `ttl ${h.ttl} looks final but the trace went on`).toBe(false);
        }

        // the window holds, and every probe sent was let go, the transport closed
        expect(Math.max(0, ...fake.sent.map((p) => p.inFlight))).toBeLessThanOrEqual(s.window);
        for (const p of fake.sent) expect(fake.released.has(p.id)).toBe(true);
        expect(fake.closed).toBe(true);
      }),
      { numRuns: 120, interruptAfterTimeLimit: 25_000 },
    );
  });
});
