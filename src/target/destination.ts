// Where probes to a resolved target address really go, decided before the first one is sent:
// - a link-local IPv6 address names its interface with a zone ('fe80::1%eth0' or '%2', as
//   getaddrinfo reads it), or the -I interface stands in for one; the zone is checked against
//   the kernel's interfaces and spelled as Node spells it ('%eth0'), so replies, which Node-style
//   formatting gives the same zone, compare equal to the target;
// - "this host" (0.0.0.0, ::) is the address the kernel actually sends to (connect() rewrites it:
//   127.0.0.1 or the bound source for IPv4, ::1 for IPv6), so the reply's source is the target's.
import { native } from '../native.js';
import { addressBytes, isUnspecified, needsScopeIPv6, splitZone } from '../packet/address.js';

/** A target's zone is wrong: unknown interface, missing, or not allowed. `problem (fix)` like UsageError. */
export class TargetScopeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE';
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem} (${fix})`);
    this.name = 'TargetScopeError';
  }
}

export interface Destination {
  /** the address probes go to, a scoped one with its '%ifname' */
  address: string;
  /** sin6_scope_id for the sends, 0 when the address needs none */
  scopeId: number;
}

export interface DestinationOptions {
  /** the interface probes are bound to (ping -I IFACE, traceroute -i) */
  device?: string;
  /** the source address probes are bound to (ping -I ADDR, traceroute -s) */
  source?: string;
}

/**
 * Where probes to `address` (resolved from `target`, family `family`) go; throws
 * TargetScopeError when a zone names no interface, contradicts the device, is given to an
 * address that takes none, or a link-local address comes without one and without a device.
 */
export function destinationOf(target: string, address: string, family: 4 | 6, opts: DestinationOptions = {}): Destination {
  const { address: plain, zone } = splitZone(address);
  const bytes = addressBytes(plain);
  if (family === 6 && needsScopeIPv6(bytes)) {
    const scope = interfaceOf(target, zone, opts.device);
    return { address: `${plain}%${scope.name}`, scopeId: scope.index };
  }
  if (zone !== null) {
    throw new TargetScopeError(`${target}: a %zone only applies to link-local IPv6 addresses (fe80::/10)`, `drop the %${zone}`);
  }
  if (isUnspecified(bytes)) return { address: thisHostAddress(family, opts.source), scopeId: 0 };
  return { address, scopeId: 0 };
}

/** The interface a scoped address goes out of: its zone's, else the device's. */
function interfaceOf(target: string, zone: string | null, device: string | undefined): { name: string; index: number } {
  const n = native();
  if (zone === null) {
    if (device === undefined) {
      throw new TargetScopeError(
        `${target} is a link-local address, which the kernel can send only through a named interface`,
        `add its interface, as in ${target}%eth0, or name one with ping -I or traceroute -i`,
      );
    }
    const index = n.interfaceIndex(device);
    if (index === 0) throw new TargetScopeError(`no network interface is named ${device}`, 'give an interface that exists; ip link lists them');
    return { name: device, index };
  }
  const index = zoneIndex(zone);
  if (index === 0) {
    throw unknownZone(target, zone);
  }
  const name = n.interfaceName(index) ?? String(index);
  if (device !== undefined && n.interfaceIndex(device) !== index) {
    throw new TargetScopeError(`${target} is on interface ${name}, but the probes are bound to ${device}`, `give one interface: drop -I/-i ${device}, or the %${zone}`);
  }
  return { name, index };
}

/** The interface index a zone names (a name first, then a decimal index, as getaddrinfo reads it); 0 when none. */
function zoneIndex(zone: string): number {
  if (zone.length === 0) return 0;
  const n = native();
  const byName = n.interfaceIndex(zone);
  if (byName !== 0) return byName;
  if (!/^[0-9]{1,10}$/.test(zone)) return 0;
  const index = Number(zone);
  return index > 0 && index <= 0x7fffffff && n.interfaceName(index) !== null ? index : 0;
}

/** The scope id of an address that ends in '%ifname' or '%index'; 0 for one without a zone. */
export function scopeIdOf(address: string): number {
  const { zone } = splitZone(address);
  if (zone === null) return 0;
  const index = zoneIndex(zone);
  if (index === 0) throw unknownZone(address, zone);
  return index;
}

function unknownZone(target: string, zone: string): TargetScopeError {
  const which = /^[0-9]+$/.test(zone) ? `has index ${zone}` : `is named ${JSON.stringify(zone)}`;
  return new TargetScopeError(`${target}: no network interface ${which}`, 'after % give the name or index of an interface that exists; ip link lists them');
}

/**
 * The address the kernel sends to when told "this host" (0.0.0.0 or ::): ask it, by connecting
 * a UDP socket (nothing is sent) and reading the peer it settled on.
 */
export function thisHostAddress(family: 4 | 6, source?: string): string {
  const n = native();
  const C = n.constants;
  const fd = n.socket(family === 6 ? C.AF_INET6 : C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP);
  try {
    // IPv4 sends "this host" to the bound source when there is one
    if (source !== undefined) n.bind(fd, family, source, 0);
    n.connect(fd, family, family === 6 ? '::' : '0.0.0.0', 9);
    const peer = n.getpeername(fd);
    if (!peer.address) throw new Error(`the kernel gave no address for ${family === 6 ? '::' : '0.0.0.0'}`);
    return peer.address;
  } finally {
    n.close(fd);
  }
}
