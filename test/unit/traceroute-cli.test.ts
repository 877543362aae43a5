// The CLI's side of traceroute: Linux traceroute's text layout (header, hop lines, *, address
// only when it changes, annotations, F=<mtu>, -e extensions, names), flag parsing into library
// options with one-line usage errors, and reverse DNS that never holds probes up.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ReverseDnsCache } from '../../src/runtime/reverse-dns.js';
import { parseInvocation } from '../../src/cli/traceroute/args.js';
import { hopLine, traceHeader } from '../../src/cli/traceroute/text.js';
import { traceroute } from '../../src/traceroute/index.js';
import type { TracerouteHop, TracerouteProbe } from '../../src/traceroute/types.js';
import { FakeClock, FakePath, fakeBackend, linearPath } from '../sim/fake-network.js';

function probe(address: string | null, rtt: number | null, extra: Partial<TracerouteProbe> = {}): TracerouteProbe {
  return {
    address, name: null, rtt, status: address ? 'reply' : 'timeout', annotation: null, icmp: null, mtu: null,
    mpls: [], extensions: null, replyTtl: null, flags: [], ...extra,
  };
}
const hop = (ttl: number, probes: TracerouteProbe[]): TracerouteHop => ({ ttl, probes });
const numeric = { names: false, extensions: false };

describe('traceroute text output', () => {
  it('prints the header and hop lines exactly as Linux traceroute -n does', () => {
    expect(traceHeader('10.201.8.2', '10.201.8.2', 30, 60)).toBe('traceroute to 10.201.8.2 (10.201.8.2), 30 hops max, 60 byte packets\n');
    expect(hopLine(hop(1, [probe('10.200.0.2', 0.093), probe('10.200.0.2', 0.007), probe('10.200.0.2', 0.005)]), numeric))
      .toBe(' 1  10.200.0.2  0.093 ms  0.007 ms  0.005 ms\n');
    expect(hopLine(hop(12, [probe(null, null), probe(null, null), probe(null, null)]), numeric)).toBe('12  * * *\n');
  });

  it('repeats the address only when it changes, after any *', () => {
    expect(hopLine(hop(4, [probe('10.0.4.1', 1), probe(null, null), probe('10.0.4.1', 2)]), numeric)).toBe(' 4  10.0.4.1  1.000 ms *  2.000 ms\n');
    expect(hopLine(hop(2, [probe('10.0.2.1', 1), probe('10.0.2.9', 2), probe('10.0.2.9', 3)]), numeric)).toBe(' 2  10.0.2.1  1.000 ms 10.0.2.9  2.000 ms  3.000 ms\n');
    expect(hopLine(hop(3, [probe(null, null), probe('10.0.3.1', 1.5), probe(null, null)]), numeric)).toBe(' 3  * 10.0.3.1  1.500 ms *\n');
  });

  it('puts annotations and F=<mtu> after the time, and a local !F after *', () => {
    expect(hopLine(hop(5, [1, 2, 3].map((r) => probe('10.0.5.1', r, { annotation: '!H' }))), numeric)).toBe(' 5  10.0.5.1  1.000 ms !H  2.000 ms !H  3.000 ms !H\n');
    expect(hopLine(hop(1, [probe('10.201.1.2', 0.04, { mtu: 1500 }), probe('10.201.1.2', 0.01), probe('10.201.1.2', 0.007)]), numeric))
      .toBe(' 1  10.201.1.2  0.040 ms F=1500  0.010 ms  0.007 ms\n');
    expect(hopLine(hop(1, [probe(null, null, { annotation: '!F-1500', mtu: 1500 })]), numeric)).toBe(' 1  * !F-1500\n');
  });

  it('shows names as "name (address)", -e extensions in <>, and NAT rewrites', () => {
    const named = probe('10.0.1.1', 0.1, { name: 'gw.example' });
    expect(hopLine(hop(1, [named, probe('10.0.1.1', 0.2)]), { names: true, extensions: false })).toBe(' 1  gw.example (10.0.1.1)  0.100 ms  0.200 ms\n');
    expect(hopLine(hop(1, [probe('10.0.1.1', 0.1)]), { names: true, extensions: false })).toBe(' 1  10.0.1.1 (10.0.1.1)  0.100 ms\n');
    const mpls = probe('10.0.2.1', 0.1, { extensions: 'MPLS:L=24001,E=0,S=1,T=1' });
    expect(hopLine(hop(2, [mpls, { ...mpls, rtt: 0.2 }]), { names: false, extensions: true })).toBe(' 2  10.0.2.1 <MPLS:L=24001,E=0,S=1,T=1>  0.100 ms  0.200 ms\n');
    expect(hopLine(hop(2, [mpls]), numeric)).toBe(' 2  10.0.2.1  0.100 ms\n');
    expect(hopLine(hop(3, [probe('10.0.3.1', 1, { flags: ['nat'] })]), numeric)).toBe(' 3  10.0.3.1 [NAT]  1.000 ms\n');
  });
});

describe('traceroute flags', () => {
  const parse = (argv: string[]) => parseInvocation(argv)!;

  it('defaults like traceroute: UDP, Paris, names on, both families for a name', () => {
    const inv = parse(['example.net']);
    expect(inv.options).toMatchObject({ method: 'udp', flow: 'paris', socket: 'auto', resolveNames: true, discoverMtu: false, extensions: false });
    expect(inv.families).toEqual([4, 6]);
    expect(inv.report).toBe(false);
  });

  it('maps every traceroute flag', () => {
    const inv = parse(['-I', '-n', '-f', '2', '-m', '20', '-q', '1', '-N', '32', '-w', '2,4,8', '-s', '10.0.0.1', '-i', 'eth0', '-t', '16', '-e', '--classic', '10.0.0.9', '1400']);
    expect(inv.options).toMatchObject({
      method: 'icmp', firstTtl: 2, maxTtl: 20, queries: 1, window: 32, wait: { maxMs: 2000, here: 4, near: 8 }, source: '10.0.0.1',
      device: 'eth0', tos: 16, extensions: true, flow: 'classic', packetLength: 1400, resolveNames: false, family: 4,
    });
    expect(inv.families).toEqual([4]);
    expect(parse(['-T', '-p', '443', '-6', 'h']).options).toMatchObject({ method: 'tcp', port: 443, family: 6 });
    expect(parse(['--tcp-connect', 'h']).options.method).toBe('tcp-connect');
    expect(parse(['-n4', 'h']).options.family).toBe(4);
    expect(parse(['--mtu', '-U', 'h']).options).toMatchObject({ discoverMtu: true, method: 'udp' });
    expect(parse(['-w', '3', 'h']).options.wait).toEqual({ maxMs: 3000, here: 0, near: 0 });
  });

  it('report flags', () => {
    const inv = parse(['--report', '--cycles', '5', '--interval', '0.1', 'h']);
    expect([inv.report, inv.cycles, inv.intervalMs, inv.watch]).toEqual([true, 5, 100, false]);
    expect(parse(['--watch', 'h'])).toMatchObject({ report: true, watch: true, cycles: undefined });
  });

  it('turns mistakes into usage errors naming the flag', () => {
    const bad: Array<[string[], RegExp]> = [
      [[], /no host given/],
      [['-I', '-T', 'h'], /choose one probe method/],
      [['-w', '5,x', 'h'], /option -w needs MAX\[,HERE,NEAR\]/],
      [['-4', '-6', 'h'], /-4 and -6 exclude each other/],
      [['-6', '10.0.0.1'], /is an IPv4 address, but -6 was given/],
      [['--cycles', '3', 'h'], /belong to report mode/],
      [['--mtu', '-T', 'h'], /--mtu needs ICMP or UDP/],
      [['-q', '2', '--report', 'h'], /-q does not combine with --report/],
      [['--paris', '--classic', 'h'], /exclude each other/],
      [['-q', '11', 'h'], /option -q must be from 1 to 10/],
      [['h', '70000'], /packetlen must be/],
      [['a', 'b', 'c'], /too many arguments/],
      [['-s', 'not-an-ip', 'h'], /-s needs an IP address/],
      [['-s', '10.0.0.1', 'fd00::1'], /-s 10\.0\.0\.1 is IPv4, the target is IPv6/],
    ];
    for (const [argv, message] of bad) {
      let error: unknown;
      try {
        parse(argv);
      } catch (e) {
        error = e;
      }
      expect(error, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((error as Error).message, argv.join(' ')).toMatch(message);
    }
    expect(parseInvocation(['--help'])).toBeNull();
    // a source address picks the family a name is resolved in
    expect(parse(['-s', 'fd00::1', 'example.net']).families).toEqual([6]);
  });
});

describe('reverse DNS', () => {
  it('looks each address up once and bounds every wait', async () => {
    const calls: string[] = [];
    const cache = new ReverseDnsCache({
      timeoutMs: 20,
      resolver: (a) => {
        calls.push(a);
        return a === '10.0.0.1' ? Promise.resolve('one.example') : new Promise<string | null>(() => {});
      },
    });
    expect(cache.peek('10.0.0.1')).toBeUndefined();
    expect(await cache.wait('10.0.0.1')).toBe('one.example');
    expect(cache.peek('10.0.0.1')).toBe('one.example');
    const started = Date.now();
    expect(await cache.wait('10.0.0.2')).toBeNull(); // never answers: given up after the timeout
    expect(Date.now() - started).toBeLessThan(1000);
    await cache.waitAll(['10.0.0.1', '10.0.0.1']);
    expect(calls).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('never delays probes: a trace with a resolver that hangs takes the same (fake) time and fills the names it got', async () => {
    const run = async (names: ReverseDnsCache | null): Promise<{ elapsed: number; names: Array<string | null> }> => {
      const clock = new FakeClock();
      const path = new FakePath(clock, linearPath(4, 2));
      const r = await clock.run(traceroute('10.0.4.1', { method: 'icmp', backend: fakeBackend(clock, path, names), resolveNames: names !== null }));
      return { elapsed: r.elapsed, names: r.hops.map((h) => h.probes[0]!.name) };
    };
    const slow = new ReverseDnsCache({ timeoutMs: 20, resolver: (a) => (a === '10.0.2.1' ? Promise.resolve('r2.example') : new Promise(() => {})) });
    const withNames = await run(slow);
    const without = await run(null);
    expect(withNames.elapsed).toBe(without.elapsed);
    expect(withNames.names).toEqual([null, 'r2.example', null, null]);
    expect(without.names).toEqual([null, null, null, null]);
  });
});
