// The netdiag.doctor/1 document (contract.md).
import type { AddonInfo } from '../native.js';
import type { IcmpMode } from '../privileges.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** what to do when ok is false (null when there is nothing to fix) */
  fix: string | null;
  /** a check that is not ok but stops nothing (an end-of-life Node): printed as a warning */
  warning?: boolean;
}

/** The outcome of really opening a socket: 'ok' or the errno code (EPERM, EACCES, ...). */
export type SocketProbe = 'ok' | string;

export interface DoctorReport {
  schema: 'netdiag.doctor/1';
  /** ICMP works in at least one mode (ping and traceroute -I can run) */
  ok: boolean;
  addon: (AddonInfo & { loaded: true; napi: number }) | { loaded: false; error: string };
  node: {
    version: string;
    execPath: string;
    /** the release line (major version), its end of life, and whether CI tests netdiag under it */
    line: number;
    endOfLife: string | null;
    /** past its end of life today: no more security fixes */
    ended: boolean;
    tested: boolean;
  };
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
