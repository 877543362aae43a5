// The real backends: IcmpSocket from src/socket, the privilege check from src/privileges, the
// shared system clock plus CLOCK_REALTIME from the addon (the clock of its send and receive
// timestamps), and getaddrinfo. systemPingBackend() opens sockets when a run starts;
// preparedPingBackend() opens them at once, so a CLI can drop its capabilities before it
// touches names or packets (src/cli/traceroute.ts does the same with traceroute's).

import { CAP_NET_RAW } from '../capabilities.js';
import { PrivilegeError } from '../errors.js';
import { native } from '../native.js';
import { chooseIcmpMode, rawAccess } from '../privileges.js';
import { systemClock } from '../runtime/clock.js';
import { lookupTarget } from '../target/name-lookup.js';
import { IcmpSocket } from '../socket/icmp-socket.js';
import { receiveTimestampsOn } from '../socket/receive-timestamps.js';
import { TcpSynSocket } from '../socket/tcp-syn-socket.js';
import type { PingBackend, PingClock, PingSocket, PingSocketOptions, TimerHandle } from './backend.js';
import { normalizeOptions } from './options.js';
import { literalFamily } from './resolve.js';
import { MissingSocketError, poolOptionsOf, SocketPool } from './socket-pool.js';
import { TcpConnectSocket } from './tcp-connect-socket.js';
import type { IcmpSocketKind, PingOptions, TcpMethodRequest } from './types.js';

const realtimeOut = new Float64Array(2);

const SYSTEM_PING_CLOCK: PingClock = {
  ...systemClock(),
  realtime(): [number, number] {
    native().clockRealtime(realtimeOut);
    return [realtimeOut[0]!, realtimeOut[1]!];
  },
  defer: (callback) => setImmediate(callback),
  cancelDeferred: (handle: TimerHandle) => clearImmediate(handle as NodeJS.Immediate),
};

const SYSTEM_PING_BACKEND: PingBackend = {
  clock: SYSTEM_PING_CLOCK,
  chooseMode: (request: IcmpSocketKind | 'auto') => chooseIcmpMode(request),
  chooseTcpMethod,
  resolveTarget: lookupTarget,
  timestampsReady: () => receiveTimestampsOn(),
  openSocket(options: PingSocketOptions): PingSocket {
    if (options.method === 'tcp-connect') return new TcpConnectSocket(options);
    if (options.method === 'tcp-syn') {
      return new TcpSynSocket({
        family: options.family, port: options.port ?? 80, ttl: options.ttl, tos: options.tos, mark: options.mark, device: options.device,
        source: options.source, pmtu: options.pmtu, receiveBuffer: options.receiveBuffer,
      });
    }
    return new IcmpSocket({
      family: options.family,
      mode: options.mode,
      ttl: options.ttl,
      tos: options.tos,
      mark: options.mark,
      device: options.device,
      source: options.source,
      pmtu: options.pmtu,
      receiveBuffer: options.receiveBuffer,
    });
  },
};

/** syn where raw sockets are allowed (auto) or asked for; connect needs no privilege. */
function chooseTcpMethod(request: TcpMethodRequest): 'tcp-syn' | 'tcp-connect' {
  if (request === 'connect') return 'tcp-connect';
  const raw = rawAccess();
  if (!raw.allowed) {
    if (request === 'auto') return 'tcp-connect';
    throw new PrivilegeError(
      `TCP SYN probes need a raw socket: ${raw.reason?.replace(/^raw ICMP sockets need /, '') ?? 'CAP_NET_RAW'}`,
      `${raw.fix}; or use --tcp-method connect (tcpMethod: 'connect'), which needs no privilege`,
    );
  }
  if (raw.via === 'permitted') native().raiseCapability(CAP_NET_RAW);
  return 'tcp-syn';
}

/** The backend on the system's clock, resolver and sockets; sockets open when a run starts. */
export function systemPingBackend(): PingBackend {
  return SYSTEM_PING_BACKEND;
}

/**
 * The families a run over `hosts` needs: that of each address (for certain), and for names the
 * one asked for, else both (names resolve later, without privilege: either may do).
 */
function familiesOf(hosts: readonly string[], family: 4 | 6 | null): { needed: Set<4 | 6>; maybe: Set<4 | 6> } {
  const needed = new Set<4 | 6>();
  const maybe = new Set<4 | 6>();
  for (let i = 0; i < hosts.length && needed.size < 2; i++) {
    const f = literalFamily(hosts[i]!);
    if (f !== 0) {
      if (family === null || family === f) needed.add(f);
    } else if (family !== null) {
      needed.add(family);
    } else {
      maybe.add(4);
      maybe.add(6);
    }
  }
  for (const f of needed) maybe.delete(f);
  return { needed, maybe };
}

/**
 * Opens now the sockets a run over `hosts` with `options` will use (the same two arguments
 * the run gets); the run takes them over. A family only names might need may fail to open
 * (IPv6 disabled, ...) unless nothing else opens; a target that then needs it fails the run
 * with MissingSocketError. close() closes what no run took.
 */
export function preparedPingBackend(hosts: readonly string[], options?: PingOptions): PingBackend & { close(): void } {
  const opts = normalizeOptions(options);
  const pool = new SocketPool(SYSTEM_PING_BACKEND, poolOptionsOf(opts, hosts.length));
  const { needed, maybe } = familiesOf(hosts, opts.family);
  const failed = new Map<4 | 6, unknown>();
  try {
    for (const f of needed) pool.socket(f);
    for (const f of maybe) {
      try {
        pool.socket(f);
      } catch (e) {
        failed.set(f, e);
      }
    }
    if (pool.sockets.size === 0 && failed.size > 0) throw failed.values().next().value;
  } catch (e) {
    pool.close();
    throw e;
  }
  // the kernel switches arrival timestamps on (deferred work since the sockets opened) while names resolve
  const timestampsOn = receiveTimestampsOn();
  const opened = new Map(pool.sockets);
  return {
    clock: SYSTEM_PING_CLOCK,
    chooseMode: () => pool.mode,
    chooseTcpMethod: () => (pool.method === 'tcp-syn' ? 'tcp-syn' : 'tcp-connect'),
    resolveTarget: lookupTarget,
    timestampsReady: () => timestampsOn,
    openSocket(request: PingSocketOptions): PingSocket {
      const s = opened.get(request.family);
      if (s === undefined) throw new MissingSocketError(request.family, null, { cause: failed.get(request.family) });
      opened.delete(request.family);
      return s;
    },
    close() {
      for (const s of opened.values()) s.close();
      opened.clear();
    },
  };
}
