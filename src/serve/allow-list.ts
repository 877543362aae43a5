// Who /probe may probe (probe.allow): addresses and CIDR blocks matched with node:net's
// BlockList, names matched exactly (case-insensitive). A name is never resolved to decide: an
// exporter that looked up whatever it was asked could be made to scan through DNS.

import { BlockList, isIP } from 'node:net';
import { mappedIPv4 } from '../target/index.js';
import { parseCidr } from './host-list.js';

export class AllowList {
  private readonly blocks = new BlockList();
  private readonly names = new Set<string>();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      if (e.includes('/')) {
        const c = parseCidr(e);
        if (typeof c !== 'string') this.blocks.addSubnet(c.base, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
      } else if (isIP(e)) {
        this.blocks.addAddress(e, isIP(e) === 4 ? 'ipv4' : 'ipv6');
      } else {
        this.names.add(e.toLowerCase().replace(/\.$/, ''));
      }
    }
    this.empty = entries.length === 0;
  }

  /** Null when `target` may be probed, else why not. */
  refusal(target: string): string | null {
    const family = isIP(target);
    // BlockList reads ::ffff:a.b.c.d as the IPv4 address; no probe of ours would reach that
    if (family === 6 && mappedIPv4(target) !== null) return `target ${target} is an IPv4-mapped IPv6 address (give the IPv4 address)`;
    if (family !== 0) {
      if (this.blocks.check(target, family === 4 ? 'ipv4' : 'ipv6')) return null;
      return `target ${target} is not inside probe.allow of the config`;
    }
    if (this.names.has(target.toLowerCase().replace(/\.$/, ''))) return null;
    return `target ${target} is not listed in probe.allow of the config (names must be listed as they are asked for)`;
  }
}
