// The command line of `netdiag traceroute --mda`: its flags, the combinations it refuses with a
// one-line usage error, and the text drawn from a netdiag.multipath/1 document.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseInvocation } from '../../src/cli/traceroute/args.js';
import { multipathText } from '../../src/cli/traceroute/multipath-text.js';
import { MultipathHistory, tracerouteMultipath, tracerouteMultipathCycles, type MultipathCycle } from '../../src/traceroute/index.js';
import { historyText } from '../../src/cli/traceroute/multipath-watch-output.js';
import type { SimTopology } from '../sim/multipath-topology.js';
import { FakeClock } from '../sim/fake-network.js';
import { MultipathSim, simBackend } from '../sim/multipath-topology.js';

describe('--mda flags', () => {
  it('turns on multipath discovery with the confidence given', () => {
    const inv = parseInvocation(['--mda', '--confidence', '99', '-T', '10.0.0.1'])!;
    expect(inv).toMatchObject({ mda: true, confidence: 99, report: false });
    expect(inv.options.method).toBe('tcp');
    expect(parseInvocation(['--mda', '10.0.0.1'])!.confidence).toBeUndefined();
  });

  it('repeats discovery with --report/--watch: cycles and interval as for a report', () => {
    expect(parseInvocation(['--mda', '--report', '--cycles', '3', '--interval', '2', 'h'])).toMatchObject({ mda: true, report: true, watch: false, cycles: 3, intervalMs: 2000 });
    expect(parseInvocation(['--mda', '--watch', 'h'])).toMatchObject({ mda: true, report: true, watch: true, cycles: undefined });
  });

  it('runs MDA-Lite unless --mda-full asks for the per-interface MDA everywhere', () => {
    expect(parseInvocation(['--mda', '10.0.0.1'])!.algorithm).toBe('lite');
    expect(parseInvocation(['--mda', '--mda-full', '10.0.0.1'])!.algorithm).toBe('full');
  });

  it.each([
    [['--confidence', '90', 'h'], /--confidence belongs to multipath discovery/],
    [['--mda-full', 'h'], /--mda-full belongs to multipath discovery/],
    [['--mda', '--tcp-connect', 'h'], /--mda cannot use --tcp-connect/],
    [['--mda', '--mtu', 'h'], /--mda does not combine with --mtu/],
    [['--mda', '-q', '2', 'h'], /-q does not combine with --mda/],
    [['--mda', '--classic', 'h'], /--mda chooses a flow per probe/],
    [['--mda', '--confidence', '100', 'h'], /--confidence/],
    [['--mda', '--confidence', '20', 'h'], /--confidence/],
  ])('refuses %j with a usage error naming the flag', (argv, message) => {
    expect(() => parseInvocation(argv)).toThrow(UsageError);
    expect(() => parseInvocation(argv)).toThrow(message);
  });
});

describe('--mda text', () => {
  it('draws one line per link (a silent hop as "-> *"), every path with its pathId, and the totals', async () => {
    const clock = new FakeClock();
    const dest = '10.9.9.9';
    const sim = new MultipathSim(clock, {
      a: { next: ['b1', 'b2'] }, b1: { next: ['s'] }, b2: { next: ['s'] }, s: { next: [dest], silent: true }, [dest]: { next: [] },
    }, 'a', dest);
    const doc = await clock.run(tracerouteMultipath(dest, { backend: simBackend(clock, sim), wait: { maxMs: 100 }, firstHop: () => 'stopping-rule' }));
    const text = multipathText(doc, { names: false });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`multipath traceroute to ${dest} (${dest}), 30 hops max, 60 byte packets, udp flows, 95% confidence`);
    expect(lines.slice(1, 5)).toEqual([' 1  a -> b1', ' 1  a -> b2', ` 2  b1 -> * -> ${dest}`, ` 2  b2 -> * -> ${dest}`]);
    expect(lines[5]).toBe('paths (2):');
    expect(lines.slice(6, 8).sort()).toEqual(doc.paths.map((p) => `  ${p.pathId}  ${p.hops.map((h) => h ?? '*').join(' ')}`).sort());
    expect(lines[8]).toBe(`4 interfaces, 4 links, 2 paths, ${doc.probes} probes, confidence reached ${doc.confidenceReached}%`);
  });
});

describe('--mda text on IPv6 flow labels', () => {
  it('ends with a line saying how many flows carried a label and why the others did not, and says nothing when all did', async () => {
    const clock = new FakeClock();
    const dest = '10.9.9.9';
    const sim = new MultipathSim(clock, { a: { next: [dest] }, [dest]: { next: [] } }, 'a', dest);
    const doc = await clock.run(tracerouteMultipath(dest, { backend: simBackend(clock, sim), wait: { maxMs: 100 }, firstHop: () => 'stopping-rule' }));
    expect(doc).toMatchObject({ family: 4, flowLabels: null, flowLabelsRefused: null });
    expect(multipathText(doc, { names: false })).not.toMatch(/flow label/);
    const refused = { ...doc, family: 6 as const, flows: 49, flowLabels: 32, flowLabelsRefused: 'the kernel leases no more to this socket' };
    expect(multipathText(refused, { names: false }).trimEnd().split('\n').at(-1)).toBe(
      '32 of 49 flows carried an IPv6 flow label (the kernel leases no more to this socket): routers that hash on it, as Linux does by default, spread only those',
    );
  });
});

describe('--mda --report/--watch cycles', () => {
  it('flags the cycle whose path set changed: a branch taken away after cycle 2 is gone from cycle 3 on, and the history says so', async () => {
    const clock = new FakeClock();
    const dest = '10.9.9.9';
    const topology: SimTopology = { a: { next: ['b1', 'b2'] }, b1: { next: ['c'] }, b2: { next: ['c'] }, c: { next: [dest] }, [dest]: { next: [] } };
    const sim = new MultipathSim(clock, topology, 'a', dest);
    const history = new MultipathHistory();
    const seen: MultipathCycle[] = [];
    await clock.run((async () => {
      for await (const c of tracerouteMultipathCycles(dest, { backend: simBackend(clock, sim), wait: { maxMs: 100 }, firstHop: () => 'stopping-rule', cycles: 4, intervalMs: 1000, confidence: 99.99 }, history)) {
        seen.push(c);
        if (c.cycle === 2) topology.a!.next = ['b1'];
      }
    })());
    expect(seen.map((c) => c.result.paths.length)).toEqual([2, 2, 1, 1]);
    expect(seen.map((c) => c.change === null)).toEqual([true, true, false, true]);
    const viaB2 = seen[0]!.result.paths.find((p) => p.hops.includes('b2'))!;
    const viaB1 = seen[0]!.result.paths.find((p) => p.hops.includes('b1'))!;
    expect(seen[2]!.change).toMatchObject({ cycle: 3, added: [], removed: [viaB2.pathId] });
    // cycles start an interval after the one before ends
    expect(seen[2]!.time - seen[1]!.time).toBeGreaterThanOrEqual(1000);
    expect(history.paths().map((p) => [p.pathId, p.firstCycle, p.lastCycle, p.cycles]).sort()).toEqual(
      [[viaB1.pathId, 1, 4, 4], [viaB2.pathId, 1, 2, 2]].sort(),
    );
    expect(sim.closed).toBe(true);
    const text = historyText(history.paths(), history.changes()).trimEnd().split('\n');
    expect(text[0]).toMatch(new RegExp(`^Paths changed at cycle 3 \\(\\S+\\): -${viaB2.pathId}$`));
    expect(text[1]).toContain(`${viaB2.pathId} cycles 1-2 (2)`);
    expect(historyText(history.paths(), [])).toBe('');
  });

  it('refuses cycles and intervals it cannot run, naming the option', async () => {
    const clock = new FakeClock();
    const sim = new MultipathSim(clock, { a: { next: ['10.9.9.9'] }, '10.9.9.9': { next: [] } }, 'a', '10.9.9.9');
    for (const bad of [{ cycles: 0 }, { cycles: 2.5 }, { cycles: Number.NaN }, { intervalMs: -1 }, { intervalMs: Infinity }]) {
      const run = tracerouteMultipathCycles('10.9.9.9', { backend: simBackend(clock, sim), ...bad });
      await expect(run.next()).rejects.toThrow(Object.keys(bad)[0]!);
    }
    expect(sim.sent).toHaveLength(0);
  });
});
