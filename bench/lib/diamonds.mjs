// ECMP topologies for the multipath benchmark, built with the package's own netdiag/testing
// createNetwork() (per-flow hash policy 3, a seed per router: design.md's ECMP trap), plus what
// that helper leaves to its user here:
//   - icmp_errors_use_inbound_ifaddr=1 on every router, so a router answers from the interface
//     a probe came in on and every path is a distinct sequence of addresses;
//   - routes for unequal path lengths (computed routes are shortest paths only);
//   - in the source namespace, a default route into the topology (dublin-traceroute will not
//     start without one) and a resolv.conf naming 127.0.0.1 (ip netns exec mounts
//     /etc/netns/NS/resolv.conf), so a tool's name lookups stay on the namespace's loopback
//     and nothing is ever addressed outside these namespaces;
//   - nftables counters on the first router of every packet from the source, in all and by
//     TTL: the probes a tool really sent, whatever it says itself.
// Each topology lists the paths it was built with as router sequences; expectedPaths() turns
// them into the address sequences a tracer should see (the inbound interface of each router,
// then the destination).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createNetwork } from '../../dist/testing/index.js';

/** Host s traces host d; routers r1… sit between. `paths`: the router sequences built. */
export const TOPOLOGIES = [
  {
    name: 'width-2',
    about: 'diamond r1 → {r2, r3} → r4',
    routers: ['r1', 'r2', 'r3', 'r4'],
    links: [['s', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r3', 'r4'], ['r4', 'd']],
    paths: [['r1', 'r2', 'r4'], ['r1', 'r3', 'r4']],
  },
  {
    name: 'width-3',
    about: 'diamond r1 → {r2, r3, r4} → r5',
    routers: ['r1', 'r2', 'r3', 'r4', 'r5'],
    links: [['s', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r1', 'r4'], ['r2', 'r5'], ['r3', 'r5'], ['r4', 'r5'], ['r5', 'd']],
    paths: [['r1', 'r2', 'r5'], ['r1', 'r3', 'r5'], ['r1', 'r4', 'r5']],
  },
  {
    name: 'nested',
    about: 'r1 → {r2 → {r4, r5}, r3 → r7} → r6: a diamond inside one branch of another',
    routers: ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
    links: [['s', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r2', 'r5'], ['r3', 'r7'], ['r4', 'r6'], ['r5', 'r6'], ['r7', 'r6'], ['r6', 'd']],
    paths: [['r1', 'r2', 'r4', 'r6'], ['r1', 'r2', 'r5', 'r6'], ['r1', 'r3', 'r7', 'r6']],
  },
  {
    name: 'unequal',
    about: 'r1 → {r2, r3 → r4} → r5: branches of 2 and 3 routers (d at hop 4 or 5)',
    routers: ['r1', 'r2', 'r3', 'r4', 'r5'],
    links: [['s', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r5'], ['r3', 'r4'], ['r4', 'r5'], ['r5', 'd']],
    paths: [['r1', 'r2', 'r5'], ['r1', 'r3', 'r4', 'r5']],
    // shortest-path routing sends everything over r2: r1 balances over both branches by hand
    multipath: { at: 'r1', over: ['r2', 'r3'] },
  },
];

const COUNTER_TABLE = 'inet mpbench';
const PREFIX = 'mpb';
const COUNTED_TTLS = 10; // probes with a larger TTL are counted together ('>10')

/** Counters of the packets from `source`: all of them, and by the TTL they left with. */
function counterRules(source) {
  const ttls = Array.from({ length: COUNTED_TTLS }, (_, i) => i + 1);
  return [
    `table ${COUNTER_TABLE} {`,
    ' counter probes {\n }',
    ...ttls.map((t) => ` counter ttl${t} {\n }`),
    ' counter ttlmore {\n }',
    ' chain pre {',
    '  type filter hook prerouting priority -300; policy accept;',
    `  ip saddr ${source} counter name probes`,
    ...ttls.map((t) => `  ip saddr ${source} ip ttl ${t} counter name ttl${t}`),
    `  ip saddr ${source} ip ttl > ${COUNTED_TTLS} counter name ttlmore`,
    ' }',
    '}',
    '',
  ].join('\n');
}

/** /etc/netns/mpb-… of namespaces that no longer exist (a run killed before its exit handler). */
function sweepStaleNetnsEtc() {
  let names = [];
  try {
    names = readdirSync('/etc/netns');
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(`${PREFIX}-`) && !existsSync(`/run/netns/${n}`)) rmSync(`/etc/netns/${n}`, { recursive: true, force: true });
}

export class Diamond {
  constructor(topology, net) {
    this.topology = topology;
    this.net = net;
    this.source = net.node('s').ns;
    this.target = net.node('d').v4;
    this.firstRouter = net.node('r1').ns;
    this.netnsEtc = `/etc/netns/${this.source}`;
  }

  /** Builds the topology; destroy() removes it (also on process exit). */
  static async build(topology) {
    sweepStaleNetnsEtc();
    const net = await createNetwork({ prefix: PREFIX, hosts: ['s', 'd'], routers: topology.routers, links: topology.links });
    const d = new Diamond(topology, net);
    const cleanup = () => rmSync(d.netnsEtc, { recursive: true, force: true });
    process.once('exit', cleanup);
    try {
      await Promise.all(topology.routers.map((r) => net.sysctl(net.node(r).ns, 'net.ipv4.icmp_errors_use_inbound_ifaddr', 1)));
      if (topology.multipath) await d.balance(topology.multipath);
      await net.ip(d.source, ['route', 'add', 'default', 'via', net.link(['s', 'r1']).b.v4]);
      mkdirSync(d.netnsEtc, { recursive: true });
      writeFileSync(`${d.netnsEtc}/resolv.conf`, 'nameserver 127.0.0.1\n');
      await net.nft(d.firstRouter, counterRules(net.node('s').v4));
      const ping = await net.run(d.source, 'ping', ['-c1', '-W2', d.target]);
      if (ping.code !== 0) throw new Error(`${topology.name}: s cannot ping d (${d.target}): ${ping.stdout}${ping.stderr}`);
    } catch (e) {
      await d.destroy();
      throw e;
    }
    return d;
  }

  /** Replaces router `at`'s route to d's subnet with one over every router in `over`. */
  async balance({ at, over }) {
    const prefix = this.net.links.find((l) => l.a.node === 'd' || l.b.node === 'd').v4Prefix;
    const hops = over.flatMap((r) => {
      const l = this.net.link([at, r]);
      const [mine, theirs] = l.a.node === at ? [l.a, l.b] : [l.b, l.a];
      return ['nexthop', 'via', theirs.v4, 'dev', mine.ifname];
    });
    await this.net.ip(this.net.node(at).ns, ['route', 'replace', prefix, ...hops]);
  }

  /** The address sequences (hop 1 … destination) of the paths built. */
  expectedPaths() {
    return this.topology.paths.map((routers) => {
      const seq = ['s', ...routers];
      const hops = routers.map((r, i) => {
        const l = this.net.link([seq[i], r]);
        return (l.a.node === r ? l.a : l.b).v4;
      });
      return [...hops, this.target];
    });
  }

  /**
   * Packets the source has sent into the topology so far (all IPv4 from its address): total,
   * and by TTL ({ '1': n, …, '>10': n }).
   */
  async probesSoFar() {
    const out = await this.net.exec(this.firstRouter, 'nft', ['-j', 'list', 'counters', 'table', ...COUNTER_TABLE.split(' ')]);
    const counters = Object.fromEntries(JSON.parse(out).nftables.filter((e) => e.counter).map((e) => [e.counter.name, e.counter.packets]));
    const byTtl = {};
    for (let t = 1; t <= COUNTED_TTLS; t++) byTtl[t] = counters[`ttl${t}`];
    byTtl[`>${COUNTED_TTLS}`] = counters.ttlmore;
    return { total: counters.probes, byTtl };
  }

  async destroy() {
    rmSync(this.netnsEtc, { recursive: true, force: true });
    await this.net.destroy();
  }
}
