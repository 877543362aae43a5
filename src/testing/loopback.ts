// One namespace with only lo: for ping-socket and many-target tests.

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
} from './namespace-group.js';

export interface LoopbackOptions {
  /** ping_group_range set inside the namespace (default [0, 2147483647]: every group). */
  pingGroupRange?: readonly [number, number] | null;
  keepIcmpRateLimits?: boolean;
  prefix?: string;
}


/**
 * One namespace with only lo, up: 127.0.0.0/8 is local as always, and `v6Prefix` (fdXX::/64)
 * is routed to lo as well (IPv6 AnyIP), so every address in it answers — for many-target tests.
 * ping_group_range is widened inside it (by default to every group) for ping-socket tests.
 */
export class LoopbackNamespace extends NamespaceGroup {
  readonly ns: string;
  /** e.g. 'fd3a::/64' — every address in it is local. */
  readonly v6Prefix: string;

  private constructor(prefix: string, id: string, octet: number) {
    const ns = `${prefix}-${process.pid}-${id}-lo`;
    super(prefix, id, octet, [ns]);
    this.ns = ns;
    this.v6Prefix = `fd${hex2(octet)}::/64`;
  }

  /** The n-th address (n ≥ 1) of v6Prefix, e.g. v6Address(255) → 'fd3a::ff'. */
  v6Address(n: number): string {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`address index must be 1–2^32-1, got ${n}`);
    const hi = Math.floor(n / 0x10000);
    return `fd${hex2(this.octet)}::${hi ? `${hi.toString(16)}:` : ''}${(n % 0x10000).toString(16)}`;
  }

  static async create(opts: LoopbackOptions = {}): Promise<LoopbackNamespace> {
    const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
    sweepStaleNamespaces(prefix);
    const lo = new LoopbackNamespace(prefix, newId(), allocateOctet());
    await NamespaceGroup.createNamespaces(lo, async () => {
      await ipBatch([`netns add ${lo.ns}`]);
      const range = opts.pingGroupRange === undefined ? ([0, 2147483647] as const) : opts.pingGroupRange;
      const settings: Record<string, string> = {
        ...(opts.keepIcmpRateLimits ? {} : ICMP_UNLIMITED),
        ...(range ? { 'net.ipv4.ping_group_range': `${range[0]} ${range[1]}` } : {}),
      };
      await Promise.all([
        ipBatch(['link set dev lo up', `route add local ${lo.v6Prefix} dev lo`], { ns: lo.ns }),
        Object.keys(settings).length ? lo.sysctl(lo.ns, settings) : Promise.resolve(),
      ]);
    });
    return lo;
  }
}

/** Creates a LoopbackNamespace. Remember to destroy() it, or use useLoopbackNamespace(). */
export function loopbackNamespace(opts: LoopbackOptions = {}): Promise<LoopbackNamespace> {
  return LoopbackNamespace.create(opts);
}
