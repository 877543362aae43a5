// Turns the filter options of listSockets() into a form the parsers test on raw numbers
// (state bits, port ranges, address words) before they build any object, so a narrow query
// skips most of the work. Bad options throw TypeError/RangeError naming the option.
import { optionRangeError, optionTypeError } from '../errors.js';
import { type AddressPrefix, parseAddressPrefix, prefixMatchesV4, prefixMatchesV6 } from './inet-address.js';
import { ALL_STATES, stateSelectorMask, stateSelectorNames } from './states.js';
import type { ListSocketsOptions, SocketFamily, SocketProtocol } from './types.js';

export interface PortRange {
  from: number;
  to: number;
}

/** One /proc/net file and what its lines are. */
export interface ProcTable {
  file: string;
  protocol: SocketProtocol;
  family: SocketFamily;
}

/**
 * In the order ss prints them: netlink, packet, unix, raw, udp, tcp. Netlink and packet
 * sockets come from sock_diag only (their /proc files are not parsed).
 */
export const PROC_TABLES: readonly ProcTable[] = [
  { file: 'netlink', protocol: 'netlink', family: 'netlink' },
  { file: 'packet', protocol: 'packet', family: 'packet' },
  { file: 'unix', protocol: 'unix', family: 'unix' },
  { file: 'raw', protocol: 'raw', family: 'inet' },
  { file: 'raw6', protocol: 'raw', family: 'inet6' },
  { file: 'udp', protocol: 'udp', family: 'inet' },
  { file: 'udp6', protocol: 'udp', family: 'inet6' },
  { file: 'udplite', protocol: 'udplite', family: 'inet' },
  { file: 'udplite6', protocol: 'udplite', family: 'inet6' },
  { file: 'tcp', protocol: 'tcp', family: 'inet' },
  { file: 'tcp6', protocol: 'tcp', family: 'inet6' },
];

const PROTOCOLS: readonly SocketProtocol[] = ['tcp', 'udp', 'udplite', 'raw', 'unix', 'packet', 'netlink'];
const DEFAULT_PROTOCOLS: readonly SocketProtocol[] = ['tcp', 'udp', 'udplite', 'raw', 'unix'];
const FAMILIES: readonly SocketFamily[] = ['inet', 'inet6', 'unix', 'packet', 'netlink'];

/** Tables that only sock_diag can list. */
export const isNetlinkOnly = (t: ProcTable): boolean => t.family === 'packet' || t.family === 'netlink';

export interface SocketFilter {
  tables: ProcTable[];
  /** bit (1 << kernel state code) set for each state to keep */
  stateMask: number;
  localPorts: PortRange[] | null;
  remotePorts: PortRange[] | null;
  localPrefixes: AddressPrefix[] | null;
  remotePrefixes: AddressPrefix[] | null;
  /** owner filters: only sockets of these processes */
  pids: Set<number> | null;
  commands: Set<string> | null;
  /** filled once the owners of `pids`/`commands` are known: only these inodes pass */
  inodes: Set<number> | null;
}

export function compileFilter(options: ListSocketsOptions): SocketFilter {
  const protocols = enumList('protocols', options.protocols, PROTOCOLS, DEFAULT_PROTOCOLS);
  const families = enumList('families', options.families, FAMILIES);
  const localPorts = portList('localPort', options.localPort);
  const remotePorts = portList('remotePort', options.remotePort);
  const localPrefixes = prefixList('localAddress', options.localAddress);
  const remotePrefixes = prefixList('remoteAddress', options.remoteAddress);
  const inetOnly = localPorts !== null || remotePorts !== null || localPrefixes !== null || remotePrefixes !== null;

  let stateMask = options.states === undefined ? ALL_STATES : stateMaskOf('states', options.states);
  if (options.excludeStates !== undefined) stateMask &= ~stateMaskOf('excludeStates', options.excludeStates);

  const tables = PROC_TABLES.filter(
    (t) => protocols.has(t.protocol) && families.has(t.family) && !(inetOnly && (t.family === 'unix' || isNetlinkOnly(t))) && !familyExcludedByPrefix(t.family, localPrefixes, remotePrefixes),
  );
  return {
    tables,
    stateMask,
    localPorts,
    remotePorts,
    localPrefixes,
    remotePrefixes,
    pids: pidList(options.pids),
    commands: commandList(options.commands),
    inodes: null,
  };
}

/** IPv6 prefixes never match IPv4 sockets: skip the IPv4 tables altogether. */
function familyExcludedByPrefix(family: SocketFamily, local: AddressPrefix[] | null, remote: AddressPrefix[] | null): boolean {
  if (family !== 'inet') return false;
  return [local, remote].some((list) => list !== null && list.every((p) => p.family === 6));
}

function enumList<T extends string>(option: string, v: unknown, allowed: readonly T[], dflt: readonly T[] = allowed): Set<T> {
  if (v === undefined) return new Set(dflt);
  if (!Array.isArray(v)) throw optionTypeError(option, `an array of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  for (const x of v) {
    if (!(allowed as readonly unknown[]).includes(x)) throw optionRangeError(option, `an array of ${allowed.map((a) => `'${a}'`).join(', ')}`, x);
  }
  return new Set(v as T[]);
}

function stateMaskOf(option: string, v: unknown): number {
  if (!Array.isArray(v)) throw optionTypeError(option, 'an array of state names', v);
  let mask = 0;
  for (const s of v) {
    if (typeof s !== 'string') throw optionTypeError(option, 'an array of state names', s);
    const m = stateSelectorMask(s);
    if (m === undefined) throw optionRangeError(option, `state names such as ${stateSelectorNames().slice(0, 12).join(', ')}`, s);
    mask |= m;
  }
  return mask;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function checkPort(option: string, p: unknown): number {
  if (typeof p !== 'number' || Number.isNaN(p)) throw optionTypeError(option, 'a port number or {from, to}', p);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw optionRangeError(option, 'an integer from 0 to 65535', p);
  return p;
}

function portList(option: string, v: unknown): PortRange[] | null {
  if (v === undefined) return null;
  const out: PortRange[] = [];
  for (const p of asList(v)) {
    if (typeof p === 'object' && p !== null && !Array.isArray(p)) {
      const r = p as { from?: unknown; to?: unknown };
      const from = checkPort(`${option}.from`, r.from);
      const to = checkPort(`${option}.to`, r.to);
      if (from > to) throw optionRangeError(option, 'a range with from <= to', `${from}-${to}`);
      out.push({ from, to });
    } else {
      const n = checkPort(option, p);
      out.push({ from: n, to: n });
    }
  }
  if (out.length === 0) throw optionRangeError(option, 'a port, a range or a non-empty array of them', 'an empty array');
  return out;
}

function prefixList(option: string, v: unknown): AddressPrefix[] | null {
  if (v === undefined) return null;
  const out: AddressPrefix[] = [];
  for (const a of asList(v)) {
    if (typeof a !== 'string') throw optionTypeError(option, 'an IP address or CIDR string', a);
    const p = parseAddressPrefix(a);
    if (!p) throw optionRangeError(option, "an IP address or CIDR such as '127.0.0.1', '10.0.0.0/8' or '::1'", a);
    out.push(p);
  }
  if (out.length === 0) throw optionRangeError(option, 'an address, a CIDR or a non-empty array of them', 'an empty array');
  return out;
}

function pidList(v: unknown): Set<number> | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) throw optionTypeError('pids', 'an array of process ids', v);
  for (const p of v) {
    if (typeof p !== 'number' || Number.isNaN(p)) throw optionTypeError('pids', 'an array of process ids', p);
    if (!Number.isInteger(p) || p < 1 || p > 4194304) throw optionRangeError('pids', 'process ids from 1 to 4194304', p);
  }
  return new Set(v as number[]);
}

function commandList(v: unknown): Set<string> | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) throw optionTypeError('commands', 'an array of command names', v);
  for (const c of v) {
    if (typeof c !== 'string') throw optionTypeError('commands', 'an array of command names', c);
    if (c.length === 0) throw optionRangeError('commands', 'non-empty command names', c);
  }
  return new Set(v as string[]);
}

export function portMatches(ranges: PortRange[], port: number): boolean {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (port >= r.from && port <= r.to) return true;
  }
  return false;
}

export function anyPrefixMatchesV4(prefixes: AddressPrefix[], a: number): boolean {
  for (let i = 0; i < prefixes.length; i++) if (prefixMatchesV4(prefixes[i]!, a)) return true;
  return false;
}

export function anyPrefixMatchesV6(prefixes: AddressPrefix[], w0: number, w1: number, w2: number, w3: number): boolean {
  for (let i = 0; i < prefixes.length; i++) if (prefixMatchesV6(prefixes[i]!, w0, w1, w2, w3)) return true;
  return false;
}

/** Does a process's comm match a --command? comm keeps only the first 15 bytes of the name. */
export function commandMatches(commands: Set<string>, comm: string): boolean {
  if (commands.has(comm)) return true;
  if (comm.length === 15) {
    for (const c of commands) if (c.length > 15 && c.startsWith(comm)) return true;
  }
  return false;
}
