// Port -> service name from /etc/services, read once per file and process, and the
// ephemeral port range that ss leaves unnamed ("so much of useless crap would be
// allocated to this area", misc/ss.c is_ephemeral).
import { readFileSync } from 'node:fs';
import type { SocketProtocol } from './types.js';

export interface ServiceNames {
  tcp: ReadonlyMap<number, string>;
  udp: ReadonlyMap<number, string>;
}

const cache = new Map<string, ServiceNames>();

/** Parses services(5) text; the first entry of a port/protocol wins, as with getservbyport. */
export function parseServices(text: string): ServiceNames {
  const tcp = new Map<number, string>();
  const udp = new Map<number, string>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    const m = /^\s*(\S+)\s+(\d+)\/(tcp|udp)\b/.exec(line);
    if (!m) continue;
    const port = Number(m[2]);
    if (port < 1 || port > 65535) continue;
    const map = m[3] === 'tcp' ? tcp : udp;
    if (!map.has(port)) map.set(port, m[1]!);
  }
  return { tcp, udp };
}

/** The service names of `file` (none when it cannot be read); a small file, read in place. */
export function loadServices(file: string): ServiceNames {
  let names = cache.get(file);
  if (!names) {
    try {
      names = parseServices(readFileSync(file, 'utf8'));
    } catch {
      names = { tcp: new Map<number, string>(), udp: new Map<number, string>() };
    }
    cache.set(file, names);
  }
  return names;
}

export interface EphemeralRange {
  from: number;
  to: number;
}

/** /proc/sys/net/ipv4/ip_local_port_range; ss falls back to 1024-4999 when it is unreadable. */
export function loadEphemeralRange(procRoot: string): EphemeralRange {
  try {
    const m = /^\s*(\d+)\s+(\d+)/.exec(readFileSync(`${procRoot}/sys/net/ipv4/ip_local_port_range`, 'utf8'));
    if (m) return { from: Number(m[1]), to: Number(m[2]) };
  } catch {
    // fall through to ss's default
  }
  return { from: 1024, to: 4999 };
}

/** Service name by port for one protocol: 65536 entries, null where ss prints a number. */
export type PortNameTable = readonly (string | null)[];

const NO_NAMES: PortNameTable = new Array<string | null>(65536).fill(null);

/** Port name tables per protocol; raw "ports" are protocol numbers and unix has none. */
export interface PortNames {
  of(protocol: SocketProtocol): PortNameTable;
}

export function portNames(services: ServiceNames, ephemeral: EphemeralRange): PortNames {
  const build = (names: ReadonlyMap<number, string>): PortNameTable => {
    const table = new Array<string | null>(65536).fill(null);
    for (const [port, name] of names) if (port < ephemeral.from || port > ephemeral.to) table[port] = name;
    return table;
  };
  const tcp = build(services.tcp);
  // UDP-Lite shares UDP's port numbers
  const udp = build(services.udp);
  return { of: (protocol) => (protocol === 'tcp' ? tcp : protocol === 'udp' || protocol === 'udplite' ? udp : NO_NAMES) };
}
