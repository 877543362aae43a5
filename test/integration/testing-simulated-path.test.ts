// netdiag/testing's createSimulatedPath(): a TUN-backed path whose hops answer with the delays
// a scenario gives them (this kernel has no netem), seen by real tools inside the namespace,
// and gone after `await using`.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimulatedPath, testNetworkSupport } from '../../src/testing/index.js';
import { testAddonPath } from '../../src/testing/tun-addon.js';
import { unmet } from '../helpers/requirements.js';

const support = testNetworkSupport({ tun: true });
const why = !support.ok
  ? support.reason
  : !existsSync(testAddonPath())
    ? `no test addon at ${testAddonPath()} (npm run build:native, or npm run prebuild)`
    : unmet(['tool:traceroute']);
const requireAll = process.env.NETDIAG_REQUIRE_ALL === '1';
if (why && !requireAll) process.stderr.write(`[skipped] simulated path: ${why}\n`);

const rtts = (out: string) => [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));

describe.skipIf(why !== null && !requireAll)('createSimulatedPath()', () => {
  it('delays each hop as the scenario says, for ping and traceroute inside the namespace', async () => {
    let names: readonly string[] = [];
    {
      await using sim = await createSimulatedPath();
      names = sim.ns.namespaces;
      sim.setScenario(sim.scenario(3, { 2: { delayMs: 120 } }, { delayMs: 60 }));

      const ping = await sim.ns.run(sim.ns.ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', sim.destination.v4]);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      const pr = rtts(ping.stdout);
      expect(pr).toHaveLength(3);
      for (const t of pr) expect(t).toBeGreaterThanOrEqual(60);

      const tr = await sim.ns.run(sim.ns.ns, 'traceroute', ['-n', '-q', '1', '-w', '3', '-m', '6', sim.destination.v4]);
      expect(tr.code, tr.stdout + tr.stderr).toBe(0);
      const hops = tr.stdout.split('\n').filter((l) => /^\s*\d+\s/.test(l));
      expect(hops.map((l) => l.trim().split(/\s+/)[1])).toEqual([sim.hop(1).v4, sim.hop(2).v4, sim.hop(3).v4, sim.destination.v4]);
      const ms = hops.map((l) => Number(/([\d.]+) ms/.exec(l)![1]));
      // hop 1 has no delay: well under hop 2's 120 ms (a loaded or sanitized run adds tens of ms,
      // so a tighter bound would be about the machine, not the simulator)
      expect(ms[0]).toBeLessThan(120);
      expect(ms[1]).toBeGreaterThanOrEqual(120);
      expect(ms[3]).toBeGreaterThanOrEqual(60);
      expect(sim.responder.seen.length).toBeGreaterThanOrEqual(7); // 3 pings + 4 probes
    }
    expect(names).toHaveLength(1);
    expect(readdirSync('/run/netns').filter((n) => names.includes(n))).toEqual([]);
  });

  it('per-packet load balancing answers from the hop and its alternate in turn; rate limiting keeps a burst', async () => {
    await using sim = await createSimulatedPath();
    const alt = sim.hop(50);
    sim.setScenario(sim.scenario(3, { 1: { rateLimit: { perSecond: 0.001, burst: 2 } }, 2: { alternates: [alt], balance: 'per-packet' } }));
    const tr = await sim.ns.run(sim.ns.ns, 'traceroute', ['-n', '-q', '4', '-w', '1', '-m', '2', sim.destination.v4]);
    const lines = tr.stdout.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    expect(lines, tr.stdout).toHaveLength(2);
    // hop 1: two answers out of four probes (the bucket never refills in time), the rest '*'
    expect([...lines[0].matchAll(/ ms/g)]).toHaveLength(2);
    expect([...lines[0].matchAll(/\*/g)]).toHaveLength(2);
    // hop 2: both routers behind the balancer, each twice
    expect(lines[1]).toContain(sim.hop(2).v4);
    expect(lines[1]).toContain(alt.v4);
    expect([...lines[1].matchAll(/ ms/g)]).toHaveLength(4);
  });
});
