// netdiag ping across a chain of network namespaces (source — 3 routers — destination), in raw
// and ping-socket mode, IPv4 and IPv6: reply TTLs, loss injected with nftables reported exactly
// (the rule's counter), an unreachable route answered by the right router, a smaller MTU on a
// link with -M do, and the timeout/deadline semantics.
import { expect, it } from 'vitest';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useTopology, type ProcessResult } from '../helpers/topology.js';
import type { PingDocument, PingTargetResult } from '../../src/ping/types.js';

describeWith(['root', 'tool:ip', 'tool:nft'], 'ping across a namespace chain', () => {
  const net = useTopology({ routers: 3 });

  function pingIn(args: string[]): Promise<ProcessResult> {
    return net.run(net.source, process.execPath, [cliPath(), 'ping', ...args], { timeoutMs: 60_000 });
  }

  async function pingJson(args: string[]): Promise<{ r: ProcessResult; t: PingTargetResult; doc: PingDocument }> {
    const r = await pingIn(['--json', ...args]);
    expect(r.stdout, r.stderr).not.toBe('');
    const doc = JSON.parse(r.stdout) as PingDocument;
    return { r, doc, t: doc.targets[0]! };
  }

  for (const mode of ['raw', 'dgram'] as const) {
    const family = (v: 'v4' | 'v6') => (v === 'v4' ? '-4' : '-6');

    it(`${mode}: replies from the destination carry TTL 64 minus three routers`, async () => {
      if (mode === 'dgram') await net.setPingGroupRange(net.source, 0, 2147483647);
      for (const v of ['v4', 'v6'] as const) {
        const { r, t, doc } = await pingJson(['--socket', mode, family(v), '-c', '3', '-i', '0.05', net.target[v]]);
        expect(r.code, r.stderr).toBe(0);
        expect(doc.socket).toBe(mode);
        expect(t).toMatchObject({ transmitted: 3, received: 3, loss: 0 });
        expect(t.probes.map((p) => p.ttl)).toEqual([61, 61, 61]);
      }
    });

    it(`${mode}: loss dropped by nftables on a router is reported exactly`, async () => {
      await net.reset();
      if (mode === 'dgram') await net.setPingGroupRange(net.source, 0, 2147483647);
      for (const v of ['v4', 'v6'] as const) {
        const match = v === 'v4' ? 'icmp type echo-request' : 'icmpv6 type echo-request';
        const counter = await net.addLoss(net.routers[1]!, 30, { family: v === 'v4' ? 'ipv4' : 'ipv6', match });
        const { r, t } = await pingJson(['--socket', mode, family(v), '-c', '200', '-i', '0.002', '-W', '1', net.target[v]]);
        const dropped = (await net.counter(net.routers[1]!, counter)).packets;
        expect(dropped).toBeGreaterThan(0);
        expect(t.transmitted).toBe(200);
        expect(t.transmitted - t.received).toBe(dropped);
        expect(t.probes.filter((p) => p.status === 'timeout')).toHaveLength(dropped);
        expect(t.loss).toBeCloseTo((dropped / 200) * 100, 4);
        expect(r.code).toBe(0);
      }
    });

    it(`${mode}: an unreachable route on router 3 is reported with that router's address`, async () => {
      await net.reset();
      if (mode === 'dgram') await net.setPingGroupRange(net.source, 0, 2147483647);
      const router = net.hops[2]!;
      await net.addRoute(router.ns, 'unreachable', `${net.target.v4}/32`);
      await net.addRoute(router.ns, 'unreachable', `${net.target.v6}/128`);
      // route errors pass a host-wide limiter (a burst of 5): a few probes only
      const v4 = await pingIn(['--socket', mode, '-n', '-c', '2', '-i', '0.2', '-W', '1', net.target.v4]);
      expect(v4.code).toBe(1);
      expect(v4.stdout).toContain(`From ${router.v4} icmp_seq=1 Destination Host Unreachable\n`);
      expect(v4.stdout).toMatch(/2 packets transmitted, 0 received, \+2 errors, 100% packet loss/);
      const { t } = await pingJson(['--socket', mode, '-c', '1', '-W', '1', net.target.v6]);
      expect(t.probes[0]).toMatchObject({
        status: 'error', from: router.v6, error: { type: 1, code: 0, message: 'Destination unreachable: No route', mtu: null },
      });
    });

    it(`${mode}: -M do over a link with a smaller MTU reports the MTU (router, then local)`, async () => {
      await net.reset();
      if (mode === 'dgram') await net.setPingGroupRange(net.source, 0, 2147483647);
      await net.setMtu(3, 1400); // between router 2 and router 3
      const tooBig = net.hops[1]!; // router 2 answers
      const v4 = await pingJson(['--socket', mode, '-M', 'do', '-s', '1472', '-c', '2', '-i', '0.2', '-W', '1', net.target.v4]);
      expect(v4.t.probes[0]).toMatchObject({ status: 'error', from: tooBig.v4, error: { type: 3, code: 4, message: 'Frag needed and DF set (mtu = 1400)', mtu: 1400 } });
      // the kernel has learned the path MTU: the next probe is refused locally
      expect(v4.t.probes[1]).toMatchObject({ status: 'error', from: null, error: { type: null, code: null, message: 'local error: message too long, mtu=1400', mtu: 1400 } });
      const v6 = await pingJson(['--socket', mode, '-M', 'do', '-s', '1452', '-c', '2', '-i', '0.2', '-W', '1', net.target.v6]);
      expect(v6.t.probes[0]).toMatchObject({ status: 'error', from: tooBig.v6, error: { type: 2, code: 0, message: 'Packet too big: mtu=1400', mtu: 1400 } });
      expect(v6.t.probes[1]!.error).toMatchObject({ type: null, message: 'local error: message too long, mtu: 1400', mtu: 1400 });
      // iputils' text lines for the same
      const text = await pingIn(['--socket', mode, '-n', '-M', 'do', '-s', '1472', '-c', '1', net.target.v4]);
      expect(text.stderr + text.stdout).toMatch(/local error: message too long, mtu=1400|Frag needed and DF set \(mtu = 1400\)/);
    });
  }

  it('a probe is lost when its timeout expires; the deadline ends the run early', async () => {
    await net.reset();
    await net.addLoss(net.routers[0]!, 100, { family: 'ipv4', match: 'icmp type echo-request' });
    const timeouts = await pingJson(['-c', '3', '-i', '0.2', '-W', '0.3', net.target.v4]);
    expect(timeouts.r.code).toBe(1);
    expect(timeouts.t).toMatchObject({ transmitted: 3, received: 0, loss: 100 });
    expect(timeouts.t.probes.map((p) => p.status)).toEqual(['timeout', 'timeout', 'timeout']);
    // -w 1 with a 30 s timeout: the run ends at the deadline, not 30 s later
    const deadline = await pingJson(['-w', '1', '-i', '0.2', '-W', '30', net.target.v4]);
    expect(deadline.r.code).toBe(1);
    expect(deadline.t.transmitted).toBeGreaterThanOrEqual(4);
    expect(deadline.t.probes.every((p) => p.status === 'timeout')).toBe(true);
    expect(deadline.doc.elapsed).toBeLessThan(30_000);
    // -w with -c: -c is the number of replies wanted, sending goes on until they came
    await net.reset();
    const enough = await pingJson(['-w', '5', '-c', '2', '-i', '0.1', net.target.v4]);
    expect(enough.r.code).toBe(0);
    expect(enough.t).toMatchObject({ transmitted: 2, received: 2 });
  });
});
