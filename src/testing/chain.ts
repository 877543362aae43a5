// A chain of namespaces: source — router 1 … router N — destination joined by veth pairs, IPv4
// and IPv6 on every link, forwarding on, ICMP rate limits off.
//
// Address plan (X: a per-instance random number 1–254, XX its two hex digits; link k = 1…N+1
// joins node k-1 and node k, where node 0 is the source and node N+1 the destination):
//   link k     IPv4 10.X.k.0/24      IPv6 fdXX:k::/64 (k in hex)   link-local fe80::1 / fe80::2
//   left end   10.X.k.1  fdXX:k::1  (node k-1)
//   right end  10.X.k.2  fdXX:k::2  (node k)
// So router k answers a traceroute from 10.X.k.2 / fdXX:k::2 (its address toward the source) and
// the destination is 10.X.(N+1).2 / fdXX:(N+1)::2.  The loopback namespace routes fdXX::/64 to lo.
//
// Traps handled here: net.ipv4.icmp_ratemask=0 besides icmp_ratelimit=0 (see ICMP_UNLIMITED);
// no kernel link-local addresses (see build()). Not handled: route-generated IPv4 errors are
// limited by the host-wide net.ipv4.route.error_cost (see addRoute()).
//
// Interfaces are `<prefix><id>-<k>a` (left end of link k) and `<prefix><id>-<k>b` (right end) — at
// most 15 chars.

import {
  DEFAULT_PREFIX,
  ICMP_UNLIMITED,
  NamespaceGroup,
  allocateOctet,
  checkPrefix,
  familyOf,
  hex2,
  ipBatch,
  newId,
  sweepStaleNamespaces,
  sysctlArgs,
  type NftHook,
  type RouteType,
} from './namespace-group.js';
import { ProcessError, runProcess } from './process.js';


/** One end of a veth link: the namespace it is in, its interface name and addresses. */
export interface Endpoint {
  ns: string;
  ifname: string;
  v4: string;
  v6: string;
}

/** Link k joins node k-1 (left, toward the source) and node k (right, toward the destination). */
export interface Link {
  index: number;
  v4Prefix: string;
  v6Prefix: string;
  left: Endpoint;
  right: Endpoint;
}

/** What a traceroute from the source should see at `ttl`; the last hop is the destination. */
export interface Hop {
  ttl: number;
  ns: string;
  /** The address this hop answers from: its interface toward the source. */
  v4: string;
  v6: string;
  /** The interface toward the source. */
  in: Endpoint;
  /** The interface toward the destination (null for the destination). */
  out: Endpoint | null;
}

export interface TopologyOptions {
  /** Routers between source and destination, 0–64 (default 3). */
  routers?: number;
  /** MTU of every link at creation (default 1500). */
  mtu?: number;
  /** Keep the kernel's default ICMP rate limits instead of turning them off (default false). */
  keepIcmpRateLimits?: boolean;
  /** Naming prefix, 1–6 lowercase letters/digits (default 'ndt'); the stale sweep looks only at it. */
  prefix?: string;
}

const MAX_ROUTERS = 64;

// ---------------------------------------------------------------------------------------------

/** source — routers[0] … routers[N-1] — destination. Create with createTopology(). */
export class Topology extends NamespaceGroup {
  readonly source: string;
  readonly routers: readonly string[];
  readonly destination: string;
  /** links[k-1] is link k: links[0] joins source and router 1, the last joins the last router and destination. */
  readonly links: readonly Link[];
  /** hops[t-1] answers at TTL t; the last entry is the destination. */
  readonly hops: readonly Hop[];
  /** The source's own addresses (on link 1). */
  readonly sourceAddress: { v4: string; v6: string };
  /** The destination's addresses: what tests ping and trace. */
  readonly target: { v4: string; v6: string };

  private readonly initialMtu: number;
  private readonly addedRoutes: Array<{ ns: string; type: RouteType; prefix: string }> = [];
  private readonly changedMtu = new Set<number>();
  private readonly downLinks = new Set<number>();

  private constructor(prefix: string, id: string, octet: number, routerCount: number, mtu: number) {
    const nsName = (role: string) => `${prefix}-${process.pid}-${id}-${role}`;
    const nodes = [nsName('src'), ...Array.from({ length: routerCount }, (_, i) => nsName(`r${i + 1}`)), nsName('dst')];
    super(prefix, id, octet, nodes);
    this.initialMtu = mtu;
    this.source = nodes[0];
    this.routers = nodes.slice(1, -1);
    this.destination = nodes[nodes.length - 1];
    const v6Net = (k: number) => `fd${hex2(octet)}:${k.toString(16)}:`;
    this.links = Array.from({ length: routerCount + 1 }, (_, i): Link => {
      const k = i + 1;
      return {
        index: k,
        v4Prefix: `10.${octet}.${k}.0/24`,
        v6Prefix: `${v6Net(k)}:/64`,
        left: { ns: nodes[k - 1], ifname: `${prefix}${id}-${k}a`, v4: `10.${octet}.${k}.1`, v6: `${v6Net(k)}:1` },
        right: { ns: nodes[k], ifname: `${prefix}${id}-${k}b`, v4: `10.${octet}.${k}.2`, v6: `${v6Net(k)}:2` },
      };
    });
    this.hops = this.links.map((l, i): Hop => {
      const out = this.links[i + 1]?.left ?? null;
      return { ttl: i + 1, ns: l.right.ns, v4: l.right.v4, v6: l.right.v6, in: l.right, out };
    });
    this.sourceAddress = { v4: this.links[0].left.v4, v6: this.links[0].left.v6 };
    const last = this.links[this.links.length - 1].right;
    this.target = { v4: last.v4, v6: last.v6 };
  }

  /** Builds the chain; rejects (having deleted whatever it made) if any step fails. */
  static async create(opts: TopologyOptions = {}): Promise<Topology> {
    const routerCount = opts.routers ?? 3;
    if (!Number.isInteger(routerCount) || routerCount < 0 || routerCount > MAX_ROUTERS) {
      throw new RangeError(`routers must be an integer 0–${MAX_ROUTERS}, got ${routerCount}`);
    }
    const mtu = opts.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) throw new RangeError(`mtu must be 1280–65535 (IPv6 needs 1280), got ${mtu}`);
    const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
    sweepStaleNamespaces(prefix);
    const topo = new Topology(prefix, newId(), allocateOctet(), routerCount, mtu);
    await NamespaceGroup.createNamespaces(topo, () => topo.build(opts.keepIcmpRateLimits ?? false));
    return topo;
  }

  private async build(keepRateLimits: boolean): Promise<void> {
    const links = this.links;
    // One ip process makes every namespace and creates each veth pair directly inside its two namespaces.
    await ipBatch([
      ...this.namespaces.map((n) => `netns add ${n}`),
      ...links.map((l) => `link add ${l.left.ifname} netns ${l.left.ns} type veth peer name ${l.right.ifname} netns ${l.right.ns}`),
    ]);

    const last = this.namespaces.length - 1;
    const perNode = this.namespaces.map(async (ns, k) => {
      const ends: Array<{ end: Endpoint; ll: string }> = [];
      if (k > 0) ends.push({ end: links[k - 1].right, ll: 'fe80::2' });
      if (k < last) ends.push({ end: links[k].left, ll: 'fe80::1' });
      const lines = ['link set dev lo up'];
      for (const { end, ll } of ends) {
        // No kernel link-local: its DAD would keep it tentative for a second, and a router cannot
        // solicit neighbours for forwarded IPv6 packets without a usable one. Ours skips DAD.
        lines.push(`link set dev ${end.ifname} addrgenmode none mtu ${this.initialMtu} up`);
        lines.push(`addr add ${ll}/64 dev ${end.ifname} nodad`);
        lines.push(`addr add ${end.v4}/24 dev ${end.ifname}`);
        lines.push(`addr add ${end.v6}/64 dev ${end.ifname} nodad`);
      }
      if (k === 0) {
        lines.push(`route add 0.0.0.0/0 via ${links[0].right.v4}`, `route add ::/0 via ${links[0].right.v6}`);
      } else if (k === last) {
        lines.push(`route add 0.0.0.0/0 via ${links[k - 1].left.v4}`, `route add ::/0 via ${links[k - 1].left.v6}`);
      } else {
        // Routers get explicit routes only: anything outside the chain is "no route" (!N) at router 1.
        for (const l of links) {
          if (l.index === k || l.index === k + 1) continue; // connected
          const via = l.index < k ? links[k - 1].left : links[k].right;
          lines.push(`route add ${l.v4Prefix} via ${via.v4}`, `route add ${l.v6Prefix} via ${via.v6}`);
        }
      }
      const router = k > 0 && k < last;
      const settings: Record<string, string> = {
        'net.ipv4.ip_forward': router ? '1' : '0',
        'net.ipv6.conf.all.forwarding': router ? '1' : '0',
        ...(keepRateLimits ? {} : ICMP_UNLIMITED),
      };
      await Promise.all([
        ipBatch(lines, { ns }),
        runProcess('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...sysctlArgs(settings)]).then((r) => {
          if (r.code !== 0) throw new ProcessError(r);
        }),
      ]);
    });
    await Promise.all(perNode);
  }

  protected override defaultRejectHook(ns: string): NftHook {
    return this.routers.includes(ns) ? 'forward' : 'input';
  }

  private linkAt(link: number | Link): Link {
    const index = typeof link === 'number' ? link : link.index;
    const l = this.links[index - 1];
    if (!l || l.index !== index) throw new RangeError(`no link ${index} (links are 1–${this.links.length})`);
    return l;
  }

  /**
   * Sets the MTU of both ends of link k (1-based; link k joins hop k-1 and hop k) and forgets
   * path MTUs learned so far in every namespace. Packets larger than `mtu` entering that link
   * are answered by the node on its left (frag needed / packet too big; "message too long" at
   * the source itself when k = 1).
   */
  async setMtu(link: number | Link, mtu: number): Promise<void> {
    const l = this.linkAt(link);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`mtu must be 68–65535, got ${mtu}`);
    this.assertOwned(l.left.ns);
    await Promise.all([
      this.ip(l.left.ns, ['link', 'set', 'dev', l.left.ifname, 'mtu', String(mtu)]),
      this.ip(l.right.ns, ['link', 'set', 'dev', l.right.ifname, 'mtu', String(mtu)]),
    ]);
    this.changedMtu.add(l.index);
    await this.flushRouteCaches(); // a raised MTU must not hide behind path MTUs learned before
  }

  /**
   * Takes link k down or up (both ends). Down, the node on its left has no route across it any
   * more: packets for beyond are answered "network unreachable" by that node, or fail at the
   * source itself when k = 1.
   */
  async setLinkState(link: number | Link, state: 'up' | 'down'): Promise<void> {
    const l = this.linkAt(link);
    await Promise.all([this.setInterfaceState(l.left.ns, l.left.ifname, state), this.setInterfaceState(l.right.ns, l.right.ifname, state)]);
    if (state === 'down') this.downLinks.add(l.index);
    else {
      this.downLinks.delete(l.index);
      await this.restoreRoutes(l);
    }
  }

  /** Routes via a link are deleted while it is down: put back the chain's own ones. */
  private async restoreRoutes(l: Link): Promise<void> {
    const k = l.index;
    const last = this.namespaces.length - 1;
    const add = async (ns: string, lines: string[]) => ipBatch(lines, { ns, force: true });
    // the left node (k-1) reaches everything right of the link via l.right; the right node (k) everything left via l.left
    const leftNode = k - 1;
    const rightNode = k;
    const leftLines: string[] = [];
    const rightLines: string[] = [];
    if (leftNode === 0) leftLines.push(`route replace 0.0.0.0/0 via ${l.right.v4}`, `route replace ::/0 via ${l.right.v6}`);
    else for (const o of this.links) if (o.index > k) leftLines.push(`route replace ${o.v4Prefix} via ${l.right.v4}`, `route replace ${o.v6Prefix} via ${l.right.v6}`);
    if (rightNode === last) rightLines.push(`route replace 0.0.0.0/0 via ${l.left.v4}`, `route replace ::/0 via ${l.left.v6}`);
    else for (const o of this.links) if (o.index < k) rightLines.push(`route replace ${o.v4Prefix} via ${l.left.v4}`, `route replace ${o.v6Prefix} via ${l.left.v6}`);
    await Promise.all([add(l.left.ns, leftLines), add(l.right.ns, rightLines)]);
  }

  /** Forgets cached path MTUs and redirects (IPv4 and IPv6) in every namespace of the chain. */
  async flushRouteCaches(): Promise<void> {
    await Promise.all(
      this.namespaces.flatMap((ns) => [this.ip(ns, ['-4', 'route', 'flush', 'cache']), this.ip(ns, ['-6', 'route', 'flush', 'cache'])]),
    );
  }

  /**
   * Adds a route of type unreachable / prohibit / blackhole for `prefix` (IPv4 or IPv6) in `ns`.
   * E.g. addRoute(routers[2], 'unreachable', `${target.v4}/32`) makes router 3 answer `!H`
   * (IPv6: `!N`); 'prohibit' gives `!X`; 'blackhole' drops silently.
   * Beware: IPv4 errors generated by routes are limited by net.ipv4.route.error_cost/error_burst,
   * which exist only in the host's namespace (we do not touch them): per router and source
   * address a burst of 5, then one per second (defaults; blackhole is silent anyway). Use
   * reject() where a test needs more. IPv6 has no such limiter.
   */
  async addRoute(ns: string, type: RouteType, prefix: string): Promise<void> {
    await this.ip(ns, [familyOf(prefix) === 'ipv6' ? '-6' : '-4', 'route', 'add', type, prefix]);
    this.addedRoutes.push({ ns, type, prefix });
  }

  /** Removes a route added with addRoute(). */
  async deleteRoute(ns: string, type: RouteType, prefix: string): Promise<void> {
    await this.ip(ns, [familyOf(prefix) === 'ipv6' ? '-6' : '-4', 'route', 'del', type, prefix]);
    const i = this.addedRoutes.findIndex((r) => r.ns === ns && r.type === type && r.prefix === prefix);
    if (i >= 0) this.addedRoutes.splice(i, 1);
  }

  /**
   * Back to the state right after creation, for topologies shared by several tests: removes all
   * nftables rules, routes added with addRoute(), brings down links up, restores link MTUs (and then forgets learned
   * path MTUs).
   * Sysctls changed with sysctl()/setPingGroupRange() are left as they are.
   */
  async reset(): Promise<void> {
    await this.resetRules();
    for (const k of [...this.downLinks]) await this.setLinkState(k, 'up');
    for (const r of [...this.addedRoutes].reverse()) await this.deleteRoute(r.ns, r.type, r.prefix);
    const mtus = [...this.changedMtu].map((k) => this.linkAt(k));
    if (!mtus.length) return;
    this.changedMtu.clear();
    await Promise.all(
      mtus.flatMap((l) => [
        this.ip(l.left.ns, ['link', 'set', 'dev', l.left.ifname, 'mtu', String(this.initialMtu)]),
        this.ip(l.right.ns, ['link', 'set', 'dev', l.right.ifname, 'mtu', String(this.initialMtu)]),
      ]),
    );
    await this.flushRouteCaches(); // path MTUs learned while the link was smaller
  }
}

/** Builds a chain topology (see Topology). Remember to destroy() it, or use useTopology(). */
export function createTopology(opts: TopologyOptions = {}): Promise<Topology> {
  return Topology.create(opts);
}
