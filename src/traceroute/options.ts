// Checks and completes the options of the library calls at the boundary: every mistake is a
// TypeError/RangeError naming the option. Defaults follow Linux traceroute (30 hops, 3 queries,
// 16 in flight, -w 5,3,10) and, for reports, short cycles without mtr's long grace period.
import { isIP } from 'node:net';
import { optionRangeError, optionTypeError } from '../errors.js';
import { checkBoolean, checkNumber, checkObject, checkOneOf, checkOptionalNumber, checkSignal, checkString } from '../validate.js';
import type { TracerouteBackend } from './backend.js';
import type { TracerouteFlow, TracerouteMethod, TracerouteOptions, TracerouteReportOptions, TracerouteSocketRequest, WaitSpec } from './types.js';
import { DEFAULT_WAIT } from './wait-policy.js';

export const METHODS: readonly TracerouteMethod[] = ['icmp', 'udp', 'tcp', 'tcp-connect'];
export const DEFAULT_UDP_PORT = 33434;
export const DEFAULT_TCP_PORT = 80;
/** traceroute's largest packet, the first size --mtu tries */
export const MAX_PACKET_LENGTH = 65000;
export const DEFAULT_REPORT_CYCLES = 10;
export const DEFAULT_REPORT_INTERVAL_MS = 250;
/** report mode: how long one probe may stay unanswered (mtr waits 5 s after the last cycle) */
export const DEFAULT_REPORT_WAIT: WaitSpec = { maxMs: 1000, here: 3, near: 10 };

export interface ResolvedOptions {
  method: TracerouteMethod;
  socket: TracerouteSocketRequest;
  family: 4 | 6 | undefined;
  flow: TracerouteFlow;
  port: number;
  firstTtl: number;
  maxTtl: number;
  queries: number;
  window: number;
  wait: WaitSpec;
  /** null: the default for the family */
  packetLength: number | null;
  source: string | undefined;
  device: string | undefined;
  tos: number | undefined;
  discoverMtu: boolean;
  extensions: boolean;
  resolveNames: boolean;
  signal: AbortSignal | undefined;
  backend: TracerouteBackend | undefined;
}

export interface ResolvedReportOptions extends ResolvedOptions {
  cycles: number;
  intervalMs: number;
}

function checkWait(v: unknown, dflt: WaitSpec): WaitSpec {
  const o = checkObject('wait', v);
  return {
    maxMs: checkOptionalNumber('wait.maxMs', o.maxMs, 0, 3_600_000, dflt.maxMs),
    here: checkOptionalNumber('wait.here', o.here, 0, 1000, dflt.here),
    near: checkOptionalNumber('wait.near', o.near, 0, 1000, dflt.near),
  };
}

export function resolveOptions(raw: unknown, report = false): ResolvedOptions {
  const o = checkObject('options', raw) as TracerouteOptions & { backend?: unknown };
  const method = checkOneOf('method', o.method, METHODS, 'udp');
  const family = o.family === undefined ? undefined : (checkNumber('family', o.family, 4, 6, { integer: true }) as number);
  if (family !== undefined && family !== 4 && family !== 6) throw optionRangeError('family', '4 or 6', o.family);
  const discoverMtu = checkBoolean('discoverMtu', o.discoverMtu, false);
  if (discoverMtu && (method === 'tcp' || method === 'tcp-connect')) {
    throw optionRangeError('discoverMtu', 'used with method icmp or udp (TCP probes have a fixed size)', method);
  }
  const firstTtl = checkOptionalNumber('firstTtl', o.firstTtl, 1, 255, 1, { integer: true });
  const maxTtl = checkOptionalNumber('maxTtl', o.maxTtl, 1, 255, 30, { integer: true });
  if (firstTtl > maxTtl) throw optionRangeError('firstTtl', `at most maxTtl (${maxTtl})`, firstTtl);
  const source = o.source === undefined ? undefined : checkString('source', o.source, { nonEmpty: true });
  if (source !== undefined && isIP(source) === 0) throw optionRangeError('source', 'an IPv4 or IPv6 address', source);
  const device = o.device === undefined ? undefined : checkString('device', o.device, { nonEmpty: true });
  if (device !== undefined && device.length > 15) throw optionRangeError('device', 'an interface name of at most 15 characters', device);
  const backend = o.backend;
  if (backend !== undefined && (backend === null || typeof backend !== 'object')) throw optionTypeError('backend', 'a traceroute backend', backend);
  return {
    method,
    socket: checkOneOf('socket', o.socket, ['auto', 'raw', 'dgram'] as const, 'auto'),
    family: family as 4 | 6 | undefined,
    flow: checkOneOf('flow', o.flow, ['paris', 'classic'] as const, 'paris'),
    port: checkOptionalNumber('port', o.port, 1, 65535, method === 'tcp' || method === 'tcp-connect' ? DEFAULT_TCP_PORT : DEFAULT_UDP_PORT, { integer: true }),
    firstTtl,
    maxTtl,
    queries: report ? 1 : checkOptionalNumber('queries', o.queries, 1, 10, 3, { integer: true }),
    // --mtu sends one probe at a time, so each size is learned before the next probe (traceroute)
    window: discoverMtu ? 1 : checkOptionalNumber('window', o.window, 1, 512, 16, { integer: true }),
    wait: checkWait(o.wait, report ? DEFAULT_REPORT_WAIT : DEFAULT_WAIT),
    packetLength: o.packetLength === undefined ? (discoverMtu ? MAX_PACKET_LENGTH : null) : checkNumber('packetLength', o.packetLength, 0, MAX_PACKET_LENGTH, { integer: true }),
    source,
    device,
    tos: o.tos === undefined ? undefined : checkNumber('tos', o.tos, 0, 255, { integer: true }),
    discoverMtu,
    extensions: checkBoolean('extensions', o.extensions, false),
    resolveNames: checkBoolean('resolveNames', o.resolveNames, false),
    signal: checkSignal('signal', o.signal),
    backend: backend as TracerouteBackend | undefined,
  };
}

export function resolveReportOptions(raw: unknown): ResolvedReportOptions {
  const base = resolveOptions(raw, true);
  const o = checkObject('options', raw) as TracerouteReportOptions;
  if (base.discoverMtu) throw optionRangeError('discoverMtu', 'false in report mode (path MTU discovery is a trace)', true);
  const cycles = o.cycles === undefined ? DEFAULT_REPORT_CYCLES : o.cycles === Infinity ? Infinity : checkNumber('cycles', o.cycles, 1, 1e9, { integer: true });
  return { ...base, cycles, intervalMs: checkOptionalNumber('intervalMs', o.intervalMs, 0, 3_600_000, DEFAULT_REPORT_INTERVAL_MS) };
}

/** traceroute's default packet: IP header + 40 bytes (60 for IPv4, 80 for IPv6). */
export function defaultPacketLength(family: 4 | 6): number {
  return family === 4 ? 60 : 80;
}
