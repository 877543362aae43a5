// The trace engine on a fake clock and a fake path: the -N window, in-order results, the
// adaptive waits of -w MAX,HERE,NEAR, stopping at the destination, unreachables, EAGAIN retries,
// path MTU discovery and traceroute's moving of a late final answer into an expired slot.
import { describe, expect, it } from 'vitest';
import { traceroute, tracerouteStream } from '../../src/traceroute/index.js';
import type { TracerouteEvent, TracerouteResult } from '../../src/traceroute/types.js';
import { FakeClock, FakePath, fakeBackend, linearPath, type FakeHop } from '../sim/fake-network.js';

function setup(hops: FakeHop[]): { clock: FakeClock; path: FakePath; backend: ReturnType<typeof fakeBackend> } {
  const clock = new FakeClock();
  const path = new FakePath(clock, hops);
  return { clock, path, backend: fakeBackend(clock, path) };
}

async function trace(hops: FakeHop[], options: Parameters<typeof traceroute>[1] = {}): Promise<{ r: TracerouteResult; path: FakePath; clock: FakeClock }> {
  const { clock, path, backend } = setup(hops);
  const r = await clock.run(traceroute('10.0.8.1', { method: 'icmp', ...options, backend }));
  return { r, path, clock };
}

describe('traceroute engine: window and order', () => {
  it('sends the first 16 probes at once (TTL 1-5 x3 + TTL 6) and never has more than 16 in flight', async () => {
    const { r, path } = await trace(linearPath(8));
    const first = path.sent.filter((p) => p.at === 0);
    expect(first.map((p) => p.ttl)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]);
    expect(Math.max(...path.sent.map((p) => p.inFlight))).toBeLessThanOrEqual(16);
    expect(r.reached).toBe(true);
    expect(r.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const h of r.hops) {
      expect(h.probes).toHaveLength(3);
      expect(h.probes.every((p) => p.address === `10.0.${h.ttl}.1` && p.rtt === h.ttl && p.status === 'reply')).toBe(true);
    }
  });

  it('-N 1 sends one probe at a time, each after the previous is decided', async () => {
    const { r, path } = await trace(linearPath(4), { window: 1 });
    expect(Math.max(...path.sent.map((p) => p.inFlight))).toBe(1);
    expect(path.sent.map((p) => p.ttl)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    // each probe waits for the answer of the one before it: 3 × (1 + 2 + 3 + 4) ms
    expect(r.elapsed).toBe(30);
  });

  it('stops at the destination TTL and forgets the probes sent past it', async () => {
    const { r, path } = await trace(linearPath(3));
    expect(r.hops).toHaveLength(3);
    expect(r.hops[2]!.probes.every((p) => p.icmp?.type === 0)).toBe(true);
    expect(path.sent.some((p) => p.ttl > 3)).toBe(true); // the window ran ahead...
    for (const p of path.sent) expect(path.released.has(p.id)).toBe(true); // ...and every probe was let go
    expect(path.closed).toBe(true);
  });

  it('an unreachable (!H) ends the trace at its hop, not reached', async () => {
    const { r } = await trace(linearPath(8, 1, { 4: { annotation: '!H' } }));
    expect(r.reached).toBe(false);
    expect(r.hops).toHaveLength(4);
    expect(r.hops[3]!.probes.map((p) => p.annotation)).toEqual(['!H', '!H', '!H']);
  });

  it('retries probes the kernel had no room for (EAGAIN/ENOBUFS)', async () => {
    const { clock, path, backend } = setup(linearPath(4));
    path.busyFor = 5;
    const r = await clock.run(traceroute('10.0.4.1', { method: 'icmp', backend }));
    expect(r.reached).toBe(true);
    expect(r.hops.flatMap((h) => h.probes).every((p) => p.status === 'reply')).toBe(true);
  });

  it('streams start, every probe and every hop in TTL order, then end', async () => {
    const { clock, backend } = setup(linearPath(3, 5, { 2: { answers: (n) => n !== 1 } }));
    const events: TracerouteEvent[] = [];
    await clock.run((async () => {
      for await (const e of tracerouteStream('10.0.3.1', { method: 'icmp', backend })) events.push(e);
    })());
    expect(events[0]!.type).toBe('start');
    expect(events.at(-1)!.type).toBe('end');
    const order = events.slice(1, -1).map((e) => (e.type === 'probe' ? `p${e.ttl}.${e.index}` : e.type === 'hop' ? `h${e.hop.ttl}` : e.type));
    expect(order).toEqual(['p1.0', 'p1.1', 'p1.2', 'h1', 'p2.0', 'p2.1', 'p2.2', 'h2', 'p3.0', 'p3.1', 'p3.2', 'h3']);
    const hop2 = events.find((e) => e.type === 'hop' && e.hop.ttl === 2);
    expect(hop2?.type === 'hop' && hop2.hop.probes.map((p) => p.status)).toEqual(['reply', 'timeout', 'reply']);
  });

  it('an aborted trace resolves with what it has, marked aborted', async () => {
    const { clock, backend } = setup(linearPath(6, 1, { 3: { silent: true } }));
    const ac = new AbortController();
    const p = traceroute('10.0.6.1', { method: 'icmp', backend, signal: ac.signal, wait: { maxMs: 5000, here: 0, near: 0 } });
    clock.setTimer(() => ac.abort(), 100);
    const r = await clock.run(p);
    expect(r.aborted).toBe(true);
    expect(r.reached).toBe(false);
    expect(r.hops.map((h) => h.ttl)).toEqual([1, 2]);
    expect(r.elapsed).toBe(100);
  });
});

describe('traceroute engine: adaptive waits (-w MAX,HERE,NEAR)', () => {
  it('a silent hop waits NEAR × (RTT + 1 ms) of a later hop, not MAX', async () => {
    const { r } = await trace(linearPath(8, 1, { 3: { silent: true } }));
    expect(r.hops[2]!.probes.map((p) => p.status)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(r.reached).toBe(true);
    // hop 4's first probe (RTT 4 ms) is the first later answer: (4 + 1) × 10 = 50 ms after send at 0
    expect(r.elapsed).toBe(50);
  });

  it('with a single -w value (no HERE/NEAR) a silent hop costs MAX', async () => {
    const { r } = await trace(linearPath(8, 1, { 3: { silent: true } }), { wait: { maxMs: 2000, here: 0, near: 0 } });
    expect(r.elapsed).toBe(2000);
  });

  it('once a probe of the same hop answered, the others wait HERE × (RTT + 1 ms)', async () => {
    const { r } = await trace(linearPath(4, 2, { 2: { answers: (n) => n === 0 } }));
    expect(r.hops[1]!.probes.map((p) => p.status)).toEqual(['reply', 'timeout', 'timeout']);
    // hop 2 RTT 4 ms: (4 + 1) × 3 = 15 ms after their send at 0; the destination answered at 8 ms
    expect(r.elapsed).toBe(15);
  });

  it('HERE is capped by MAX', async () => {
    const { r } = await trace(linearPath(2, 40, { 1: { answers: (n) => n === 0 } }), { wait: { maxMs: 100, here: 3, near: 10 } });
    expect(r.hops[0]!.probes.map((p) => p.status)).toEqual(['reply', 'timeout', 'timeout']);
    // HERE would be (40 + 1) × 3 = 123 ms; MAX cuts it to 100 (the destination answered at 80)
    expect(r.elapsed).toBe(100);
  });
});

describe('traceroute engine: final answers and path MTU', () => {
  it('moves a late !H into the expired slots of the hop it belongs to (traceroute check_expired)', async () => {
    // hop 4 drops the first three probes that reach it and answers the rest with !H
    const { r } = await trace(linearPath(4, 1, { 4: { annotation: '!H', answers: (n) => n >= 3 } }));
    expect(r.hops).toHaveLength(4);
    expect(r.hops[3]!.probes.map((p) => `${p.address} ${p.annotation}`)).toEqual(['10.0.4.1 !H', '10.0.4.1 !H', '10.0.4.1 !H']);
    expect(r.reached).toBe(false);
  });

  it('--mtu: shrinks to the local MTU, then to a router\'s frag-needed MTU, and notes F=<mtu> where it did', async () => {
    const { clock, path, backend } = setup(linearPath(5, 1, { 3: { mtu: 1400 } }));
    path.localMtu = 1500;
    const r = await clock.run(traceroute('10.0.5.1', { method: 'icmp', backend, discoverMtu: true }));
    expect(Math.max(...path.sent.map((p) => p.inFlight))).toBe(1);
    expect(r.reached).toBe(true);
    expect(r.hops[0]!.probes[0]!.mtu).toBe(1500);
    expect(r.hops[2]!.probes[0]!.mtu).toBe(1400);
    expect(r.hops[2]!.probes[0]!.status).toBe('reply');
    expect(r.hops.flatMap((h) => h.probes).filter((p) => p.mtu !== null)).toHaveLength(2);
    expect(path.sent.at(-1)!.length).toBe(1400);
    expect(r.packetLength).toBe(65000);
  });

  it('a too-big send without --mtu is traceroute\'s !F-<mtu>, final', async () => {
    const { clock, path, backend } = setup(linearPath(3));
    path.localMtu = 1000;
    const r = await clock.run(traceroute('10.0.3.1', { method: 'icmp', backend, packetLength: 1200 }));
    expect(r.hops).toHaveLength(1);
    expect(r.hops[0]!.probes[0]).toMatchObject({ address: null, annotation: '!F-1000', status: 'timeout' });
    expect(r.reached).toBe(false);
  });
});
