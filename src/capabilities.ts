// Capability masks (hex strings from the addon) turned into names and checks.
import { native, type CapabilityDrop, type CapabilityMasks } from './native.js';

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;

const NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
];

export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
  bounding: bigint;
}

export function parseMasks(m: CapabilityMasks): CapabilitySets {
  return {
    effective: BigInt('0x' + m.effective),
    permitted: BigInt('0x' + m.permitted),
    inheritable: BigInt('0x' + m.inheritable),
    ambient: BigInt('0x' + m.ambient),
    bounding: BigInt('0x' + m.bounding),
  };
}

export function currentCapabilities(): CapabilitySets {
  return parseMasks(native().capabilities());
}

export function has(mask: bigint, cap: number): boolean {
  return (mask & (1n << BigInt(cap))) !== 0n;
}

/** 'cap_net_raw' style names of the bits set in mask. */
export function capabilityNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if (has(mask, i)) out.push(`cap_${NAMES[i] ?? String(i)}`);
  return out;
}

/**
 * Drops every capability of every thread of the process (capabilities are per thread, and
 * getaddrinfo runs on libuv's pool); called by the CLI once its sockets are open, before it
 * resolves names or parses replies. Only threads that can take the signal are asked, and
 * only they are waited for: Node's signal-watcher thread blocks every signal, keeps its set
 * (it only waits for SIGUSR1 and runs none of our code) and is listed in `skipped`.
 */
export function dropAllCapabilities(): CapabilityDrop {
  return native().dropCapabilities();
}
