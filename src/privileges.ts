// Works out how this process may use ICMP: raw sockets need CAP_NET_RAW; ping sockets
// (SOCK_DGRAM, IPPROTO_ICMP) need a group inside net.ipv4.ping_group_range of this network
// namespace (Debian's default "1 0" admits nobody, root included). Explains what is missing
// in words a user can act on.
import { readFileSync } from 'node:fs';
import { CAP_NET_RAW, currentCapabilities, has } from './capabilities.js';
import { PrivilegeError } from './errors.js';
import { native } from './native.js';

export type IcmpMode = 'raw' | 'dgram';
export type IcmpModeRequest = IcmpMode | 'auto';

export interface RawAccess {
  allowed: boolean;
  /** 'effective': CAP_NET_RAW is effective; 'permitted': it can be raised */
  via: 'effective' | 'permitted' | null;
  reason: string | null;
  fix: string | null;
}

export interface DgramAccess {
  allowed: boolean;
  /** [low, high] from /proc/sys/net/ipv4/ping_group_range, null if unreadable */
  range: [number, number] | null;
  /** the process's effective gid and supplementary groups */
  groups: number[];
  /** the first of groups inside the range */
  matchingGroup: number | null;
  reason: string | null;
  fix: string | null;
}

export interface IcmpAccess {
  raw: RawAccess;
  dgram: DgramAccess;
  /** what 'auto' picks: raw first (replies carry TTL and checksum checks), then dgram */
  auto: IcmpMode | null;
}

const RANGE_FILE = '/proc/sys/net/ipv4/ping_group_range';

export function readPingGroupRange(file = RANGE_FILE): [number, number] | null {
  try {
    const [lo, hi] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) return null;
    return [lo, hi];
  } catch {
    return null;
  }
}

export function processGroups(): number[] {
  const groups = new Set<number>();
  const egid = process.getegid?.();
  if (egid !== undefined) groups.add(egid);
  for (const g of process.getgroups?.() ?? []) groups.add(g);
  return [...groups];
}

export function nodeBinaryFix(): string {
  return `sudo setcap cap_net_raw+ep ${process.execPath}`;
}

export function rawAccess(): RawAccess {
  const caps = currentCapabilities();
  if (has(caps.effective, CAP_NET_RAW)) return { allowed: true, via: 'effective', reason: null, fix: null };
  if (has(caps.permitted, CAP_NET_RAW)) return { allowed: true, via: 'permitted', reason: null, fix: null };
  return {
    allowed: false,
    via: null,
    reason: 'raw ICMP sockets need CAP_NET_RAW, which this process does not have',
    fix:
      `run as root, or give node the capability: ${nodeBinaryFix()}; ` +
      `in Docker: docker run --cap-add=NET_RAW`,
  };
}

export function dgramAccess(range = readPingGroupRange(), groups = processGroups()): DgramAccess {
  if (range === null) {
    return {
      allowed: false, range, groups, matchingGroup: null,
      reason: `${RANGE_FILE} is not readable, so ping sockets cannot be checked`,
      fix: 'mount /proc, or use raw sockets (--socket raw) with CAP_NET_RAW',
    };
  }
  const [lo, hi] = range;
  const matchingGroup = groups.find((g) => g >= lo && g <= hi) ?? null;
  if (matchingGroup !== null) return { allowed: true, range, groups, matchingGroup, reason: null, fix: null };
  const gid = groups[0] ?? 0;
  return {
    allowed: false,
    range,
    groups,
    matchingGroup: null,
    reason: `ping sockets need a group inside net.ipv4.ping_group_range (${lo} ${hi}); this process has ${groups.join(', ') || 'no groups'}`,
    fix: `sudo sysctl -w net.ipv4.ping_group_range="${Math.min(gid, lo <= hi ? lo : gid)} ${Math.max(gid, lo <= hi ? hi : gid)}" (it is per network namespace; in Docker: docker run --sysctl net.ipv4.ping_group_range="0 2147483647")`,
  };
}

export function icmpAccess(): IcmpAccess {
  const raw = rawAccess();
  const dgram = dgramAccess();
  return { raw, dgram, auto: raw.allowed ? 'raw' : dgram.allowed ? 'dgram' : null };
}

/**
 * Picks the ICMP mode for a request, raising CAP_NET_RAW from permitted to effective when
 * needed; throws PrivilegeError (code ERR_NETDIAG_PRIVILEGE) naming the missing knob.
 */
export function chooseIcmpMode(request: IcmpModeRequest): IcmpMode {
  const access = icmpAccess();
  if (request === 'raw' || (request === 'auto' && access.raw.allowed)) {
    if (!access.raw.allowed) throw new PrivilegeError(access.raw.reason!, access.raw.fix!);
    if (access.raw.via === 'permitted') native().raiseCapability(CAP_NET_RAW);
    return 'raw';
  }
  if (request === 'dgram' || access.dgram.allowed) {
    if (!access.dgram.allowed) throw new PrivilegeError(access.dgram.reason!, access.dgram.fix!);
    return 'dgram';
  }
  throw new PrivilegeError(
    'cannot send ICMP: no CAP_NET_RAW for raw sockets and no group inside net.ipv4.ping_group_range for ping sockets',
    `either ${access.raw.fix!.replace(/^run as root, or give node the capability: /, 'give node CAP_NET_RAW: ')}, or ${access.dgram.fix!}`,
  );
}
