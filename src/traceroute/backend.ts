// The outside world of the traceroute engine, injectable: a clock, a factory of transports
// (sockets for a method, family and destination) and name lookups. The system backend opens
// sockets on demand; the prepared backend uses sockets opened earlier, so a CLI can drop its
// capabilities between opening them and touching names or packets; tests pass fakes.
import { ReverseDnsCache } from '../runtime/reverse-dns.js';
import { lookupTarget } from '../target/name-lookup.js';
import { systemTraceClock, type TraceClock } from './clock.js';
import { sourceAddressFor } from '../socket/source-address.js';
import { scopeIdOf } from '../target/destination.js';
import type { ProbeTransport } from './transport.js';
import type { TransportConfig } from './transports/transport-config.js';
import { receiveTimestampsOn } from '../socket/receive-timestamps.js';
import { createTransport, openMethodSockets, type MethodSockets, type SocketSetup } from './transports/open.js';
import type { TracerouteFlow, TracerouteMethod, TracerouteSocketRequest } from './types.js';

export interface TransportRequest {
  method: TracerouteMethod;
  socket: TracerouteSocketRequest;
  family: 4 | 6;
  /** destination address */
  target: string;
  port: number;
  flow: TracerouteFlow;
  /** multipath discovery: the transport must carry per-probe flows (ProbeRequest.flow) */
  multipath?: boolean;
  tos?: number;
  device?: string;
  source?: string;
  pmtu: 'dont' | 'probe';
  extensions: boolean;
}

export interface TracerouteBackend {
  readonly clock: TraceClock;
  /** the transport for a destination; throws PrivilegeError when the method is not allowed */
  openTransport(request: TransportRequest): ProbeTransport;
  /** the address of a target name (family: the one asked for, else the resolver's first) */
  resolveTarget(target: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }>;
  /** reverse DNS, cached; null disables names */
  readonly names: ReverseDnsCache | null;
  /** resolves once the kernel stamps arriving packets (the real backends check on loopback) */
  timestampsReady(): Promise<void>;
}

function transportConfig(request: TransportRequest, clock: TraceClock): TransportConfig {
  return {
    family: request.family, target: request.target, scopeId: scopeIdOf(request.target),
    source: sourceAddressFor(request.family, request.target, { device: request.device, source: request.source }),
    port: request.port, flow: request.flow, multipath: request.multipath, tos: request.tos, device: request.device, pmtu: request.pmtu,
    extensions: request.extensions, clock,
  };
}

function setupOf(request: TransportRequest): SocketSetup {
  return {
    method: request.method, socket: request.socket, tos: request.tos, device: request.device, source: request.source, pmtu: request.pmtu,
    flowLabelsFor: request.multipath && request.family === 6 ? request.target : undefined,
  };
}

/** A backend on the system's clock, resolver and sockets; the real backends differ in where the sockets come from. */
function realBackend(opts: { names?: boolean }, openTransport: (request: TransportRequest, clock: TraceClock) => ProbeTransport): TracerouteBackend {
  const clock = systemTraceClock();
  return {
    clock,
    names: opts.names ? new ReverseDnsCache() : null,
    resolveTarget: lookupTarget,
    timestampsReady: receiveTimestampsOn,
    openTransport: (request) => openTransport(request, clock),
  };
}

/** Opens sockets when a trace starts. */
export function systemBackend(opts: { names?: boolean } = {}): TracerouteBackend {
  return realBackend(opts, (request, clock) => {
    const sockets = openMethodSockets(request.family, setupOf(request));
    try {
      return createTransport(sockets, transportConfig(request, clock));
    } catch (e) {
      sockets.close();
      throw e;
    }
  });
}

/**
 * Opens the sockets of `setup` for each family now; the backend hands them to the trace later.
 * Families whose sockets cannot be opened (IPv6 disabled, ...) are left out unless none opens.
 */
export function preparedBackend(families: readonly (4 | 6)[], setup: SocketSetup, opts: { names?: boolean } = {}): TracerouteBackend & { close(): void } {
  const opened = new Map<4 | 6, MethodSockets>();
  let firstError: unknown = null;
  for (const f of families) {
    try {
      opened.set(f, openMethodSockets(f, setup));
    } catch (e) {
      firstError ??= e;
    }
  }
  if (opened.size === 0) throw firstError;
  return {
    ...realBackend(opts, (request, clock) => {
      const sockets = opened.get(request.family);
      if (!sockets) throw (firstError as Error) ?? new Error(`no IPv${request.family} sockets were opened`);
      opened.delete(request.family);
      return createTransport(sockets, transportConfig(request, clock));
    }),
    close() {
      for (const s of opened.values()) s.close();
      opened.clear();
    },
  };
}
