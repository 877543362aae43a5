// What this machine allows netdiag to do, and the exact fix for each missing piece.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { release, machine } from 'node:os';
import { CAP_NET_ADMIN, CAP_NET_RAW, capabilityNames, currentCapabilities, has } from './capabilities.js';
import { addonInfo, native, type AddonInfo } from './native.js';
import { dgramAccess, nodeBinaryFix, processGroups, rawAccess, type IcmpMode } from './privileges.js';
import { isSystemError } from './errors.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** what to do when ok is false (null when there is nothing to fix) */
  fix: string | null;
}

/** The outcome of really opening a socket: 'ok' or the errno code (EPERM, EACCES, ...). */
export type SocketProbe = 'ok' | string;

export interface DoctorReport {
  schema: 'netdiag.doctor/1';
  /** ICMP works in at least one mode (ping and traceroute -I can run) */
  ok: boolean;
  addon: (AddonInfo & { loaded: true; napi: number }) | { loaded: false; error: string };
  node: { version: string; execPath: string };
  kernel: { release: string; machine: string };
  user: { uid: number; gid: number; groups: number[] };
  capabilities: {
    effective: string[];
    permitted: string[];
    ambient: string[];
    netRaw: { effective: boolean; permitted: boolean };
    netAdmin: { effective: boolean; permitted: boolean };
  } | null;
  pingGroupRange: { range: [number, number] | null; groups: number[]; allowed: boolean; matchingGroup: number | null };
  icmp: {
    raw: { allowed: boolean; ipv4: SocketProbe; ipv6: SocketProbe };
    dgram: { allowed: boolean; ipv4: SocketProbe; ipv6: SocketProbe };
    /** what --socket auto would use */
    auto: IcmpMode | null;
  };
  ipv6: { available: boolean; detail: string };
  proc: { netReadable: boolean; otherProcessFds: 'readable' | 'unreadable' | 'none-to-check' };
  checks: DoctorCheck[];
}

function probeSocket(family: 4 | 6, mode: IcmpMode): SocketProbe {
  try {
    const n = native();
    const C = n.constants;
    const fd = n.socket(family === 6 ? C.AF_INET6 : C.AF_INET, mode === 'raw' ? C.SOCK_RAW : C.SOCK_DGRAM, family === 6 ? C.IPPROTO_ICMPV6 : C.IPPROTO_ICMP);
    n.close(fd);
    return 'ok';
  } catch (e) {
    return isSystemError(e) ? e.code : (e as Error).message;
  }
}

function ipv6Status(): { available: boolean; detail: string } {
  if (!existsSync('/proc/net/if_inet6')) return { available: false, detail: 'the kernel has no IPv6 (ipv6.disable=1 or not built in)' };
  try {
    if (readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() === '1') {
      return { available: false, detail: 'IPv6 is disabled (net.ipv6.conf.all.disable_ipv6=1)' };
    }
  } catch {
    /* not readable: fall through to the address check */
  }
  let hasLoopback = false;
  try {
    hasLoopback = readFileSync('/proc/net/if_inet6', 'utf8').split('\n').some((l) => l.startsWith('00000000000000000000000000000001'));
  } catch {
    return { available: false, detail: '/proc/net/if_inet6 is not readable' };
  }
  return hasLoopback ? { available: true, detail: '::1 is configured' } : { available: false, detail: '::1 is not configured (lo is down?)' };
}

function otherProcessFds(): 'readable' | 'unreadable' | 'none-to-check' {
  const me = process.getuid?.() ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (statSync(`/proc/${entry}`).uid === me) continue;
      readdirSync(`/proc/${entry}/fd`);
      return 'readable';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return 'unreadable';
      // the process vanished: try another one
    }
  }
  return 'none-to-check';
}

export function doctor(): DoctorReport {
  const checks: DoctorCheck[] = [];
  let addon: DoctorReport['addon'];
  try {
    const info = addonInfo();
    addon = { loaded: true, ...info, napi: Number(process.versions.napi) };
    checks.push({ name: 'addon', ok: true, detail: `${info.source} ${info.path} (${info.arch}, built for N-API 8, node has ${process.versions.napi})`, fix: null });
  } catch (e) {
    addon = { loaded: false, error: (e as Error).message };
    checks.push({ name: 'addon', ok: false, detail: (e as Error).message, fix: 'reinstall netdiag (npm install netdiag) or build it: npm run build:native' });
  }

  const groups = processGroups();
  const user = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0, groups };

  let capabilities: DoctorReport['capabilities'] = null;
  let raw = { allowed: false, ipv4: 'addon not loaded' as SocketProbe, ipv6: 'addon not loaded' as SocketProbe };
  let dgramProbe = { ipv4: 'addon not loaded' as SocketProbe, ipv6: 'addon not loaded' as SocketProbe };
  const dg = dgramAccess();
  if (addon.loaded) {
    const caps = currentCapabilities();
    capabilities = {
      effective: capabilityNames(caps.effective),
      permitted: capabilityNames(caps.permitted),
      ambient: capabilityNames(caps.ambient),
      netRaw: { effective: has(caps.effective, CAP_NET_RAW), permitted: has(caps.permitted, CAP_NET_RAW) },
      netAdmin: { effective: has(caps.effective, CAP_NET_ADMIN), permitted: has(caps.permitted, CAP_NET_ADMIN) },
    };
    const ra = rawAccess();
    if (ra.via === 'permitted') native().raiseCapability(CAP_NET_RAW);
    raw = { allowed: ra.allowed, ipv4: probeSocket(4, 'raw'), ipv6: probeSocket(6, 'raw') };
    dgramProbe = { ipv4: probeSocket(4, 'dgram'), ipv6: probeSocket(6, 'dgram') };
    const eff = capabilities.effective.length ? capabilities.effective.join(' ') : 'none';
    checks.push({
      name: 'capabilities',
      ok: true,
      detail: `effective: ${capabilities.effective.length > 8 ? `${capabilities.effective.length} capabilities (root-like)` : eff}`,
      fix: null,
    });
    checks.push({
      name: 'raw ICMP',
      ok: ra.allowed && raw.ipv4 === 'ok',
      detail: ra.allowed
        ? raw.ipv4 === 'ok' ? `allowed (CAP_NET_RAW ${ra.via})` : `CAP_NET_RAW is ${ra.via} but socket() said ${raw.ipv4}`
        : `not allowed: ${ra.reason} (socket() said ${raw.ipv4})`,
      fix: ra.allowed && raw.ipv4 !== 'ok'
        ? 'a security policy (seccomp, SELinux, AppArmor) blocks raw sockets; in Docker: docker run --cap-add=NET_RAW'
        : ra.fix,
    });
  } else {
    checks.push({ name: 'raw ICMP', ok: false, detail: 'unknown: the addon is not loaded', fix: `fix the addon first; then ${nodeBinaryFix()}` });
  }
  const rangeText = dg.range ? `${dg.range[0]} ${dg.range[1]}` : 'unreadable';
  checks.push({
    name: 'ping sockets',
    ok: dg.allowed && dgramProbe.ipv4 === 'ok',
    detail: dg.allowed
      ? dgramProbe.ipv4 === 'ok'
        ? `allowed: group ${dg.matchingGroup} is inside net.ipv4.ping_group_range (${rangeText})`
        : `group ${dg.matchingGroup} is inside ping_group_range (${rangeText}) but socket() said ${dgramProbe.ipv4}`
      : `not allowed: groups ${groups.join(',')} are outside net.ipv4.ping_group_range (${rangeText})`,
    fix: dg.allowed ? (dgramProbe.ipv4 === 'ok' ? null : 'a security policy blocks ICMP datagram sockets') : dg.fix,
  });
  const auto: IcmpMode | null = raw.allowed && raw.ipv4 === 'ok' ? 'raw' : dg.allowed && dgramProbe.ipv4 === 'ok' ? 'dgram' : null;
  checks.push({
    name: 'ping',
    ok: auto !== null,
    detail: auto ? `netdiag ping uses ${auto} sockets` : 'netdiag ping cannot send ICMP',
    fix: auto ? null : `either ${raw.allowed ? 'lift the policy blocking raw sockets' : nodeBinaryFix()}, or ${dg.fix ?? 'lift the policy blocking ping sockets'}`,
  });

  const ipv6 = ipv6Status();
  checks.push({
    name: 'IPv6',
    ok: ipv6.available,
    detail: ipv6.detail,
    fix: ipv6.available ? null
      : ipv6.detail.startsWith('::1') ? 'ip link set lo up (IPv6 targets fail until then)'
      : 'sysctl -w net.ipv6.conf.all.disable_ipv6=0 (IPv6 targets fail until then)',
  });

  let netReadable = false;
  try {
    readFileSync('/proc/net/tcp', 'utf8');
    netReadable = true;
  } catch {
    netReadable = false;
  }
  checks.push({ name: '/proc/net', ok: netReadable, detail: netReadable ? 'readable' : 'not readable', fix: netReadable ? null : 'mount /proc (netdiag sockets reads /proc/net)' });
  const fds = otherProcessFds();
  checks.push({
    name: 'other processes',
    ok: fds !== 'unreadable',
    detail: fds === 'readable' ? "other users' /proc/PID/fd are readable (sockets -p sees every owner)"
      : fds === 'unreadable' ? "other users' /proc/PID/fd are not readable (sockets -p lists them as unreadable)"
      : 'no process of another user to check',
    fix: fds === 'unreadable' ? 'run netdiag sockets -p as root (sudo) to see every owner' : null,
  });

  return {
    schema: 'netdiag.doctor/1',
    ok: auto !== null,
    addon,
    node: { version: process.version, execPath: process.execPath },
    kernel: { release: release(), machine: machine() },
    user,
    capabilities,
    pingGroupRange: { range: dg.range, groups: dg.groups, allowed: dg.allowed, matchingGroup: dg.matchingGroup },
    icmp: { raw, dgram: { allowed: dg.allowed, ...dgramProbe }, auto },
    ipv6,
    proc: { netReadable, otherProcessFds: fds },
    checks,
  };
}
