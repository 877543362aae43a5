// Checks library options at the boundary (TypeError/RangeError naming the option) and turns
// them into the engine's configuration and the sockets' options.

import { isIP } from 'node:net';
import { optionRangeError, optionTypeError } from '../errors.js';
import { checkBoolean, checkNumber, checkObject, checkOneOf, checkSignal, checkString } from '../validate.js';
import type { EngineConfig } from './engine.js';
import { parsePattern } from './payload.js';
import type { IcmpSocketKind, PingOptions, PmtuDiscovery, TcpMethodRequest } from './types.js';

export const DEFAULTS = {
  count: 1,
  interval: 1000,
  timeout: 1000,
  preload: 1,
  size: 56,
  port: 80,
} as const;

/** Largest echo payload: 65535 minus the IPv4 and ICMP headers (iputils' limit). */
export const MAX_PAYLOAD = 65507;
const MAX_MS = 2 ** 31 - 1;

export interface NormalizedOptions {
  engine: EngineConfig;
  socket: IcmpSocketKind | 'auto';
  method: 'icmp' | 'tcp';
  /** TCP: the destination port */
  port: number | null;
  tcpMethod: TcpMethodRequest;
  family: 4 | 6 | null;
  ttl?: number;
  tos?: number;
  mark?: number;
  /** -I: an address to bind, or an interface */
  sourceAddress?: string;
  device?: string;
  pmtu?: PmtuDiscovery;
  onUnresolved?: (error: Error) => void;
  signal?: AbortSignal;
}

export function normalizeOptions(raw: unknown, prefix = 'options'): NormalizedOptions {
  const o = checkObject(prefix, raw) as PingOptions & Record<string, unknown>;
  const name = (k: string) => `${prefix}.${k}`;
  const engine = engineConfigOf(o, prefix);
  if (engine.count === Infinity && engine.deadline === null && o.signal === undefined) {
    throw optionRangeError(name('count'), 'finite unless a deadline or a signal ends the run', engine.count);
  }
  const tcp = methodOf(o, prefix) === 'tcp';
  const out: NormalizedOptions = {
    engine,
    socket: checkOneOf(name('socket'), o.socket, ['auto', 'raw', 'dgram'] as const, 'auto'),
    method: tcp ? 'tcp' : 'icmp',
    port: null,
    tcpMethod: checkOneOf(name('tcpMethod'), o.tcpMethod, ['auto', 'syn', 'connect'] as const, 'auto'),
    family: null,
    signal: checkSignal(name('signal'), o.signal),
  };
  if (tcp) {
    out.port = o.port === undefined ? DEFAULTS.port : checkNumber(name('port'), o.port, 1, 65535, { integer: true });
    if (out.socket !== 'auto') {
      throw optionRangeError(name('socket'), `"auto" with method "tcp" (options.${'tcpMethod'} chooses "syn" or "connect")`, o.socket);
    }
  } else {
    if (o.port !== undefined) throw optionRangeError(name('port'), 'left out unless method is "tcp" (e.g. { method: "tcp", port: 443 })', o.port);
    if (o.tcpMethod !== undefined) throw optionRangeError(name('tcpMethod'), 'left out unless method is "tcp"', o.tcpMethod);
  }
  if (o.family !== undefined) {
    if (o.family !== 4 && o.family !== 6) throw optionRangeError(name('family'), '4 or 6', o.family);
    out.family = o.family;
  }
  if (o.ttl !== undefined) out.ttl = checkNumber(name('ttl'), o.ttl, 1, 255, { integer: true });
  if (o.tos !== undefined) out.tos = checkNumber(name('tos'), o.tos, 0, 255, { integer: true });
  if (o.mark !== undefined) out.mark = checkNumber(name('mark'), o.mark, 0, 0xffffffff, { integer: true });
  if (o.pmtu !== undefined) out.pmtu = checkOneOf(name('pmtu'), o.pmtu, ['do', 'dont', 'want'] as const, 'want');
  if (o.source !== undefined) {
    const s = checkString(name('source'), o.source, { nonEmpty: true });
    if (isIP(s)) out.sourceAddress = s;
    else if (/^[^\s/]{1,15}$/.test(s)) out.device = s;
    else throw optionRangeError(name('source'), 'an IP address or an interface name', s);
  }
  if (o.onUnresolved !== undefined) {
    if (typeof o.onUnresolved !== 'function') throw optionTypeError(name('onUnresolved'), 'a function', o.onUnresolved);
    out.onUnresolved = o.onUnresolved;
  }
  return out;
}

/** 'icmp' or 'tcp' (checked). */
function methodOf(o: PingOptions & Record<string, unknown>, prefix: string): 'icmp' | 'tcp' {
  return checkOneOf(`${prefix}.method`, o.method, ['icmp', 'tcp'] as const, 'icmp');
}

/** The run parameters the options mean (checked, defaults filled in): what the engine runs by. */
export function engineConfigOf(raw: unknown, prefix = 'options'): EngineConfig {
  const o = checkObject(prefix, raw) as PingOptions & Record<string, unknown>;
  const name = (k: string) => `${prefix}.${k}`;
  if (methodOf(o, prefix) === 'tcp') {
    // a SYN carries no data (the answer's acknowledgment would depend on it)
    if (o.size !== undefined) throw optionRangeError(name('size'), 'left out with method "tcp" (TCP probes carry no payload)', o.size);
    if (o.pattern !== undefined) throw optionRangeError(name('pattern'), 'left out with method "tcp" (TCP probes carry no payload)', o.pattern);
  }
  const count = o.count === undefined ? DEFAULTS.count : o.count === Infinity ? Infinity : checkNumber(name('count'), o.count, 1, Number.MAX_SAFE_INTEGER, { integer: true });
  const flood = checkBoolean(name('flood'), o.flood, false);
  const interval = o.interval === undefined ? (flood ? 0 : DEFAULTS.interval) : checkNumber(name('interval'), o.interval, 0, MAX_MS);
  const timeout = o.timeout === undefined ? DEFAULTS.timeout : checkNumber(name('timeout'), o.timeout, 0.001, MAX_MS);
  const deadline = o.deadline === undefined ? null : checkNumber(name('deadline'), o.deadline, 0.001, MAX_MS);
  const rate = o.rate === undefined ? null : checkNumber(name('rate'), o.rate, 0.001, 1e9);
  const preload = o.preload === undefined ? DEFAULTS.preload : checkNumber(name('preload'), o.preload, 1, 65536, { integer: true });
  const size = o.method === 'tcp' ? 0 : o.size === undefined ? DEFAULTS.size : checkNumber(name('size'), o.size, 0, MAX_PAYLOAD, { integer: true });
  let pattern: Uint8Array | null = null;
  if (o.pattern !== undefined) {
    if (typeof o.pattern === 'string') {
      pattern = parsePattern(o.pattern);
      if (pattern === null) throw optionRangeError(name('pattern'), 'hex digits (e.g. "ff00")', o.pattern);
    } else if (o.pattern instanceof Uint8Array) {
      if (o.pattern.length < 1 || o.pattern.length > 16) throw optionRangeError(name('pattern'), '1 to 16 bytes', `${o.pattern.length} bytes`);
      pattern = Uint8Array.from(o.pattern);
    } else {
      throw optionTypeError(name('pattern'), 'a hex string or a Uint8Array', o.pattern);
    }
  }
  return { count, interval, timeout, deadline, rate, preload, size, pattern, keepProbes: checkBoolean(name('probes'), o.probes, true) };
}
