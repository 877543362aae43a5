// Multipath discovery (MDA) driven through its public call on simulated load-balanced
// topologies (test/sim/multipath-topology.ts) on a fake clock: diamonds of width 2 and 3, a
// nested diamond, branches of unequal length, a silent hop, per-packet balancing; the graph
// found must be the one built, with the stopping rule's confidence and its probe counts.
import { describe, expect, it } from 'vitest';
import { tracerouteMultipath, type MultipathResult } from '../../src/traceroute/index.js';
import { confidenceAfter, missProbability, probesToRuleOut } from '../../src/traceroute/mda/stopping-rule.js';
import { multipathPathId } from '../../src/traceroute/mda/paths.js';
import { FakeClock } from '../sim/fake-network.js';
import { MultipathSim, simBackend, type SimTopology } from '../sim/multipath-topology.js';

const DEST = '10.9.9.9';

async function discover(topology: SimTopology, first: string, opts: { confidence?: number; flowIds?: number; window?: number } = {}): Promise<{ doc: MultipathResult; sim: MultipathSim }> {
  const clock = new FakeClock();
  const sim = new MultipathSim(clock, topology, first, DEST, opts.flowIds);
  const doc = await clock.run(tracerouteMultipath(DEST, {
    backend: simBackend(clock, sim), confidence: opts.confidence, window: opts.window, wait: { maxMs: 200 },
  }));
  return { doc, sim };
}

/** The links of a document as "ttl:a -> ttl:b" lines. */
const linkSet = (doc: MultipathResult): string[] => doc.links.map((l) => `${l.from.ttl}:${l.from.address} -> ${l.to.ttl}:${l.to.address}`).sort();
const hopSet = (doc: MultipathResult): string[][] => doc.hops.map((h) => h.interfaces.map((i) => i.address));

/** Every link of the topology as the document must list it, walking it TTL by TTL from `first`. */
function builtLinks(topology: SimTopology, first: string): string[] {
  const out = new Set<string>();
  const walk = (at: string, ttl: number, lastSeen: { ttl: number; at: string } | null): void => {
    const r = topology[at]!;
    const here = r.silent ? lastSeen : { ttl, at };
    if (lastSeen && !r.silent) out.add(`${lastSeen.ttl}:${lastSeen.at} -> ${ttl}:${at}`);
    for (const n of r.next) walk(n, ttl + 1, here);
  };
  walk(first, 1, null);
  return [...out].sort();
}

describe('the MDA stopping rule', () => {
  it('computes n_k from the miss probability: 95% gives 6, 11, 16, 21, 27 (Augustin et al.)', () => {
    expect([1, 2, 3, 4, 5].map((k) => probesToRuleOut(k, 0.95))).toEqual([6, 11, 16, 21, 27]);
  });

  it('asks for more probes at higher confidence, and n_k is the first n whose miss probability is small enough', () => {
    for (const conf of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      for (let k = 1; k <= 16; k++) {
        const n = probesToRuleOut(k, conf);
        expect(missProbability(k + 1, n)).toBeLessThanOrEqual(1 - conf);
        expect(missProbability(k + 1, n - 1)).toBeGreaterThan(1 - conf);
        expect(probesToRuleOut(k + 1, conf)).toBeGreaterThan(n);
      }
    }
    expect(probesToRuleOut(1, 0.99)).toBe(8);
    expect(confidenceAfter(1, 6)).toBeCloseTo(1 - 2 / 64, 10);
  });

  it('refuses a confidence outside (0, 1)', () => {
    expect(() => probesToRuleOut(1, 1)).toThrow(RangeError);
    expect(() => probesToRuleOut(1, 0)).toThrow(RangeError);
  });
});

describe('multipath discovery on simulated topologies', () => {
  it('finds both branches of a width-2 diamond, per flow, at 95%', async () => {
    const topo: SimTopology = {
      '10.0.1.1': { next: ['10.0.2.1', '10.0.2.2'] },
      '10.0.2.1': { next: ['10.0.3.1'] },
      '10.0.2.2': { next: ['10.0.3.1'] },
      '10.0.3.1': { next: [DEST] },
      [DEST]: { next: [] },
    };
    const { doc, sim } = await discover(topo, '10.0.1.1');
    expect(doc.schema).toBe('netdiag.multipath/1');
    expect(linkSet(doc)).toEqual(builtLinks(topo, '10.0.1.1'));
    expect(hopSet(doc)).toEqual([['10.0.1.1'], ['10.0.2.1', '10.0.2.2'], ['10.0.3.1'], [DEST]]);
    expect(doc.reached).toBe(true);
    expect(doc.paths.map((p) => p.hops)).toEqual(expect.arrayContaining([
      ['10.0.1.1', '10.0.2.1', '10.0.3.1', DEST], ['10.0.1.1', '10.0.2.2', '10.0.3.1', DEST],
    ]));
    expect(doc.paths).toHaveLength(2);
    for (const p of doc.paths) expect(p.pathId).toBe(multipathPathId(p.hops));
    expect(doc.hops[0]!.interfaces[0]!.balancing).toBe('per-flow');
    expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
    expect(doc.probes).toBe(sim.sent.length);
    // the balancer's own next-hop search: n_2 = 11 probes plus the per-packet check (n_1 - 1 = 5)
    expect(doc.hops[0]!.interfaces[0]!.probes).toBe(11 + 5);
    // each flow took one link out of the balancer, and it is the link the hash gives
    for (const l of doc.links.filter((x) => x.from.address === '10.0.1.1')) {
      for (const f of l.flows) expect(sim.routerAt(f, 2)).toBe(l.to.address);
    }
  });

  it('finds all three branches of a width-3 diamond', async () => {
    const topo: SimTopology = {
      a: { next: ['b1', 'b2', 'b3'] }, b1: { next: ['c'] }, b2: { next: ['c'] }, b3: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(topo, 'a');
    expect(linkSet(doc)).toEqual(builtLinks(topo, 'a'));
    expect(doc.paths).toHaveLength(3);
    expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
  });

  it('links an interface first found by node control to the one interface before it (no path with an unknown first hop)', async () => {
    // the routers' hash seeds follow their order: unreachable fillers in front vary them
    for (let fillers = 0; fillers < 40; fillers++) {
      const topo: SimTopology = Object.fromEntries(Array.from({ length: fillers }, (_, j) => [`x${j}`, { next: [] }]));
      Object.assign(topo, { a: { next: ['b1', 'b2', 'b3'] }, b1: { next: ['c'] }, b2: { next: ['c'] }, b3: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] } });
      const { doc } = await discover(topo, 'a');
      for (const p of doc.paths) expect(p.hops[0], `fillers ${fillers}: ${p.hops.join(' ')}`).toBe('a');
      const found = doc.hops[1]!.interfaces.map((i) => i.address);
      expect(linkSet(doc).filter((l) => l.startsWith('1:a ->'))).toEqual(found.map((b) => `1:a -> 2:${b}`).sort());
    }
  });

  it('finds a nested diamond (a branch that branches again) and every path through it', async () => {
    const topo: SimTopology = {
      a: { next: ['b1', 'b2'] }, b1: { next: ['c1', 'c2'] }, b2: { next: ['c3'] },
      c1: { next: ['d'] }, c2: { next: ['d'] }, c3: { next: ['d'] }, d: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(topo, 'a');
    expect(linkSet(doc)).toEqual(builtLinks(topo, 'a'));
    expect(doc.paths.map((p) => p.hops.join(' ')).sort()).toEqual([
      `a b1 c1 d ${DEST}`, `a b1 c2 d ${DEST}`, `a b2 c3 d ${DEST}`,
    ]);
    expect(new Set(doc.paths.map((p) => p.pathId)).size).toBe(3);
  });

  it('finds branches of unequal length: the destination at two TTLs, each path ending where it is reached', async () => {
    const topo: SimTopology = {
      a: { next: ['b1', 'b2'] }, b1: { next: [DEST] }, b2: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(topo, 'a');
    expect(linkSet(doc)).toEqual(builtLinks(topo, 'a'));
    expect(doc.paths.map((p) => p.hops.join(' ')).sort()).toEqual([`a b1 ${DEST}`, `a b2 c ${DEST}`]);
    expect(doc.paths.every((p) => p.reached)).toBe(true);
    expect(doc.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4]);
  });

  it('reports per-packet balancing as such (a flow that changes next hop), not as per-flow ECMP', async () => {
    const topo: SimTopology = {
      a: { next: ['b1', 'b2'], balancing: 'per-packet' }, b1: { next: ['c'] }, b2: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(topo, 'a');
    const a = doc.hops[0]!.interfaces[0]!;
    expect(a.balancing).toBe('per-packet');
    expect(doc.hops[1]!.interfaces.map((i) => i.address)).toEqual(['b1', 'b2']);
    // a per-flow balancer in the same place is not flagged
    const perFlow = await discover({ ...topo, a: { next: ['b1', 'b2'] } }, 'a');
    expect(perFlow.doc.hops[0]!.interfaces[0]!.balancing).toBe('per-flow');
  });

  it('crosses a silent hop with a link spanning it, and names the gap in the path', async () => {
    const topo: SimTopology = { a: { next: ['s'] }, s: { next: ['c'], silent: true }, c: { next: [DEST] }, [DEST]: { next: [] } };
    const { doc } = await discover(topo, 'a');
    expect(linkSet(doc)).toEqual(['1:a -> 3:c', `3:c -> 4:${DEST}`]);
    expect(doc.paths.map((p) => p.hops)).toEqual([['a', null, 'c', DEST]]);
    expect(doc.paths[0]!.pathId).toBe(multipathPathId(['a', null, 'c', DEST]));
  });

  it('spends fewer probes on a plain chain than on a diamond, and keeps within the window', async () => {
    const chain: SimTopology = { a: { next: ['b'] }, b: { next: [DEST] }, [DEST]: { next: [] } };
    const { doc, sim } = await discover(chain, 'a', { window: 4 });
    // one next hop each: n_1 = 6 probes per TTL
    expect(doc.probes).toBe(6 * 3);
    expect(sim.maxInFlight).toBeLessThanOrEqual(4);
    expect(doc.paths).toHaveLength(1);
    expect(doc.hops.every((h) => h.interfaces.every((i) => i.balancing === null))).toBe(true);
  });

  it('states a lower confidence when the flows run out before the stopping rule is met', async () => {
    const topo: SimTopology = { a: { next: ['b1', 'b2', 'b3', 'b4'] }, b1: { next: [DEST] }, b2: { next: [DEST] }, b3: { next: [DEST] }, b4: { next: [DEST] }, [DEST]: { next: [] } };
    const { doc } = await discover(topo, 'a', { flowIds: 12 });
    expect(doc.flows).toBeLessThanOrEqual(12);
    expect(doc.confidenceReached).toBeLessThan(95);
  });

  it('refuses tcp-connect, whose flows the kernel picks', async () => {
    await expect(tracerouteMultipath(DEST, { method: 'tcp-connect' as 'tcp' })).rejects.toThrow(/tcp-connect cannot choose its flow/);
    await expect(tracerouteMultipath(DEST, { confidence: 100 })).rejects.toThrow(RangeError);
  });
});

describe('multipath discovery and the abort signal', () => {
  it('an already aborted signal opens nothing and fails with an AbortError', async () => {
    const clock = new FakeClock();
    const sim = new MultipathSim(clock, { a: { next: [DEST] }, [DEST]: { next: [] } }, 'a', DEST);
    let opened = 0;
    const backend = { ...simBackend(clock, sim), openTransport: () => (opened++, sim) };
    const reason = new Error('gave up');
    await expect(tracerouteMultipath(DEST, { backend, signal: AbortSignal.abort(reason) })).rejects.toMatchObject({ name: 'AbortError', cause: reason });
    expect(opened).toBe(0);
  });

  it('an abort while probing ends with what was found, aborted: true, and closes the transport', async () => {
    const clock = new FakeClock();
    // the destination never answers: without the abort this would probe on to maxTtl
    const sim = new MultipathSim(clock, { a: { next: ['b1', 'b2'] }, b1: { next: [DEST] }, b2: { next: [DEST] }, [DEST]: { next: [], silent: true } }, 'a', DEST);
    const ac = new AbortController();
    const run = tracerouteMultipath(DEST, { backend: simBackend(clock, sim), signal: ac.signal, wait: { maxMs: 1000 } });
    clock.setTimer(() => ac.abort(), 500);
    const doc = await clock.run(run);
    expect(doc.aborted).toBe(true);
    expect(doc.reached).toBe(false);
    expect(doc.hops.map((h) => h.ttl)).toEqual([1, 2]);
    expect(sim.closed).toBe(true);
    expect(clock.now()).toBeLessThan(1000);
  });
});

describe('multipath discovery past a silent router', () => {
  it('finds a balancer behind a silent router: new flows are walked across the silent TTL (node control through the gap)', async () => {
    const topo: SimTopology = {
      a: { next: ['b', 's'] }, b: { next: ['c0'] }, s: { next: ['c1', 'c2'], silent: true },
      c0: { next: ['d'] }, c1: { next: ['d'] }, c2: { next: ['d'] }, d: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(topo, 'a');
    expect(linkSet(doc)).toEqual(builtLinks(topo, 'a'));
    expect(linkSet(doc)).toContain('1:a -> 3:c1');
    expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
  });
});
