// The library entry points: ping one host, ping many, stream the probes, check reachability.

import { optionRangeError, optionTypeError } from '../errors.js';
import { hostProblem, MAX_TARGETS } from '../target/index.js';
import { checkNumber, checkObject, checkSignal } from '../validate.js';
import type { PingBackend } from './backend.js';
import { systemPingBackend } from './system-backend.js';
import { normalizeOptions } from './options.js';
import { ResolveError } from './resolve.js';
import { PingRun } from './run.js';
import type { PingDocument, PingOptions, PingTargetResult } from './types.js';

function checkHost(option: string, v: unknown): string {
  if (typeof v !== 'string') throw optionTypeError(option, 'a host name or address', v);
  const problem = hostProblem(v);
  if (problem !== null) throw optionRangeError(option, `a host name or address (this one ${problem.problem}: ${problem.fix})`, v);
  return v;
}

function checkHosts(option: string, v: unknown): string[] {
  if (typeof v === 'string') return [checkHost(option, v)];
  if (!Array.isArray(v)) throw optionTypeError(option, 'an array of host names or addresses', v);
  if (v.length === 0) throw optionRangeError(option, 'at least one host', 'an empty array');
  if (v.length > MAX_TARGETS) throw optionRangeError(option, `at most ${MAX_TARGETS} hosts`, `${v.length} hosts`);
  // an index loop, not map(): a hole (new Array(3)) is checked like undefined, not skipped
  const out = new Array<string>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = checkHost(`${option}[${i}]`, v[i]);
  return out;
}

/** Options of the streaming form: a backend too (preparedPingBackend opens the sockets beforehand; tests pass fakes). */
export type PingStreamOptions = PingOptions & { backend?: PingBackend };

/** Starts pinging and returns the run at once: events as they happen, `result` at the end. */
export function pingStream(targets: string | readonly string[], options?: PingStreamOptions): PingRun {
  const hosts = checkHosts('targets', targets);
  if (options?.backend === undefined) return startRun(hosts, options, systemPingBackend());
  const { backend, ...rest } = options;
  return startRun(hosts, rest, backend);
}

/** Pings one host; resolves with its netdiag.ping/1 target result. */
export async function ping(target: string, options?: PingOptions): Promise<PingTargetResult> {
  const doc = await startRun([checkHost('target', target)], options, systemPingBackend()).result;
  return doc.targets[0]!;
}

/** Pings many hosts over one socket per family; resolves with the netdiag.ping/1 document. */
export async function pingMany(targets: readonly string[], options?: PingOptions): Promise<PingDocument> {
  return startRun(checkHosts('targets', targets), options, systemPingBackend()).result;
}

export interface ReachableOptions {
  /** ms to wait for one reply (default 1000); probes go every third of it */
  timeout?: number;
  signal?: AbortSignal;
  socket?: PingOptions['socket'];
  /** a TCP port: true only when it accepts a connection (open); 'host:port' says the same */
  port?: number;
  /** TCP: 'syn', 'connect' or 'auto' (default) */
  tcpMethod?: PingOptions['tcpMethod'];
}

/** 'host:port' and '[v6]:port' as host and port; anything else (an IPv6 address, a name) is a host. */
export function splitHostPort(text: string): { host: string; port: number | null } {
  const bracketed = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const colon = text.indexOf(':');
  if (colon > 0 && colon === text.lastIndexOf(':') && /^[0-9]{1,5}$/.test(text.slice(colon + 1))) {
    return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
  }
  return { host: text, port: null };
}

/**
 * True when host answers within timeout (several probes, the first answer wins): an echo reply,
 * or with a port ('db.internal:5432', '[::1]:5432', or options.port) a TCP handshake that
 * completes (SYN-ACK); a closed port (RST) is not a reachable service.
 */
export async function isReachable(host: string, options?: ReachableOptions): Promise<boolean> {
  const o = checkObject('options', options) as ReachableOptions;
  const timeout = o.timeout === undefined ? 1000 : checkNumber('options.timeout', o.timeout, 1, 2 ** 31 - 1);
  const signal = checkSignal('options.signal', o.signal);
  if (typeof host !== 'string') throw optionTypeError('host', 'a host name or address, or host:port', host);
  const split = splitHostPort(host);
  if (split.port !== null && o.port !== undefined && split.port !== o.port) {
    throw optionRangeError('options.port', `the port in host (${split.port}) or left out`, o.port);
  }
  const port = split.port ?? (o.port === undefined ? null : checkNumber('options.port', o.port, 1, 65535, { integer: true }));
  if (port !== null && (port < 1 || port > 65535)) throw optionRangeError('host', 'a port from 1 to 65535 after the colon', host);
  const opts: PingOptions = { count: 1, deadline: timeout, timeout, interval: Math.max(1, timeout / 3), probes: false, signal, socket: o.socket };
  if (port !== null) Object.assign(opts, { method: 'tcp', port, tcpMethod: o.tcpMethod });
  else if (o.tcpMethod !== undefined) throw optionRangeError('options.tcpMethod', 'left out unless a port is given', o.tcpMethod);
  try {
    const doc = await startRun([checkHost('host', split.host)], opts, systemPingBackend()).result;
    const t = doc.targets[0]!;
    // a closed port answered (the host is up), but no service is there
    return t.received - (t.closed ?? 0) > 0;
  } catch (e) {
    // a name that does not resolve is not reachable; a missing privilege is an error
    if (e instanceof ResolveError) return false;
    throw e;
  }
}

/** Validates options synchronously (so bad ones throw at the call) and starts the run. */
export function startRun(hosts: string[], options: PingOptions | undefined, backend: PingBackend): PingRun {
  const normalized = normalizeOptions(options);
  return new PingRun(hosts, normalized, backend);
}
