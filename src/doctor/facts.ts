// doctor(), step 1: what this machine is and allows, read and tried for real (the addon
// loaded, capabilities, ICMP sockets opened, IPv6, /proc) — no judgement yet.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { release, machine } from 'node:os';
import { CAP_NET_ADMIN, CAP_NET_RAW, capabilityNames, currentCapabilities, has } from '../capabilities.js';
import { isSystemError } from '../errors.js';
import { addonInfo, native } from '../native.js';
import { dgramAccess, processGroups, rawAccess, type DgramAccess, type IcmpMode, type RawAccess } from '../privileges.js';
import { testNetworkSupport, type TestNetworkSupport } from '../testing/support.js';
import { nodeLineStatus } from './node-lines.js';
import type { DoctorReport, SocketProbe } from './types.js';

export interface DoctorFacts {
  addon: DoctorReport['addon'];
  node: DoctorReport['node'];
  kernel: DoctorReport['kernel'];
  user: DoctorReport['user'];
  /** null when the addon is not loaded (capabilities are read through it) */
  capabilities: DoctorReport['capabilities'];
  /** null when the addon is not loaded */
  rawAccess: RawAccess | null;
  dgramAccess: DgramAccess;
  /** socket() of each ICMP socket kind, tried */
  raw: { ipv4: SocketProbe; ipv6: SocketProbe };
  dgram: { ipv4: SocketProbe; ipv6: SocketProbe };
  ipv6: DoctorReport['ipv6'];
  proc: DoctorReport['proc'];
  /** whether netdiag/testing can build namespaces here (and has /dev/net/tun for its simulator) */
  testNetworks: TestNetworkSupport;
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

function netReadable(): boolean {
  try {
    readFileSync('/proc/net/tcp', 'utf8');
    return true;
  } catch {
    return false;
  }
}

function loadAddon(): DoctorReport['addon'] {
  try {
    return { loaded: true, ...addonInfo(), napi: Number(process.versions.napi) };
  } catch (e) {
    return { loaded: false, error: (e as Error).message };
  }
}

function readCapabilities(): NonNullable<DoctorReport['capabilities']> {
  const caps = currentCapabilities();
  return {
    effective: capabilityNames(caps.effective),
    permitted: capabilityNames(caps.permitted),
    ambient: capabilityNames(caps.ambient),
    netRaw: { effective: has(caps.effective, CAP_NET_RAW), permitted: has(caps.permitted, CAP_NET_RAW) },
    netAdmin: { effective: has(caps.effective, CAP_NET_ADMIN), permitted: has(caps.permitted, CAP_NET_ADMIN) },
  };
}

function nodeFacts(): DoctorReport['node'] {
  return { version: process.version, execPath: process.execPath, ...nodeLineStatus(process.version, new Date()) };
}

export function collectFacts(): DoctorFacts {
  const addon = loadAddon();
  const groups = processGroups();
  const unknown = { ipv4: 'addon not loaded', ipv6: 'addon not loaded' };
  const facts: DoctorFacts = {
    addon,
    node: nodeFacts(),
    kernel: { release: release(), machine: machine() },
    user: { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0, groups },
    capabilities: null,
    rawAccess: null,
    dgramAccess: dgramAccess(),
    raw: unknown,
    dgram: unknown,
    ipv6: { available: false, detail: '' },
    proc: { netReadable: false, otherProcessFds: 'none-to-check' },
    testNetworks: testNetworkSupport(),
  };
  if (addon.loaded) {
    facts.capabilities = readCapabilities();
    facts.rawAccess = rawAccess();
    // a permitted CAP_NET_RAW is what ping would raise: try the sockets as ping would open them
    if (facts.rawAccess.via === 'permitted') native().raiseCapability(CAP_NET_RAW);
    facts.raw = { ipv4: probeSocket(4, 'raw'), ipv6: probeSocket(6, 'raw') };
    facts.dgram = { ipv4: probeSocket(4, 'dgram'), ipv6: probeSocket(6, 'dgram') };
  }
  facts.ipv6 = ipv6Status();
  facts.proc = { netReadable: netReadable(), otherProcessFds: otherProcessFds() };
  return facts;
}
