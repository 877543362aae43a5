// netdiag traceroute --mda over ECMP topologies built with netdiag/testing's createNetwork
// (per-flow hash on addresses, protocol and ports, a different seed per router): diamonds of
// width 2 and 3, a nested diamond, branches of unequal length. The compiled CLI runs inside the
// source namespace; the graph it finds, read back to router names, must be the graph built.
// Linux hashes neither the ICMP identifier nor its checksum (its ICMP "ports" are zero), so ICMP
// probes keep one branch there: for ICMP the test asserts one path that is one of the built ones.
// The stopping rule bounds the miss probability per interface: at the default 95% a width-2
// balancer is missed about 3% of the time (6 probes, all on one side), so exact-graph runs ask
// for 99.9999% (21 probes: one miss in a million per interface) and one run checks the default.
// The TUN path simulator adds what Linux routers do not do: a balancer hashing the ICMP checksum
// (as many routers do), and per-packet balancing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, worldReadableRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { createNetwork, createSimulatedPath, type Network, type NetworkDescription, type RunAs, type SimulatedPath } from '../../src/testing/index.js';
import type { MultipathResult } from '../../src/traceroute/index.js';
import { join } from 'node:path';

const NOBODY: RunAs = { uid: 65534, gid: 65534 };
const SURE = ['--confidence', '99.9999'];

interface Case {
  name: string;
  prefix: string;
  desc: NetworkDescription;
  /** extra routes installed after the build: [node, destination node, via nodes] */
  multipath?: Array<[string, string, string[]]>;
  /** the links MDA must find, as "ttl:node -> ttl:node" (ttl of each end) */
  links: string[];
  paths: number;
}

const cases: Case[] = [
  {
    name: 'a width-2 diamond',
    prefix: 'ndmda',
    desc: { hosts: ['h1', 'h2'], routers: ['r1', 'r2', 'r3', 'r4'], links: [['h1', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r3', 'r4'], ['r4', 'h2']] },
    links: ['1:r1 -> 2:r2', '1:r1 -> 2:r3', '2:r2 -> 3:r4', '2:r3 -> 3:r4', '3:r4 -> 4:h2'],
    paths: 2,
  },
  {
    name: 'a width-3 diamond',
    prefix: 'ndmdb',
    desc: {
      hosts: ['h1', 'h2'], routers: ['r1', 'r2', 'r3', 'r4', 'r5'],
      links: [['h1', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r1', 'r4'], ['r2', 'r5'], ['r3', 'r5'], ['r4', 'r5'], ['r5', 'h2']],
    },
    links: ['1:r1 -> 2:r2', '1:r1 -> 2:r3', '1:r1 -> 2:r4', '2:r2 -> 3:r5', '2:r3 -> 3:r5', '2:r4 -> 3:r5', '3:r5 -> 4:h2'],
    paths: 3,
  },
  {
    name: 'a nested diamond',
    prefix: 'ndmdc',
    desc: {
      hosts: ['h1', 'h2'], routers: ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
      links: [['h1', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r2', 'r5'], ['r3', 'r6'], ['r4', 'r7'], ['r5', 'r7'], ['r6', 'r7'], ['r7', 'h2']],
    },
    links: [
      '1:r1 -> 2:r2', '1:r1 -> 2:r3', '2:r2 -> 3:r4', '2:r2 -> 3:r5', '2:r3 -> 3:r6',
      '3:r4 -> 4:r7', '3:r5 -> 4:r7', '3:r6 -> 4:r7', '4:r7 -> 5:h2',
    ],
    paths: 3,
  },
  {
    name: 'branches of unequal length',
    prefix: 'ndmdd',
    desc: {
      hosts: ['h1', 'h2'], routers: ['r1', 'r2', 'r3', 'r4', 'r5'],
      links: [['h1', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r5'], ['r3', 'r4'], ['r4', 'r5'], ['r5', 'h2']],
    },
    // shortest paths would only use r2: r1 is told to spread over r2 and the longer r3 - r4
    multipath: [['r1', 'h2', ['r2', 'r3']]],
    links: ['1:r1 -> 2:r2', '1:r1 -> 2:r3', '2:r2 -> 3:r5', '2:r3 -> 3:r4', '3:r4 -> 4:r5', '3:r5 -> 4:h2', '4:r5 -> 5:h2'],
    paths: 2,
  },
];

/** Methods in both families: [label, CLI flags, user, whether Linux spreads its flows]. */
const methods: Array<{ label: string; args: string[]; user?: RunAs; spreads: boolean }> = [
  { label: 'UDP, raw socket', args: ['-U', '--socket', 'raw'], spreads: true },
  { label: 'UDP, unprivileged', args: ['-U'], user: NOBODY, spreads: true },
  { label: 'TCP SYN', args: ['-T'], spreads: true },
  { label: 'ICMP, raw socket', args: ['-I', '--socket', 'raw'], spreads: false },
  { label: 'ICMP, unprivileged', args: ['-I'], user: NOBODY, spreads: false },
];

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip', 'tool:nft', 'tool:setpriv'], 'traceroute --mda over ECMP namespaces', () => {
  for (const c of cases) {
    describe(c.name, () => {
      let net: Network;
      beforeAll(async () => {
        net = await createNetwork({ ...c.desc, prefix: c.prefix });
        // routers answer from the interface a probe came in on (the setup)
        await Promise.all((c.desc.routers ?? []).map((r) => net.sysctl(net.node(r).ns, 'net.ipv4.icmp_errors_use_inbound_ifaddr', 1)));
        for (const [at, to, via] of c.multipath ?? []) await addMultipathRoute(net, at, to, via);
        await net.setPingGroupRange(net.node('h1').ns, 0, 2147483647);
        // neighbours on every branch resolved before the first counted run
        for (const family of [4, 6] as const) await cli(net, ['--mda', '--json', '-n', '-U', addressOf(net, 'h2', family)]);
      }, 60_000);
      afterAll(async () => {
        await net?.destroy();
      });

      for (const m of methods) {
        for (const family of [4, 6] as const) {
          it(`${m.label}, IPv${family}: ${m.spreads ? 'the graph found is the graph built' : 'one of the built paths (Linux does not hash ICMP ids)'}`, async () => {
            const target = addressOf(net, 'h2', family);
            const r = await cli(net, ['--mda', '--json', '-n', ...SURE, ...m.args, target], m.user);
            let doc: MultipathResult;
            try {
              doc = JSON.parse(r.stdout) as MultipathResult;
            } catch {
              throw new Error(`netdiag traceroute --mda ${m.args.join(' ')} exited ${r.code}: ${r.stderr}`);
            }
            expect(r.code).toBe(0);
            expect(doc).toMatchObject({ schema: 'netdiag.multipath/1', family, reached: true, aborted: false, confidence: 99.9999 });
            const links = nodeLinks(net, doc);
            if (m.spreads) {
              expect(links).toEqual([...c.links].sort());
              expect(doc.paths).toHaveLength(c.paths);
              // node control has a probe budget per interface: when few new flows land on one
              // (a hash that favours its sibling), it may stop a probe short and says so (seen once:
              // 99.9998 on a nested diamond, the graph still whole)
              expect(doc.confidenceReached).toBeGreaterThanOrEqual(99.99);
              expect(doc.hops.flatMap((h) => h.interfaces).every((i) => i.balancing !== 'per-packet')).toBe(true);
            } else {
              for (const l of links) expect(c.links).toContain(l);
              expect(doc.paths).toHaveLength(1);
            }
            for (const p of doc.paths) expect(p.pathId).toMatch(/^[0-9a-f]{16}$/);
            expect(doc.probes).toBeGreaterThan(0);
          }, 60_000);
        }
      }

      it('text output: one line per link "ttl  a -> b" and every path with its pathId', async () => {
        const target = addressOf(net, 'h2', 4);
        const r = await cli(net, ['--mda', '-n', ...SURE, '-U', target]);
        expect(r.code).toBe(0);
        const lines = r.stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(new RegExp(`^multipath traceroute to ${target.replace(/\./g, '\\.')} .* udp flows, 99.9999% confidence$`));
        // each link line read back: the TTL, the two ends, a '*' per silent hop between
        const drawn = new Set(lines.filter((l) => / -> /.test(l)).map((l) => {
          const m = /^ ?(\d+) {2}(\S+)((?: -> \*)*) -> (\S+)$/.exec(l);
          if (!m) throw new Error(`not a link line: '${l}'`);
          const ttl = Number(m[1]);
          return `${ttl}:${nodeOf(net, m[2]!)} -> ${ttl + 1 + m[3]!.split('*').length - 1}:${nodeOf(net, m[4]!)}`;
        }));
        expect([...drawn].sort()).toEqual([...c.links].sort());
        const pathLines = lines.filter((l) => /^ {2}[0-9a-f]{16} {2}/.test(l));
        expect(pathLines).toHaveLength(c.paths);
        expect(lines.at(-1)).toMatch(/interfaces, \d+ links, \d+ paths, \d+ probes, confidence reached [\d.]+%$/);
      }, 60_000);

      if (c.prefix === 'ndmda') {
        it('a silent router after the diamond: links span it ("r2 -> * -> h2"), and it costs one wait, not one per probe', async () => {
          await net.dropIcmpTypes(net.node('r4').ns, ['time-exceeded']);
          try {
            for (const family of [4, 6] as const) {
              const r = await cli(net, ['--mda', '--json', '-n', ...SURE, '-U', addressOf(net, 'h2', family)]);
              expect(r.code, r.stderr).toBe(0);
              const doc = JSON.parse(r.stdout) as MultipathResult;
              expect(nodeLinks(net, doc)).toEqual(['1:r1 -> 2:r2', '1:r1 -> 2:r3', '2:r2 -> 4:h2', '2:r3 -> 4:h2']);
              expect(doc.paths.every((p) => p.hops[2] === null)).toBe(true);
              // traceroute's 5 s wait once, before any deeper TTL has answered; after that a few RTTs
              expect(doc.elapsed).toBeLessThan(5000 + 3000);
            }
          } finally {
            await net.resetRules(net.node('r4').ns);
          }
        }, 60_000);
      }

      if (c.prefix === 'ndmda') {
        it('--mda --watch: a branch taken away between cycles is flagged at the next cycle, with its time, and the path history says which cycles had it', async () => {
          const target = addressOf(net, 'h2', 4);
          const p = net.start(net.node('h1').ns, process.execPath, [cliPath(), 'traceroute', '--mda', '-n', ...SURE, '-U', '--watch', '--cycles', '5', '--interval', '1', target], { timeoutMs: 60_000 });
          let before = 0;
          let after = 0;
          try {
            // a cycle takes a fraction of a second, the interval a second: the route moves between cycles 2 and 3
            await new Promise<void>((resolve, reject) => {
              let text = '';
              const onData = (d: Buffer): void => {
                text += d.toString();
                if (/^cycle 2 /m.test(text)) {
                  p.child.stdout?.off('data', onData);
                  resolve();
                }
              };
              p.child.stdout?.on('data', onData);
              void p.done.then((r) => reject(new Error(`netdiag exited ${r.code} before cycle 2: ${r.stderr}`)));
            });
            before = Date.now();
            await addMultipathRoute(net, 'r1', 'h2', ['r2']);
            after = Date.now();
            const r = await p.done;
            expect(r.code, r.stderr).toBe(0);
            const lines = r.stdout.trimEnd().split('\n');
            expect(lines.filter((l) => /^cycle \d+ /.test(l)).map((l) => /^cycle \d+ \(\S+\): (\d+) paths?/.exec(l)?.[1])).toEqual(['2', '2', '1', '1', '1']);
            const changes = lines.filter((l) => l.startsWith('Paths changed at cycle'));
            // once as it happened, once in the summary
            expect(changes).toHaveLength(2);
            expect(changes[0]).toBe(changes[1]);
            const m = /^Paths changed at cycle 3 \((\S+)\): -([0-9a-f]{16})$/.exec(changes[0]!);
            expect(m, changes[0]).not.toBeNull();
            const time = Date.parse(m![1]!.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
            expect(time).toBeGreaterThanOrEqual(before);
            expect(time).toBeLessThanOrEqual(after + 1000 + 200);
            expect(lines.at(-1)).toMatch(new RegExp(`^Paths: (?=.*${m![2]} cycles 1-2 \\(2\\))(?=.*[0-9a-f]{16} cycles 1-5 \\(5\\)).*$`));
          } finally {
            await addMultipathRoute(net, 'r1', 'h2', ['r2', 'r3']);
          }
        }, 60_000);

        it('IPv6 routers hashing as Linux does by default (addresses, flow label, next header): flows with a flow label of their own (leased, or chosen by the kernel from the ports of a UDP socket) find both paths; without CAP_NET_ADMIN the kernel leases at most 32 and the document says so', async () => {
          const routers = c.desc.routers ?? [];
          const policy = (value: number): Promise<unknown> => Promise.all(routers.map((r) => net.sysctl(net.node(r).ns, 'net.ipv6.fib_multipath_hash_policy', value)));
          await policy(0);
          try {
            const target = addressOf(net, 'h2', 6);
            for (const args of [['-U', '--socket', 'raw'], ['-T'], ['-I', '--socket', 'raw'], ['-U', '--socket', 'dgram']]) {
              const r = await cli(net, ['--mda', '--json', '-n', ...SURE, ...args, target]);
              expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
              const doc = JSON.parse(r.stdout) as MultipathResult;
              expect(doc, args.join(' ')).toMatchObject({ flowLabelsRefused: null });
              expect(doc.flowLabels).toBe(doc.flows);
              expect(nodeLinks(net, doc), args.join(' ')).toEqual([...c.links].sort());
            }
            // nobody, UDP: the kernel's own labels follow the ports (no lease), every flow has one
            const udp = await cli(net, ['--mda', '--json', '-n', ...SURE, '-U', target], NOBODY);
            expect(udp.code, udp.stderr).toBe(0);
            const byPorts = JSON.parse(udp.stdout) as MultipathResult;
            expect(byPorts).toMatchObject({ socket: 'dgram', flowLabels: byPorts.flows, flowLabelsRefused: null });
            expect(nodeLinks(net, byPorts)).toEqual([...c.links].sort());
            // nobody, ICMP over a ping socket: leased labels, at most 32 per socket without
            // CAP_NET_ADMIN (fewer while the system holds many); past them flows go unlabelled
            // and the document says so
            const icmp = await cli(net, ['--mda', '--json', '-n', ...SURE, '-I', target], NOBODY);
            expect(icmp.code, icmp.stderr).toBe(0);
            const leased = JSON.parse(icmp.stdout) as MultipathResult;
            expect(leased.flowLabels).toBeLessThanOrEqual(Math.min(32, leased.flows));
            // at 99.9999% both branches need more than 32 flows: the kernel's refusal is stated
            if (leased.flows > 32) expect(leased.flowLabelsRefused).toMatch(/flow label|leases no more/);
            expect(leased.flowLabelsRefused === null).toBe(leased.flowLabels === leased.flows);
            for (const l of nodeLinks(net, leased)) expect(c.links).toContain(l);
            // IPv4 has no flow label: the fields say so with null
            const v4 = JSON.parse((await cli(net, ['--mda', '--json', '-n', '-U', addressOf(net, 'h2', 4)])).stdout) as MultipathResult;
            expect(v4).toMatchObject({ flowLabels: null, flowLabelsRefused: null });
          } finally {
            await policy(3);
          }
        }, 120_000);
      }

      it('at the default 95%: every link found is a built one, the confidence is stated, exit 0', async () => {
        const r = await cli(net, ['--mda', '--json', '-n', '-U', addressOf(net, 'h2', 6)]);
        expect(r.code).toBe(0);
        const doc = JSON.parse(r.stdout) as MultipathResult;
        expect(doc.confidence).toBe(95);
        expect(doc.confidenceReached).toBeGreaterThanOrEqual(95);
        for (const l of nodeLinks(net, doc)) expect(c.links).toContain(l);
      }, 60_000);
    });
  }
});

function addressOf(net: Network, node: string, family: 4 | 6): string {
  const n = net.node(node);
  return family === 4 ? n.v4 : n.v6;
}

async function cli(net: Network, args: string[], user?: RunAs): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = user ? join(worldReadableRoot(), 'bin/netdiag.js') : cliPath();
  return net.run(net.node('h1').ns, process.execPath, [bin, 'traceroute', ...args], { user, timeoutMs: 60_000 });
}

/** The node owning an address (any of its interfaces). */
function nodeOf(net: Network, address: string): string {
  for (const n of Object.values(net.nodes)) if (n.interfaces.some((i) => i.v4 === address || i.v6 === address)) return n.name;
  throw new Error(`no node has ${address}`);
}

/** The links of a document as "ttl:node -> ttl:node", sorted, without duplicates (a router answers from each incoming interface). */
function nodeLinks(net: Network, doc: MultipathResult): string[] {
  const set = new Set(doc.links.map((l) => `${l.from.ttl}:${nodeOf(net, l.from.address)} -> ${l.to.ttl}:${nodeOf(net, l.to.address)}`));
  return [...set].sort();
}

/** Replaces `at`'s routes to `to`'s subnets with a multipath route over the neighbours `via`. */
async function addMultipathRoute(net: Network, at: string, to: string, via: string[]): Promise<void> {
  const node = net.node(at);
  for (const link of net.links.filter((l) => l.a.node === to || l.b.node === to)) {
    for (const family of [4, 6] as const) {
      const hops = via.flatMap((v) => {
        const l = net.link([at, v]);
        const [mine, theirs] = l.a.node === at ? [l.a, l.b] : [l.b, l.a];
        return ['nexthop', 'via', family === 4 ? theirs.v4 : theirs.v6, 'dev', mine.ifname];
      });
      await net.ip(node.ns, [`-${family}`, 'route', 'replace', family === 4 ? link.v4Prefix : link.v6Prefix, ...hops]);
    }
  }
}

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip', 'tool:setpriv'], 'traceroute --mda against the TUN path simulator', () => {
  let sim: SimulatedPath;
  beforeAll(async () => {
    sim = await createSimulatedPath({ prefix: 'ndmds' });
  });
  afterAll(async () => {
    await sim?.close();
  });

  async function mda(args: string[], family: 4 | 6): Promise<MultipathResult> {
    const target = family === 4 ? sim.destination.v4 : sim.destination.v6;
    const r = await sim.ns.run(sim.ns.ns, process.execPath, [cliPath(), 'traceroute', '--mda', '--json', '-n', ...SURE, ...args, target], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as MultipathResult;
  }
  const at = (doc: MultipathResult, ttl: number): string[] => doc.hops.find((h) => h.ttl === ttl)?.interfaces.map((i) => i.address).sort() ?? [];

  for (const family of [4, 6] as const) {
    for (const args of [['-I'], ['-U'], ['-T']]) {
      it(`a per-flow balancer over three routers (ICMP hashed on its checksum), ${args[0]} IPv${family}: all three, per-flow`, async () => {
        const alts = [sim.hop(50), sim.hop(51)];
        sim.setScenario(sim.scenario(3, { 2: { alternates: alts, balance: 'per-flow' } }));
        const doc = await mda(args, family);
        const pick = (h: { v4: string; v6: string }): string => (family === 4 ? h.v4 : h.v6);
        expect(at(doc, 2)).toEqual([sim.hop(2), ...alts].map(pick).sort());
        expect(at(doc, 3)).toEqual([pick(sim.hop(3))]);
        expect(doc.hops.find((h) => h.ttl === 1)!.interfaces[0]!.balancing).toBe('per-flow');
        expect(doc.paths, JSON.stringify(doc.paths)).toHaveLength(3);
        expect(doc.reached).toBe(true);
      }, 60_000);
    }

    it(`per-packet balancing, IPv${family}: both routers found and the balancer reported per-packet`, async () => {
      const alt = sim.hop(50);
      sim.setScenario(sim.scenario(3, { 2: { alternates: [alt], balance: 'per-packet' } }));
      const doc = await mda(['-U'], family);
      const pick = (h: { v4: string; v6: string }): string => (family === 4 ? h.v4 : h.v6);
      expect(at(doc, 2)).toEqual([pick(sim.hop(2)), pick(alt)].sort());
      expect(doc.hops.find((h) => h.ttl === 1)!.interfaces[0]!.balancing).toBe('per-packet');
    }, 60_000);
  }
});
