// A network of namespaces built from a small description: hosts and routers joined by links,
// IPv4 and IPv6 on every link (chosen, or given per link), routes computed as shortest paths
// through routers — several equal ones become an ECMP multipath route.
//
// Address plan when not given (X: the per-instance number 1–254, XX its two hex digits):
// link k (1-based, in description order) is 10.X.k.0/24 and fdXX:k::/64 (k in hex); its first
// node gets .1 / ::1, its second .2 / ::2.
//
// ECMP trap (design.md): hash policy 1 reuses the hash a packet already carries — over veth the
// sending socket's random one — so a single flow would wander between branches. Policy 3 with
// fields 0x0037 (addresses, protocol, ports) hashes the flow itself; each router gets its own
// seed so consecutive routers do not make the same choice.

import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  DEFAULT_PREFIX,
  ICMP_UNLIMITED,
  NamespaceGroup,
  allocateOctet,
  checkPrefix,
  hex2,
  ipBatch,
  newId,
  sweepStaleNamespaces,
  sysctlArgs,
  type NftHook,
} from './namespace-group.js';
import { ProcessError, runProcess } from './process.js';

/** A link: two node names, or with its own addressing and MTU. */
export type NetworkLinkSpec =
  | readonly [string, string]
  | {
      between: readonly [string, string];
      /** IPv4 subnet, e.g. '192.168.7.0/24': the ends get its first and second address. */
      v4?: string;
      /** IPv6 prefix ending in '::/len', e.g. 'fd00:7::/64': the ends get ::1 and ::2. */
      v6?: string;
      mtu?: number;
    };

export interface NetworkDescription {
  /** Nodes that do not forward (sources, servers, clients). */
  hosts?: readonly string[];
  /** Nodes that forward IPv4 and IPv6. */
  routers?: readonly string[];
  links: readonly NetworkLinkSpec[];
  /** MTU of every link without its own (default 1500). */
  mtu?: number;
  keepIcmpRateLimits?: boolean;
  /** Naming prefix, 1–6 lowercase letters/digits (default 'ndt'). */
  prefix?: string;
}

export interface NetworkInterface {
  node: string;
  ns: string;
  ifname: string;
  v4: string;
  v6: string;
}

export interface NetworkLink {
  index: number;
  v4Prefix: string;
  v6Prefix: string;
  a: NetworkInterface;
  b: NetworkInterface;
}

export interface NetworkNode {
  name: string;
  ns: string;
  router: boolean;
  interfaces: NetworkInterface[];
  /** The address of its first interface: what others ping. */
  v4: string;
  v6: string;
}

const NODE_NAME = /^[a-z][a-z0-9]{0,7}$/;
const MAX_LINKS = 99; // interface names stay within 15 characters
// fields: source and destination address, IP protocol, source and destination port
const ECMP_FLOW_HASH = { policy: '3', fields: '0x0037' };

function ipv4ToInt(a: string): number {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`'${a}' is not an IPv4 address`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function v4Ends(subnet: string): { prefix: string; len: number; a: string; b: string } {
  const m = /^([\d.]+)\/(\d+)$/.exec(subnet);
  const len = m ? Number(m[2]) : NaN;
  if (!m || !(len >= 8 && len <= 30)) throw new RangeError(`link v4 must be a subnet a.b.c.d/8…/30, got '${subnet}'`);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const base = (ipv4ToInt(m[1]) & mask) >>> 0;
  return { prefix: `${intToIpv4(base)}/${len}`, len, a: intToIpv4(base + 1), b: intToIpv4(base + 2) };
}

function v6Ends(prefix: string): { prefix: string; len: number; a: string; b: string } {
  const m = /^([0-9a-f:]+)::\/(\d+)$/i.exec(prefix);
  const len = m ? Number(m[2]) : NaN;
  if (!m || !(len >= 16 && len <= 126)) throw new RangeError(`link v6 must look like 'fd00:7::/64' (ending in ::/16…/126), got '${prefix}'`);
  return { prefix, len, a: `${m[1]}::1`, b: `${m[1]}::2` };
}

/** Build with createNetwork(); then exec/start/run, loss, reject, counters as in NamespaceGroup. */
export class Network extends NamespaceGroup {
  readonly nodes: Readonly<Record<string, NetworkNode>>;
  readonly links: readonly NetworkLink[];

  private readonly lens: Array<{ v4: number; v6: number; mtu: number }> = [];
  private readonly downLinks = new Set<number>();
  /** links whose MTU differs from the one they were built with (reset() restores it) */
  private readonly changedMtu = new Set<number>();
  private readonly keepRateLimits: boolean;

  private constructor(prefix: string, id: string, octet: number, desc: NetworkDescription) {
    const hosts = desc.hosts ?? [];
    const routers = desc.routers ?? [];
    const names = [...hosts, ...routers];
    for (const n of names) if (!NODE_NAME.test(n)) throw new RangeError(`node name '${n}' must be 1–8 lowercase letters/digits starting with a letter`);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new RangeError(`node '${dup}' is named twice`);
    if (desc.links.length > MAX_LINKS) throw new RangeError(`at most ${MAX_LINKS} links, got ${desc.links.length}`);
    const nsName = (node: string) => `${prefix}-${process.pid}-${id}-${node}`;
    super(prefix, id, octet, names.map(nsName));
    this.keepRateLimits = desc.keepIcmpRateLimits ?? false;
    const nodes: Record<string, NetworkNode> = {};
    for (const n of names) nodes[n] = { name: n, ns: nsName(n), router: routers.includes(n), interfaces: [], v4: '', v6: '' };
    const defaultMtu = desc.mtu ?? 1500;
    this.links = desc.links.map((spec, i): NetworkLink => {
      const k = i + 1;
      const given = Array.isArray(spec) ? { between: spec as readonly [string, string] } : (spec as Exclude<NetworkLinkSpec, readonly [string, string]>);
      const [an, bn] = given.between;
      for (const n of [an, bn]) if (!nodes[n]) throw new RangeError(`link ${k} names '${n}', which is neither a host nor a router`);
      if (an === bn) throw new RangeError(`link ${k} joins '${an}' to itself`);
      const v4 = v4Ends(given.v4 ?? `10.${octet}.${k}.0/24`);
      const v6 = v6Ends(given.v6 ?? `fd${hex2(octet)}:${k.toString(16)}::/64`);
      const mtu = given.mtu ?? defaultMtu;
      if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) throw new RangeError(`mtu must be 1280–65535 (IPv6 needs 1280), got ${mtu}`);
      this.lens.push({ v4: v4.len, v6: v6.len, mtu });
      const a: NetworkInterface = { node: an, ns: nodes[an].ns, ifname: `${prefix}${id}-${k}a`, v4: v4.a, v6: v6.a };
      const b: NetworkInterface = { node: bn, ns: nodes[bn].ns, ifname: `${prefix}${id}-${k}b`, v4: v4.b, v6: v6.b };
      nodes[an].interfaces.push(a);
      nodes[bn].interfaces.push(b);
      return { index: k, v4Prefix: v4.prefix, v6Prefix: v6.prefix, a, b };
    });
    for (const n of Object.values(nodes)) {
      n.v4 = n.interfaces[0]?.v4 ?? '';
      n.v6 = n.interfaces[0]?.v6 ?? '';
    }
    this.nodes = nodes;
  }

  static async create(desc: NetworkDescription): Promise<Network> {
    const prefix = checkPrefix(desc.prefix ?? DEFAULT_PREFIX);
    sweepStaleNamespaces(prefix);
    const net = new Network(prefix, newId(), allocateOctet(), desc);
    await NamespaceGroup.createNamespaces(net, () => net.build());
    return net;
  }

  /** The node called `name`; throws for an unknown one. */
  node(name: string): NetworkNode {
    const n = this.nodes[name];
    if (!n) throw new RangeError(`no node '${name}' (nodes: ${Object.keys(this.nodes).join(', ')})`);
    return n;
  }

  /** Link k (1-based, description order), or the first link between two named nodes. */
  link(which: number | readonly [string, string]): NetworkLink {
    const l =
      typeof which === 'number'
        ? this.links[which - 1]
        : this.links.find((x) => (x.a.node === which[0] && x.b.node === which[1]) || (x.a.node === which[1] && x.b.node === which[0]));
    if (!l) throw new RangeError(`no link ${JSON.stringify(which)}`);
    return l;
  }

  /**
   * Next hops from `node` toward link `target`: neighbours across a usable link that are one
   * step closer, through routers only (shortest paths; several = ECMP). Empty when unreachable.
   */
  private nextHops(node: string, target: NetworkLink): Array<{ via: NetworkInterface; out: NetworkInterface }> {
    const up = this.links.filter((l) => !this.downLinks.has(l.index));
    // distance of every node to the target link, walking backwards through routers
    const dist = new Map<string, number>([[target.a.node, 0], [target.b.node, 0]]);
    if (this.downLinks.has(target.index)) return [];
    const queue = [target.a.node, target.b.node];
    while (queue.length) {
      const cur = queue.shift()!;
      if (!this.nodes[cur].router) continue; // only a router carries traffic onward to the target
      for (const l of up) {
        const other = l.a.node === cur ? l.b.node : l.b.node === cur ? l.a.node : null;
        if (other !== null && !dist.has(other)) {
          dist.set(other, dist.get(cur)! + 1);
          queue.push(other);
        }
      }
    }
    const d = dist.get(node);
    if (d === undefined || d === 0) return [];
    const hops: Array<{ via: NetworkInterface; out: NetworkInterface }> = [];
    for (const l of up) {
      const [mine, theirs] = l.a.node === node ? [l.a, l.b] : l.b.node === node ? [l.b, l.a] : [null, null];
      if (!mine || !theirs || !this.nodes[theirs.node].router) continue;
      if (dist.get(theirs.node) === d - 1 && !hops.some((h) => h.via.node === theirs.node && h.via.ifname === theirs.ifname)) hops.push({ via: theirs, out: mine });
    }
    return hops;
  }

  /** Installs the computed routes of `node`; deletes routes that lead nowhere any more. */
  private async applyRoutes(node: NetworkNode): Promise<void> {
    const lines = this.routeLines(node.name);
    const dels = lines.filter((l) => l.startsWith('route del '));
    await ipBatch(lines.filter((l) => !dels.includes(l)), { ns: node.ns });
    // the kernel may already have dropped a route over a link that went down: "no such route" is fine
    await ipBatch(dels, { ns: node.ns, force: true }).catch(() => {});
  }

  /** `route replace` lines for every subnet not connected to `node`. */
  private routeLines(node: string): string[] {
    const lines: string[] = [];
    for (const l of this.links) {
      if (l.a.node === node || l.b.node === node) continue;
      const hops = this.nextHops(node, l);
      for (const [fam, prefix] of [['v4', l.v4Prefix], ['v6', l.v6Prefix]] as const) {
        if (!hops.length) {
          lines.push(`route del ${prefix}`);
        } else if (hops.length === 1) {
          lines.push(`route replace ${prefix} via ${hops[0].via[fam]} dev ${hops[0].out.ifname}`);
        } else {
          lines.push(`route replace ${prefix} ${hops.map((h) => `nexthop via ${h.via[fam]} dev ${h.out.ifname}`).join(' ')}`);
        }
      }
    }
    return lines;
  }

  private async build(): Promise<void> {
    await ipBatch([
      ...this.namespaces.map((n) => `netns add ${n}`),
      ...this.links.map((l) => `link add ${l.a.ifname} netns ${l.a.ns} type veth peer name ${l.b.ifname} netns ${l.b.ns}`),
    ]);
    const seeds = existsSync('/proc/sys/net/ipv4/fib_multipath_hash_seed');
    await Promise.all(
      Object.values(this.nodes).map(async (node) => {
        const lines = ['link set dev lo up'];
        for (const itf of node.interfaces) {
          const k = Number(/-(\d+)[ab]$/.exec(itf.ifname)![1]);
          const len = this.lens[k - 1];
          const ll = itf.ifname.endsWith('a') ? 'fe80::1' : 'fe80::2';
          // no kernel link-local: its DAD keeps it tentative for a second (see chain.ts)
          lines.push(`link set dev ${itf.ifname} addrgenmode none mtu ${len.mtu} up`);
          lines.push(`addr add ${ll}/64 dev ${itf.ifname} nodad`);
          lines.push(`addr add ${itf.v4}/${len.v4} dev ${itf.ifname}`);
          lines.push(`addr add ${itf.v6}/${len.v6} dev ${itf.ifname} nodad`);
        }
        const settings: Record<string, string> = {
          'net.ipv4.ip_forward': node.router ? '1' : '0',
          'net.ipv6.conf.all.forwarding': node.router ? '1' : '0',
          'net.ipv4.fib_multipath_hash_policy': ECMP_FLOW_HASH.policy,
          'net.ipv4.fib_multipath_hash_fields': ECMP_FLOW_HASH.fields,
          'net.ipv6.fib_multipath_hash_policy': ECMP_FLOW_HASH.policy,
          'net.ipv6.fib_multipath_hash_fields': ECMP_FLOW_HASH.fields,
          ...(seeds ? { 'net.ipv4.fib_multipath_hash_seed': String(randomInt(1, 2 ** 31)) } : {}),
          ...(this.keepRateLimits ? {} : ICMP_UNLIMITED),
        };
        await ipBatch(lines, { ns: node.ns });
        await this.applyRoutes(node);
        const r = await runProcess('ip', ['netns', 'exec', node.ns, 'sysctl', '-qw', ...sysctlArgs(settings)]);
        if (r.code !== 0) throw new ProcessError(r);
      }),
    );
  }

  protected override defaultRejectHook(ns: string): NftHook {
    return Object.values(this.nodes).some((n) => n.ns === ns && n.router) ? 'forward' : 'input';
  }

  /**
   * Takes a link down or up (both ends) and recomputes every route, as a routing protocol
   * would: traffic moves to the remaining paths, or gets "network unreachable" where none is left.
   */
  async setLinkState(which: number | readonly [string, string], state: 'up' | 'down'): Promise<void> {
    const l = this.link(which);
    await Promise.all([this.setInterfaceState(l.a.ns, l.a.ifname, state), this.setInterfaceState(l.b.ns, l.b.ifname, state)]);
    if (state === 'down') this.downLinks.add(l.index);
    else this.downLinks.delete(l.index);
    await Promise.all(Object.values(this.nodes).map((n) => this.applyRoutes(n)));
  }

  /** Sets the MTU of both ends of a link and forgets learned path MTUs everywhere. */
  async setMtu(which: number | readonly [string, string], mtu: number): Promise<void> {
    const l = this.link(which);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`mtu must be 68–65535, got ${mtu}`);
    await this.setLinkMtu(l, mtu);
    if (mtu === this.lens[l.index - 1].mtu) this.changedMtu.delete(l.index);
    else this.changedMtu.add(l.index);
    await this.flushRouteCaches();
  }

  private async setLinkMtu(l: NetworkLink, mtu: number): Promise<void> {
    await Promise.all([
      this.ip(l.a.ns, ['link', 'set', 'dev', l.a.ifname, 'mtu', String(mtu)]),
      this.ip(l.b.ns, ['link', 'set', 'dev', l.b.ifname, 'mtu', String(mtu)]),
    ]);
  }

  /** Forgets cached path MTUs and redirects (IPv4 and IPv6) in every namespace. */
  async flushRouteCaches(): Promise<void> {
    await Promise.all(
      this.namespaces.flatMap((ns) => [this.ip(ns, ['-4', 'route', 'flush', 'cache']), this.ip(ns, ['-6', 'route', 'flush', 'cache'])]),
    );
  }

  /**
   * Back to the network as built, for one network shared by several tests: removes every
   * nftables rule (loss, rejects, silent hops, rules loaded with nft()), brings links that are
   * down back up with their routes, restores each changed link's MTU and forgets learned path
   * MTUs. Sysctls changed with sysctl()/setPingGroupRange() are left as they are.
   */
  async reset(): Promise<void> {
    await this.resetRules();
    const down = [...this.downLinks].map((k) => this.link(k));
    if (down.length) {
      await Promise.all(down.flatMap((l) => [this.setInterfaceState(l.a.ns, l.a.ifname, 'up'), this.setInterfaceState(l.b.ns, l.b.ifname, 'up')]));
      this.downLinks.clear();
      await Promise.all(Object.values(this.nodes).map((n) => this.applyRoutes(n)));
    }
    const changed = [...this.changedMtu].map((k) => this.link(k));
    if (!changed.length) return;
    await Promise.all(changed.map((l) => this.setLinkMtu(l, this.lens[l.index - 1].mtu)));
    this.changedMtu.clear();
    await this.flushRouteCaches(); // path MTUs learned while a link was smaller
  }
}

/**
 * Builds a network from a description; destroy()/close() it, or `await using` it.
 *   await using net = await createNetwork({
 *     hosts: ['a', 'b'], routers: ['r1', 'r2', 'r3', 'r4'],
 *     links: [['a', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r3', 'r4'], ['r4', 'b']],
 *   }); // r1 reaches b over r2 and r3 (ECMP, stable per flow)
 */
export function createNetwork(desc: NetworkDescription): Promise<Network> {
  return Network.create(desc);
}
