// Multipath discovery (MDA) driven through its public call on simulated load-balanced
// topologies (test/sim/multipath-topology.ts) on a fake clock: diamonds of width 2 and 3, a
// nested diamond, branches of unequal length, a silent hop, per-packet balancing; the graph
// found must be the one built, with the stopping rule's confidence and its probe counts.
import { describe, expect, it } from 'vitest';
import { tracerouteMultipath, type MultipathResult } from '../../src/traceroute/index.js';
import { confidenceAfter, missProbability, perPacketRepeats, probesToRuleOut } from '../../src/traceroute/mda/stopping-rule.js';
import { controlFlows, expectedShare, heldInTurn, MultipathDiscovery, type Prober } from '../../src/traceroute/mda/discovery.js';
import type { PoolAnswer } from '../../src/traceroute/mda/probe-pool.js';
import type { MultipathInterface } from '../../src/traceroute/mda/types.js';
import { multipathPathId } from '../../src/traceroute/mda/paths.js';
import type { FirstHopRule } from '../../src/traceroute/mda/first-hop.js';
import { FakeClock } from '../sim/fake-network.js';
import { MultipathSim, simBackend, type SimTopology } from '../sim/multipath-topology.js';

const DEST = '10.9.9.9';

interface DiscoverOptions {
  confidence?: number;
  flowIds?: number;
  window?: number;
  algorithm?: 'lite' | 'full';
  /** what the source's routing table says (default: nothing, the stopping rule decides the first hop) */
  firstHop?: FirstHopRule;
  /** of the order flows are sent in */
  seed?: number;
}

/** A repeatable stand-in for Math.random. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s = (s ^ (s >>> 13)) >>> 0;
    return s / 2 ** 32;
  };
}

async function discover(topology: SimTopology, first: string, opts: DiscoverOptions = {}): Promise<{ doc: MultipathResult; sim: MultipathSim }> {
  const clock = new FakeClock();
  const sim = new MultipathSim(clock, topology, first, DEST, opts.flowIds);
  const doc = await clock.run(tracerouteMultipath(DEST, {
    backend: simBackend(clock, sim), confidence: opts.confidence, window: opts.window, wait: { maxMs: 200 }, algorithm: opts.algorithm,
    firstHop: () => opts.firstHop ?? 'stopping-rule', random: seeded(opts.seed ?? 1),
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
    // one next hop each: n_1 = 6 probes per TTL, and one at the destination's last hop
    expect(doc.probes).toBe(6 + 6 + 1);
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

  it('probes the only interface before a silent router up to the stopping rule of what it finds past it: its new flows only placed, not probed, still walk on (the rounds ended there, at 74%)', async () => {
    const topo: SimTopology = {
      a: { next: ['s'] }, s: { next: ['b1', 'b2'], silent: true }, b1: { next: ['d'] }, b2: { next: ['d'] }, d: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(topo, 'a', { firstHop: 'routing-table' });
    expect(linkSet(doc)).toEqual(builtLinks(topo, 'a'));
    expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
    // n_2 = 11 flows crossed the gap from a, besides its 6 at the silent TTL itself
    expect(doc.hops[0]!.interfaces[0]!.probes).toBeGreaterThanOrEqual(6 + 11);
  });
});

describe('MDA-Lite and the rules that spare probes', () => {
  const parallel: SimTopology = { a: { next: ['b1', 'b2'] }, b1: { next: ['c1'] }, b2: { next: ['c2'] }, c1: { next: [DEST] }, c2: { next: [DEST] }, [DEST]: { next: [] } };
  const iface = (doc: MultipathResult, address: string): MultipathInterface => doc.hops.flatMap((h) => h.interfaces).find((i) => i.address === address)!;
  const sentAt = (sim: MultipathSim, ttl: number): number => sim.sent.filter((p) => p.ttl === ttl).length;

  it('sends one probe at the first TTL when the routing table says the source has one next hop, n_1 when it cannot tell', async () => {
    const chain: SimTopology = { a: { next: ['b'] }, b: { next: [DEST] }, [DEST]: { next: [] } };
    const told = await discover(chain, 'a', { firstHop: 'routing-table' });
    expect(told.doc.firstHop).toBe('routing-table');
    expect(sentAt(told.sim, 1)).toBe(1);
    expect(told.doc.confidenceReached).toBeGreaterThanOrEqual(95);
    const unknown = await discover(chain, 'a');
    expect(unknown.doc.firstHop).toBe('stopping-rule');
    expect(sentAt(unknown.sim, 1)).toBe(6);
    expect(told.doc.paths).toEqual(unknown.doc.paths);
  });

  it('the routing table speaks only for hop 1: from a later first TTL the stopping rule decides', async () => {
    const clock = new FakeClock();
    const sim = new MultipathSim(clock, { a: { next: ['b'] }, b: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] } }, 'a', DEST);
    const doc = await clock.run(tracerouteMultipath(DEST, { backend: simBackend(clock, sim), wait: { maxMs: 200 }, firstTtl: 2, firstHop: () => 'routing-table' }));
    expect(doc.firstHop).toBe('stopping-rule');
    expect(sentAt(sim, 2)).toBe(6);
  });

  it('gives the destination\'s last hop one probe: the destination answered, decided by "destination"', async () => {
    const topo: SimTopology = { a: { next: ['b1', 'b2'] }, b1: { next: [DEST] }, b2: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] } };
    const { doc } = await discover(topo, 'a', { firstHop: 'routing-table' });
    expect(iface(doc, 'b1')).toMatchObject({ probes: 1, decidedBy: 'destination', confidence: 100 });
    expect(iface(doc, 'c')).toMatchObject({ probes: 1, decidedBy: 'destination' });
    expect(doc.paths.map((p) => p.hops.join(' ')).sort()).toEqual([`a b1 ${DEST}`, `a b2 c ${DEST}`]);
  });

  it('decides a hop per interface when an interface holds fewer flows than its own stopping rule (an inner balancer cannot hide behind the hop\'s count), inferring new flows\' interface instead of node control', async () => {
    const lite = await discover(parallel, 'a', { firstHop: 'routing-table' });
    expect(lite.doc.algorithm).toBe('lite');
    expect(linkSet(lite.doc)).toEqual(builtLinks(parallel, 'a'));
    const b1 = iface(lite.doc, 'b1');
    const b2 = iface(lite.doc, 'b2');
    // n_1 = 6 each: the hop's n_2 = 11 split over two interfaces leaves one of them short
    expect(b1.probes).toBeGreaterThanOrEqual(6);
    expect(b2.probes).toBeGreaterThanOrEqual(6);
    expect(lite.doc.confidenceReached).toBeGreaterThanOrEqual(95);
    const full = await discover(parallel, 'a', { firstHop: 'routing-table', algorithm: 'full' });
    expect(full.doc.algorithm).toBe('full');
    expect(iface(full.doc, 'b1')).toMatchObject({ decidedBy: 'stopping-rule' });
    expect(iface(full.doc, 'b1').probes).toBeGreaterThanOrEqual(6);
    expect(iface(full.doc, 'b2').probes).toBeGreaterThanOrEqual(6);
    expect(linkSet(full.doc)).toEqual(linkSet(lite.doc));
    expect(full.doc.probes).toBeGreaterThanOrEqual(lite.doc.probes);
  });

  it('spends held flows on the interfaces short of their own stopping rule first, in turn, then the rest at random (bench/multipath nested: a branch with half the flows used them while its siblings went short)', () => {
    const random = seeded(7);
    const picked = heldInTurn([
      { key: 'a', flows: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], want: 2 },
      { key: 'b', flows: [11, 12, 13], want: 6 },
      { key: 'c', flows: [21, 22, 23, 24], want: 6 },
    ], 8, random);
    expect(picked).toHaveLength(8);
    // a wants 2, b all 3 it has, c all 4: 9 wanted, 8 allowed, taken in turn a b c a b c b c
    expect(picked.map((p) => `${p.key}${p.flow}`)).toEqual(['a1', 'b11', 'c21', 'a2', 'b12', 'c22', 'b13', 'c23']);
    // past what each wants, the rest (a's) fill up to the limit
    const more = heldInTurn([{ key: 'a', flows: [1, 2, 3, 4], want: 1 }, { key: 'b', flows: [11], want: 6 }], 4, random);
    expect(more.slice(0, 2).map((p) => p.flow)).toEqual([1, 11]);
    expect(new Set(more.map((p) => p.flow)).size).toBe(4);
    expect(more.slice(2).every((p) => p.key === 'a' && p.flow !== 1)).toBe(true);
    expect(heldInTurn([{ key: 'a', flows: [1], want: 3 }], 5, random)).toEqual([{ key: 'a', flow: 1 }]);
  });

  it('sends node control the new flows a short interface is expected to need, and none where that is more than its budget left: flows past a lost answer stand at an interface as if across a silent router, but new ones are hardly ever silent there (10% answer loss cost 42% more probes with the budget doubled)', () => {
    // a silent router on one of two branches: half the new flows cross it
    expect(controlFlows(5, 1 / 2, 96)).toBe(10);
    expect(controlFlows(5, 1 / 10, 96)).toBe(50);
    // one answer in 40 lost: 200 new flows expected for 5 probes
    expect(controlFlows(5, 1 / 40, 96)).toBe(0);
    expect(controlFlows(5, 1 / 40, 200)).toBe(200);
  });

  it('expects a short interface to draw at least an even split of new flows: its own low count is why it is short (bench/multipath width-3 asked 16 new flows for 3 where 9 did)', () => {
    expect(expectedShare('a', new Map([['a', 3], ['b', 6], ['c', 7]]))).toBeCloseTo(1 / 3);
    expect(expectedShare('a', new Map([['a', 2], ['b', 14]]))).toBeCloseTo(1 / 2);
    // a share above the even split is the balancer's own: kept
    expect(expectedShare('a', new Map([['a', 9], ['b', 4], ['c', 3]]))).toBeCloseTo(9 / 16);
    // never seen: a quarter, the guess before any count
    expect(expectedShare('z', new Map([['a', 9]]))).toBe(1 / 4);
    expect(expectedShare('a', new Map())).toBe(1 / 4);
  });

  it('falls back to the per-interface MDA where the meshing test finds the hop pair meshed, and still finds every link', async () => {
    const meshed: SimTopology = {
      a: { next: ['b1', 'b2'] }, b1: { next: ['c1', 'c2'] }, b2: { next: ['c1', 'c2'] }, c1: { next: ['d'] }, c2: { next: ['d'] }, d: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(meshed, 'a', { firstHop: 'routing-table' });
    expect(doc.fullMdaTtls).toContain(3);
    expect(linkSet(doc)).toEqual(builtLinks(meshed, 'a'));
    expect(doc.paths).toHaveLength(4);
    for (const b of ['b1', 'b2']) expect(iface(doc, b)).toMatchObject({ decidedBy: 'stopping-rule' });
    expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
  });

  it('falls back to the per-interface MDA where the hop pair is not uniform (one branch branches again)', async () => {
    const nested: SimTopology = {
      a: { next: ['b1', 'b2'] }, b1: { next: ['c1', 'c2'] }, b2: { next: ['c3'] },
      c1: { next: ['d'] }, c2: { next: ['d'] }, c3: { next: ['d'] }, d: { next: [DEST] }, [DEST]: { next: [] },
    };
    const { doc } = await discover(nested, 'a', { firstHop: 'routing-table' });
    expect(doc.fullMdaTtls).toContain(3);
    expect(linkSet(doc)).toEqual(builtLinks(nested, 'a'));
    // b1 needs n_2 = 11 probes of its own (plus its per-packet check)
    expect(iface(doc, 'b1')).toMatchObject({ decidedBy: 'stopping-rule' });
    expect(iface(doc, 'b1').probes).toBeGreaterThanOrEqual(11);
    expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
  });

  it('repeats a flow (1/k)^r <= 1 - confidence times for the per-packet check', () => {
    expect([2, 3, 4, 5, 8].map((k) => perPacketRepeats(k, 0.95))).toEqual([5, 3, 3, 2, 2]);
    expect(perPacketRepeats(2, 0.99)).toBe(7);
    for (const k of [2, 3, 6]) {
      const r = perPacketRepeats(k, 0.95);
      expect(Math.pow(1 / k, r)).toBeLessThanOrEqual(0.05);
      expect(Math.pow(1 / k, r - 1)).toBeGreaterThan(0.05);
    }
  });

  it('needs no repeats where the flows one TTL on already showed per-flow balancing (each branch has its own successors)', async () => {
    const { doc } = await discover(parallel, 'a', { firstHop: 'routing-table' });
    // a's next hops took n_2 = 11 probes and nothing more
    expect(iface(doc, 'a')).toMatchObject({ probes: 11, balancing: 'per-flow' });
    const width3 = await discover({ a: { next: ['b1', 'b2', 'b3'] }, b1: { next: ['c'] }, b2: { next: ['c'] }, b3: { next: ['c'] }, c: { next: [DEST] }, [DEST]: { next: [] } }, 'a');
    // the branches meet at once: n_3 = 16 and three repeats
    expect(iface(width3.doc, 'a').probes).toBe(16 + 3);
  });

  it('still reports per-packet balancing where each branch has its own successors', async () => {
    const { doc } = await discover({ ...parallel, a: { next: ['b1', 'b2'], balancing: 'per-packet' } }, 'a', { firstHop: 'routing-table' });
    expect(iface(doc, 'a').balancing).toBe('per-packet');
  });
});

describe('asking silence again', () => {
  const reply = (ttl: number, from: string): PoolAnswer => ({
    rtt: 1,
    reply: { id: 0, stamp: ttl, from, icmp: { type: 11, code: 0 }, annotation: null, final: false, reached: false, mtu: null, mpls: [], extensions: null, replyTtl: 64, flags: [] },
  });
  const config = { firstTtl: 1, maxTtl: 2, confidence: 0.95, flowLimit: 1000, gapLimit: 3, algorithm: 'lite' as const, firstHopSingle: true, random: () => 0.5 };

  it('asks a silence again after a pause for the rate limit where an interface of the TTL answered a burst, at once otherwise', async () => {
    // the two silences wait side by side (one second in all)
    for (const [dropAfter, paused] of [[6, [1000, 1000]], [2, []]] as const) {
      const pauses: number[] = [];
      let answeredAt2 = 0;
      let dropped = 0;
      // TTL 2: b1 takes three flows in four, b2 the rest; after `dropAfter` answers from b1 the
      // next two probes go unanswered (b1's bucket is empty), later ones are answered again
      const prober: Prober = async (ttl, flow) => {
        if (ttl === 1) return reply(1, 'a');
        if (answeredAt2 === dropAfter && dropped < 2) {
          dropped++;
          return null;
        }
        if (flow % 4 === 3) return reply(2, 'b2');
        answeredAt2++;
        return reply(2, 'b1');
      };
      const d = new MultipathDiscovery(config, prober, () => false, async (ms) => {
        pauses.push(ms);
      });
      await d.run();
      expect(pauses, `after ${dropAfter} answers`).toEqual(paused);
      expect(dropped).toBe(2);
      // every flow was answered in the end: no silence recorded, no link across TTL 2
      expect(d.graph.vertex('1 a').probes).toBe(11 + 5);
      expect([...d.graph.links.keys()].sort()).toEqual(['1 a>2 b1', '1 a>2 b2']);
    }
  });
});

describe('a branch the stopping rule missed', () => {
  const reply = (ttl: number, from: string, reached = false): PoolAnswer => ({
    rtt: 1,
    reply: { id: 0, stamp: ttl, from, icmp: reached ? { type: 3, code: 3 } : { type: 11, code: 0 }, annotation: null, final: reached, reached, mtu: null, mpls: [], extensions: null, replyTtl: 64, flags: [] },
  });
  const config = { firstTtl: 1, maxTtl: 5, confidence: 0.95, flowLimit: 1000, gapLimit: 3, algorithm: 'lite' as const, firstHopSingle: true, random: () => 0.5 };

  it('asks new flows placed behind the only interface seen where a next hop rests on them alone: no false link, the missed interface found, its balancer probed up to the stopping rule of the next hops it has now (bench/multipath nested drew a false path once in 60 runs; the nested diamond in CI stated 74%)', async () => {
    // a balances over b1 and b2, but its first 6 flows all took b1 (the rule's stated miss);
    // b1 balances over c1 and c3 (so it needs more flows than a sent it), b2 leads to c2; all reach d
    const branch = (flow: number): 'b1' | 'b2' => (flow < 6 || flow % 2 === 0 ? 'b1' : 'b2');
    const prober: Prober = async (ttl, flow) => {
      if (ttl === 1) return reply(1, 'a');
      const b = branch(flow);
      if (ttl === 2) return reply(2, b);
      if (ttl === 3) return reply(3, b === 'b2' ? 'c2' : flow % 3 === 0 ? 'c3' : 'c1');
      return reply(4, 'd', true);
    };
    const d = new MultipathDiscovery(config, prober, () => false, async () => {});
    await d.run();
    const links = [...d.graph.links.keys()].sort();
    expect(links).not.toContain('2 b1>3 c2');
    expect(links).toEqual(expect.arrayContaining(['1 a>2 b1', '1 a>2 b2', '2 b1>3 c1', '2 b1>3 c3', '2 b2>3 c2']));
    // a was decided with 6 probes for one next hop; with two it needs 11: it is probed up to
    // them again, and states what they give, not the 96.9% of one next hop nor less than asked
    const a = d.graph.vertex('1 a');
    expect(a.probes).toBeGreaterThanOrEqual(probesToRuleOut(2, 0.95));
    expect(d.vertexDecision('1 a')).toEqual({ confidence: confidenceAfter(2, a.probes), rule: 'stopping-rule' });
    expect(d.confidenceReached()).toBeGreaterThanOrEqual(0.95);
  });

  it('asks a new flow at the TTL before where it would give the only interface there a next hop none of its own probes showed: no false link, the missed branch found and probed up to its rule (bench/multipath nested drew b1 -> c3 2 times in 10,000 simulated runs)', async () => {
    // a balances over b1 and b2, but its first 11 flows all took b1; b1 leads to c1 and c2,
    // b2 to c3, all to d. The first flow to reach c3 is one sent straight to TTL 4 and asked at 3.
    const branch = (flow: number): 'b1' | 'b2' => (flow <= 10 || flow % 2 === 0 ? 'b1' : 'b2');
    const prober: Prober = async (ttl, flow) => {
      if (ttl === 1) return reply(1, 'a');
      const b = branch(flow);
      if (ttl === 2) return reply(2, b);
      // b1's own split, of flows b1 takes among the first 11 and after them (every other flow)
      if (ttl === 3) return reply(3, b === 'b2' ? 'c3' : (flow <= 10 ? flow % 2 === 1 : flow % 4 === 0) ? 'c1' : 'c2');
      if (ttl === 4) return reply(4, 'd');
      return reply(5, 'e', true);
    };
    const d = new MultipathDiscovery(config, prober, () => false, async () => {});
    await d.run();
    const links = [...d.graph.links.keys()].sort();
    expect(links).not.toContain('2 b1>3 c3');
    expect(links).toEqual(['1 a>2 b1', '1 a>2 b2', '2 b1>3 c1', '2 b1>3 c2', '2 b2>3 c3', '3 c1>4 d', '3 c2>4 d', '3 c3>4 d', '4 d>5 e']);
    for (const key of ['1 a', '2 b2']) {
      const v = d.graph.vertex(key);
      expect(v.probes, key).toBeGreaterThanOrEqual(probesToRuleOut(d.graph.vertex(key).successors.size, 0.95));
    }
    expect(d.confidenceReached()).toBeGreaterThanOrEqual(0.95);
  });

  it('asks a flow silent where its interface\'s other flows answered once more, a while later, before it crosses the TTL: no false link across a lost answer, nor from the destination to itself (10% answer loss drew one in half the simulated runs)', async () => {
    // a chain a b c d, the destination e at TTL 5; flow 3's first two answers at TTL 3 are lost,
    // and the first two at TTL 5 (the destination's: the first flow there and its second ask)
    const asked = new Map<string, number>();
    let atDestination = 0;
    const prober: Prober = async (ttl, flow) => {
      const n = (asked.get(`${ttl}:${flow}`) ?? 0) + 1;
      asked.set(`${ttl}:${flow}`, n);
      if (ttl === 3 && flow === 3 && n <= 2) return null;
      if (ttl >= 5 && ++atDestination <= 2) return null;
      return reply(ttl, 'abcde'[Math.min(ttl, 5) - 1]!, ttl >= 5);
    };
    const d = new MultipathDiscovery({ ...config, maxTtl: 8, algorithm: 'full' }, prober, () => false, async () => {});
    await d.run();
    expect([...d.graph.links.keys()].sort()).toEqual(['1 a>2 b', '2 b>3 c', '3 c>4 d', '4 d>5 e']);
    expect(asked.get('3:3')).toBe(3);
    // the flow asked a third time at TTL 5 reached the destination there: nothing goes to TTL 6
    expect([...asked.keys()].filter((k) => k.startsWith('6:'))).toEqual([]);
    expect(d.confidenceReached()).toBeGreaterThanOrEqual(0.95);
  });

  it('spends new flows on an interface one in 14 of them reaches until its stopping rule holds: 8 new flows per probe of its rule fell short (93.75% where 95% was asked; 2% of simulated 4-wide nested diamonds)', async () => {
    // a balances over b1 and b2 by parity; b1 sends one flow in seven to c1; all reach d
    const prober: Prober = async (ttl, flow) => {
      if (ttl === 1) return reply(1, 'a');
      const b = flow % 2 === 0 ? 'b1' : 'b2';
      if (ttl === 2) return reply(2, b);
      if (ttl === 3) return reply(3, b === 'b2' ? 'c3' : flow % 14 === 0 ? 'c1' : 'c2');
      if (ttl === 4) return reply(4, 'd');
      return reply(5, 'e', true);
    };
    const d = new MultipathDiscovery({ ...config, algorithm: 'full' }, prober, () => false, async () => {});
    await d.run();
    expect(d.graph.vertex('3 c1').probes).toBeGreaterThanOrEqual(probesToRuleOut(1, 0.95));
    expect(d.confidenceReached()).toBeGreaterThanOrEqual(0.95);
  });
});

