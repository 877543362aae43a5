// The command line of `netdiag traceroute --mda`: its flags, the combinations it refuses with a
// one-line usage error, and the text drawn from a netdiag.multipath/1 document.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseInvocation } from '../../src/cli/traceroute/args.js';
import { multipathText } from '../../src/cli/traceroute/multipath-text.js';
import { tracerouteMultipath } from '../../src/traceroute/index.js';
import { FakeClock } from '../sim/fake-network.js';
import { MultipathSim, simBackend } from '../sim/multipath-topology.js';

describe('--mda flags', () => {
  it('turns on multipath discovery with the confidence given', () => {
    const inv = parseInvocation(['--mda', '--confidence', '99', '-T', '10.0.0.1'])!;
    expect(inv).toMatchObject({ mda: true, confidence: 99, report: false });
    expect(inv.options.method).toBe('tcp');
    expect(parseInvocation(['--mda', '10.0.0.1'])!.confidence).toBeUndefined();
  });

  it('runs MDA-Lite unless --mda-full asks for the per-interface MDA everywhere', () => {
    expect(parseInvocation(['--mda', '10.0.0.1'])!.algorithm).toBe('lite');
    expect(parseInvocation(['--mda', '--mda-full', '10.0.0.1'])!.algorithm).toBe('full');
  });

  it.each([
    [['--confidence', '90', 'h'], /--confidence belongs to multipath discovery/],
    [['--mda-full', 'h'], /--mda-full belongs to multipath discovery/],
    [['--mda', '--tcp-connect', 'h'], /--mda cannot use --tcp-connect/],
    [['--mda', '--report', 'h'], /--mda does not combine with --report/],
    [['--mda', '--watch', 'h'], /--mda does not combine with --report/],
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
