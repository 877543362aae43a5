// netdiag/testing's createNetwork(): computed routes, ECMP that keeps a flow on one branch,
// link down/up rerouting, MTU, exact loss counters, TCP reject, runFunction, `await using`.
// Every namespace is made here and removed in afterAll / by disposal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, createTopology, testNetworkSupport, type Network } from '../../src/testing/index.js';

const support = testNetworkSupport();
const requireAll = process.env.NETDIAG_REQUIRE_ALL === '1';
if (!support.ok && !requireAll) process.stderr.write(`[skipped] netdiag/testing networks: ${support.reason} — ${support.fix}\n`);

describe('testNetworkSupport()', () => {
  it('says ok with no reason, or names what is missing and how to allow it', () => {
    expect(typeof support.ok).toBe('boolean');
    if (support.ok) {
      expect(support).toMatchObject({ reason: '', fix: null, missing: [] });
    } else {
      expect(support.missing.length).toBeGreaterThan(0);
      expect(support.reason).toContain(support.missing[0]);
      expect(support.fix).toMatch(/docker run|apt-get install|root/);
    }
  });
});

// Sends `count` UDP datagrams to dst:9 from each local port in `ports` (nothing listens there).
async function sendFlows(arg: { dst: string; ports: number[]; count: number }): Promise<number> {
  const dgram = await import('node:dgram');
  let sent = 0;
  for (const port of arg.ports) {
    const s = dgram.createSocket(arg.dst.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => s.bind(port, () => r()));
    for (let i = 0; i < arg.count; i++) {
      await new Promise<void>((res, rej) => s.send('x', 9, arg.dst, (e) => (e ? rej(e) : res())));
      sent++;
    }
    s.close();
  }
  return sent;
}

const COUNTER_TABLE = 'inet probe';
const countUdp9 = `table inet probe {
  counter seen {
  }
  chain f {
    type filter hook forward priority -10; policy accept;
    udp dport 9 counter name seen
  }
}
`;

describe.skipIf(!support.ok && !requireAll)('createNetwork: a diamond h1 - r1 - {r2, r3} - r4 - h2', () => {
  let net: Network;
  beforeAll(async () => {
    net = await createNetwork({
      hosts: ['h1', 'h2'],
      routers: ['r1', 'r2', 'r3', 'r4'],
      links: [['h1', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r3', 'r4'], ['r4', 'h2']],
    });
    await Promise.all(['r2', 'r3'].map((r) => net.nft(net.node(r).ns, countUdp9)));
  });
  afterAll(async () => {
    await net?.destroy();
  });

  const seen = async () => {
    const [a, b] = await Promise.all(['r2', 'r3'].map((r) => net.counter(net.node(r).ns, 'seen', COUNTER_TABLE)));
    return [a.packets, b.packets];
  };
  const resetSeen = () => Promise.all(['r2', 'r3'].map((r) => net.exec(net.node(r).ns, 'nft', ['reset', 'counter', 'inet', 'probe', 'seen'])));

  it('routes r1 to h2 over both branches (a multipath route) and h1 reaches h2 on IPv4 and IPv6', async () => {
    const routes = await net.ip(net.node('r1').ns, ['route', 'show', net.link(['r4', 'h2']).v4Prefix]);
    expect(routes).toMatch(/nexthop via[\s\S]*nexthop via/);
    for (const dst of [net.node('h2').v4, net.node('h2').v6]) {
      const r = await net.run(net.node('h1').ns, 'ping', ['-c1', '-W2', dst]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  });

  it('keeps one flow on one branch and spreads many flows over both (per-flow hash, design.md ECMP trap)', async () => {
    for (const dst of [net.node('h2').v4, net.node('h2').v6]) {
      await resetSeen();
      await net.runFunction(net.node('h1').ns, sendFlows, { dst, ports: [40000], count: 30 });
      const one = await seen();
      expect(one.sort((x, y) => x - y)).toEqual([0, 30]);
      await resetSeen();
      const ports = Array.from({ length: 64 }, (_, i) => 41000 + i);
      await net.runFunction(net.node('h1').ns, sendFlows, { dst, ports, count: 2 });
      const many = await seen();
      expect(many[0] + many[1]).toBe(128);
      expect(many[0]).toBeGreaterThan(0);
      expect(many[1]).toBeGreaterThan(0);
      expect(many[0] % 2 + (many[1] % 2)).toBe(0); // both packets of each flow took the same branch
    }
  });

  it('moves every flow to r3 while r1–r2 is down, and back to both once it is up', async () => {
    await net.setLinkState(['r1', 'r2'], 'down');
    try {
      await resetSeen();
      const ports = Array.from({ length: 32 }, (_, i) => 42000 + i);
      await net.runFunction(net.node('h1').ns, sendFlows, { dst: net.node('h2').v4, ports, count: 1 });
      expect(await seen()).toEqual([0, 32]);
    } finally {
      await net.setLinkState(['r1', 'r2'], 'up');
    }
    await resetSeen();
    const ports = Array.from({ length: 64 }, (_, i) => 43000 + i);
    await net.runFunction(net.node('h1').ns, sendFlows, { dst: net.node('h2').v4, ports, count: 1 });
    const both = await seen();
    expect(both[0]).toBeGreaterThan(0);
    expect(both[1]).toBeGreaterThan(0);
  });

  it('drops every route to h2 while its only link is down ("network unreachable" at h1 itself)', async () => {
    await net.setLinkState(['r4', 'h2'], 'down');
    try {
      const r = await net.run(net.node('h1').ns, 'ping', ['-c1', '-W2', net.node('h2').v4]);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/Network is unreachable/i);
    } finally {
      await net.setLinkState(['r4', 'h2'], 'up');
    }
    const back = await net.run(net.node('h1').ns, 'ping', ['-c1', '-W2', net.node('h2').v4]);
    expect(back.code, back.stdout).toBe(0);
  });

  it('setMtu: a DF packet larger than the link is refused with the new MTU', async () => {
    await net.setMtu(['r4', 'h2'], 1300);
    try {
      const r = await net.run(net.node('h1').ns, 'ping', ['-c1', '-W2', '-M', 'do', '-s', '1400', net.node('h2').v4]);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/mtu = 1300|mtu=1300/);
    } finally {
      await net.setMtu(['r4', 'h2'], 1500);
    }
  });

  it('uses given addresses for a link', async () => {
    await using small = await createNetwork({
      hosts: ['a', 'b'],
      links: [{ between: ['a', 'b'], v4: '192.168.77.0/24', v6: 'fd77:1::/64' }],
    });
    expect(small.node('a')).toMatchObject({ v4: '192.168.77.1', v6: 'fd77:1::1' });
    const r = await small.run(small.node('a').ns, 'ping', ['-c1', '-W2', small.node('b').v6]);
    expect(r.code, r.stdout).toBe(0);
  });
});

describe.skipIf(!support.ok && !requireAll)('createNetwork: reset() restores the network as built', () => {
  it('after loss, a reject, a smaller MTU and a link down, reset() gives back every path, rule-free, at the built MTUs', async () => {
    await using net = await createNetwork({
      hosts: ['a', 'b'],
      routers: ['r1', 'r2'],
      links: [['a', 'r1'], ['r1', 'r2'], { between: ['r2', 'b'], mtu: 1400 }],
    });
    const a = net.node('a').ns;
    const b = net.node('b');
    const ping = (dst: string, extra: string[] = []) => net.run(a, 'ping', ['-c1', '-W1', ...extra, dst]);
    const mtuOf = async (ns: string, ifname: string) => Number(/ mtu (\d+) /.exec(await net.ip(ns, ['link', 'show', 'dev', ifname]))![1]);
    const built = net.link(['r2', 'b']);
    // DF pings that just fit the link as built: 1400 - 20 (IPv4) - 8 (ICMP)
    expect((await ping(b.v4, ['-M', 'do', '-s', '1372'])).code).toBe(0);

    await net.addLoss(net.node('r1').ns, 100);
    await net.reject(net.node('r2').ns, 'admin-prohibited', { match: 'udp dport 9' });
    expect((await ping(b.v4)).code).not.toBe(0);
    await net.setMtu(['r2', 'b'], 1300);
    expect(await mtuOf(built.a.ns, built.a.ifname)).toBe(1300);
    await net.setLinkState(['r1', 'r2'], 'down');
    const cut = await ping(b.v6);
    expect(cut.stdout + cut.stderr).toMatch(/unreachable/i);

    await net.reset();
    for (const ns of [net.node('r1').ns, net.node('r2').ns]) expect((await net.exec(ns, 'nft', ['list', 'ruleset'])).trim()).toBe('');
    expect(await mtuOf(built.a.ns, built.a.ifname)).toBe(1400);
    expect(await mtuOf(built.b.ns, built.b.ifname)).toBe(1400);
    for (const dst of [b.v4, b.v6]) {
      const r = await ping(dst);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    expect((await ping(b.v4, ['-M', 'do', '-s', '1372'])).code).toBe(0);
    const big = await ping(b.v4, ['-M', 'do', '-s', '1373']);
    expect(big.code).not.toBe(0);
    expect(big.stdout + big.stderr).toMatch(/mtu ?= ?1400/);
    await net.reset(); // nothing changed since: a no-op, not an error
  });
});

describe.skipIf(!support.ok && !requireAll)('chain topology through the public module', () => {
  it('loss: exactly the counted packets are missing; tcp reset is counted and refuses connect()', async () => {
    await using net = await createTopology({ routers: 3 });
    const counter = await net.addLoss(net.routers[1], 20, { match: 'icmp type { echo-request, echo-reply }' });
    const r = await net.run(net.source, 'ping', ['-c', '200', '-i', '0.002', '-W', '1', '-q', net.target.v4]);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const dropped = (await net.counter(net.routers[1], counter)).packets;
    expect(Number(m![1]) - Number(m![2])).toBe(dropped);
    expect(dropped).toBeGreaterThan(10); // 20 % of ~400 crossings; P(≤10) is negligible

    const rst = await net.reject(net.routers[2], 'tcp-reset', { match: 'tcp dport 80' });
    const code = await net.runFunction(
      net.source,
      async (dst: string) => {
        const { connect } = await import('node:net');
        return new Promise<string>((resolve) => {
          const s = connect(80, dst, () => resolve('connected'));
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
      },
      net.target.v4,
    );
    expect(code).toBe('ECONNREFUSED');
    expect((await net.counter(net.routers[2], rst)).packets).toBe(1);
  });

  it('link down on the chain: router 1 answers unreachable; up restores the path', async () => {
    await using net = await createTopology({ routers: 2 });
    await net.setLinkState(2, 'down');
    const down = await net.run(net.source, 'ping', ['-c1', '-W2', net.target.v4]);
    expect(down.code).not.toBe(0);
    await net.setLinkState(2, 'up');
    for (const dst of [net.target.v4, net.target.v6]) {
      const up = await net.run(net.source, 'ping', ['-c1', '-W2', dst]);
      expect(up.code, up.stdout).toBe(0); // IPv6 too: the link's link-local addresses are back
    }
  });

  it('`await using` deletes the namespaces when the block throws', async () => {
    let names: readonly string[] = [];
    let probe: Awaited<ReturnType<typeof createTopology>> | undefined;
    await expect(
      (async () => {
        await using net = await createTopology({ routers: 1 });
        probe = net;
        names = net.namespaces;
        expect(net.existingNamespaces()).toHaveLength(3);
        throw new Error('the test failed');
      })(),
    ).rejects.toThrow('the test failed');
    expect(names).toHaveLength(3);
    expect(probe!.isDestroyed).toBe(true);
    const { readdirSync } = await import('node:fs');
    const left = readdirSync('/run/netns').filter((n) => names.includes(n));
    expect(left).toEqual([]);
  });
});
