// doctor(), step 2: the checks derived from the facts, each with the exact fix for what is
// missing, and the ICMP mode `--socket auto` would pick. Pure: no system access here.
import { nodeBinaryFix, type IcmpMode } from '../privileges.js';
import type { DoctorFacts } from './facts.js';
import { TESTED_NODE_LINES } from './node-lines.js';
import type { DoctorCheck } from './types.js';

function addonCheck(f: DoctorFacts): DoctorCheck {
  const a = f.addon;
  return a.loaded
    ? { name: 'addon', ok: true, detail: `${a.source} ${a.path} (${a.arch}, built for N-API 8, node has ${a.napi})`, fix: null }
    : { name: 'addon', ok: false, detail: a.error, fix: 'reinstall netdiag (npm install netdiag) or build it: npm run build:native' };
}

function nodeCheck({ node }: DoctorFacts): DoctorCheck {
  const tested = `netdiag is tested on Node ${TESTED_NODE_LINES.join(', ')}`;
  const eol = node.endOfLife === null ? 'end of life unknown to this netdiag' : `end of life ${node.endOfLife}`;
  return node.ended
    ? {
        name: 'node', ok: false, warning: true,
        detail: `${node.version}: the ${node.line}.x line reached its end of life on ${node.endOfLife} (no more security fixes)`,
        fix: `upgrade to Node 24 or 26, the lines with years of fixes ahead (${tested})`,
      }
    : { name: 'node', ok: true, detail: `${node.version} (${eol}; ${node.tested ? tested : `${tested}, not ${node.line}`})`, fix: null };
}

function capabilityChecks(f: DoctorFacts): DoctorCheck[] {
  const caps = f.capabilities;
  const ra = f.rawAccess;
  if (caps === null || ra === null) {
    return [{ name: 'raw ICMP', ok: false, detail: 'unknown: the addon is not loaded', fix: `fix the addon first; then ${nodeBinaryFix()}` }];
  }
  const raw = f.raw;
  const eff = caps.effective.length ? caps.effective.join(' ') : 'none';
  return [
    {
      name: 'capabilities',
      ok: true,
      detail: `effective: ${caps.effective.length > 8 ? `${caps.effective.length} capabilities (root-like)` : eff}`,
      fix: null,
    },
    {
      name: 'raw ICMP',
      ok: ra.allowed && raw.ipv4 === 'ok',
      detail: ra.allowed
        ? raw.ipv4 === 'ok' ? `allowed (CAP_NET_RAW ${ra.via})` : `CAP_NET_RAW is ${ra.via} but socket() said ${raw.ipv4}`
        : `not allowed: ${ra.reason} (socket() said ${raw.ipv4})`,
      fix: ra.allowed && raw.ipv4 !== 'ok'
        ? 'a security policy (seccomp, SELinux, AppArmor) blocks raw sockets; in Docker: docker run --cap-add=NET_RAW'
        : ra.fix,
    },
  ];
}

function pingSocketsCheck(f: DoctorFacts): DoctorCheck {
  const dg = f.dgramAccess;
  const probe = f.dgram.ipv4;
  const rangeText = dg.range ? `${dg.range[0]} ${dg.range[1]}` : 'unreadable';
  return {
    name: 'ping sockets',
    ok: dg.allowed && probe === 'ok',
    detail: dg.allowed
      ? probe === 'ok'
        ? `allowed: group ${dg.matchingGroup} is inside net.ipv4.ping_group_range (${rangeText})`
        : `group ${dg.matchingGroup} is inside ping_group_range (${rangeText}) but socket() said ${probe}`
      : `not allowed: groups ${f.user.groups.join(',')} are outside net.ipv4.ping_group_range (${rangeText})`,
    fix: dg.allowed ? (probe === 'ok' ? null : 'a security policy blocks ICMP datagram sockets') : dg.fix,
  };
}

/** What `--socket auto` would use: raw sockets when they open, else ping sockets, else none. */
export function autoMode(f: DoctorFacts): IcmpMode | null {
  if (f.rawAccess?.allowed && f.raw.ipv4 === 'ok') return 'raw';
  return f.dgramAccess.allowed && f.dgram.ipv4 === 'ok' ? 'dgram' : null;
}

function pingCheck(f: DoctorFacts): DoctorCheck {
  const auto = autoMode(f);
  return {
    name: 'ping',
    ok: auto !== null,
    detail: auto ? `netdiag ping uses ${auto} sockets` : 'netdiag ping cannot send ICMP',
    fix: auto ? null : `either ${f.rawAccess?.allowed ? 'lift the policy blocking raw sockets' : nodeBinaryFix()}, or ${f.dgramAccess.fix ?? 'lift the policy blocking ping sockets'}`,
  };
}

function ipv6Check({ ipv6 }: DoctorFacts): DoctorCheck {
  return {
    name: 'IPv6',
    ok: ipv6.available,
    detail: ipv6.detail,
    fix: ipv6.available ? null
      : ipv6.detail.startsWith('::1') ? 'ip link set lo up (IPv6 targets fail until then)'
      : 'sysctl -w net.ipv6.conf.all.disable_ipv6=0 (IPv6 targets fail until then)',
  };
}

function procChecks({ proc }: DoctorFacts): DoctorCheck[] {
  const fds = proc.otherProcessFds;
  return [
    { name: '/proc/net', ok: proc.netReadable, detail: proc.netReadable ? 'readable' : 'not readable', fix: proc.netReadable ? null : 'mount /proc (netdiag sockets reads /proc/net)' },
    {
      name: 'other processes',
      ok: fds !== 'unreadable',
      detail: fds === 'readable' ? "other users' /proc/PID/fd are readable (sockets -p sees every owner)"
        : fds === 'unreadable' ? "other users' /proc/PID/fd are not readable (sockets -p lists them as unreadable)"
        : 'no process of another user to check',
      fix: fds === 'unreadable' ? 'run netdiag sockets -p as root (sudo) to see every owner' : null,
    },
  ];
}

/** netdiag/testing: can network namespaces be built here? Only tests need it, so a warning at most. */
function testNetworksCheck({ testNetworks: t }: DoctorFacts): DoctorCheck {
  const tun = t.tun ? 'TUN simulator available' : 'no TUN simulator: /dev/net/tun is not usable (docker run --device /dev/net/tun)';
  return t.ok
    ? { name: 'test networks', ok: true, detail: `netdiag/testing can build namespaces, veth links and nftables rules here; ${tun}`, fix: null }
    : { name: 'test networks', ok: false, warning: true, detail: `netdiag/testing cannot build them here: ${t.reason}`, fix: t.fix };
}

/** The checks in the order they are printed. */
export function deriveChecks(f: DoctorFacts): DoctorCheck[] {
  return [nodeCheck(f), addonCheck(f), ...capabilityChecks(f), pingSocketsCheck(f), pingCheck(f), ipv6Check(f), ...procChecks(f), testNetworksCheck(f)];
}
