// The run's sockets: one per address family, all of the same mode (raw or ping sockets),
// opened once with the run's options (a prepared backend opened them earlier, before the CLI
// dropped its capabilities, and hands them over here).

import type { PingBackend, PingSocket, PingSocketOptions } from './backend.js';
import type { NormalizedOptions } from './options.js';
import type { IcmpSocketKind, PingMethod, PingTarget, PmtuDiscovery, TcpMethodRequest } from './types.js';

/** Receive buffer for runs where many replies can queue up before they are read. */
const BIG_RECEIVE_BUFFER = 4 << 20;

/** The sockets' options for a run of `targetCount` targets with `opts`. */
export function poolOptionsOf(opts: NormalizedOptions, targetCount: number): SocketPoolOptions {
  // many targets, flooding or a big preload: replies pile up faster than one read takes them
  const many = targetCount > 64 || opts.engine.interval === 0 || opts.engine.preload > 16;
  return {
    socket: opts.socket, method: opts.method, port: opts.port ?? undefined, tcpMethod: opts.tcpMethod, ttl: opts.ttl, tos: opts.tos, mark: opts.mark, device: opts.device,
    sourceAddress: opts.sourceAddress, pmtu: opts.pmtu, receiveBuffer: many ? BIG_RECEIVE_BUFFER : undefined,
  };
}

/** A target needs a family whose socket could not be opened before the run (see preparedPingBackend). */
export class MissingSocketError extends Error {
  readonly code = 'ERR_NETDIAG_NO_SOCKET';
  constructor(
    readonly family: 4 | 6,
    /** the target that needed it, once the run knows */
    readonly target: PingTarget | null,
    options?: { cause?: unknown },
  ) {
    super(target === null
      ? `no IPv${family} socket could be opened`
      : `${target.target} resolved to ${target.address}, but no IPv${family} socket could be opened`, options);
    this.name = 'MissingSocketError';
  }
}

export interface SocketPoolOptions {
  socket: IcmpSocketKind | 'auto';
  /** default 'icmp' */
  method?: 'icmp' | 'tcp';
  /** TCP: the destination port */
  port?: number;
  tcpMethod?: TcpMethodRequest;
  ttl?: number;
  tos?: number;
  mark?: number;
  device?: string;
  /** bound on the socket of its own family */
  sourceAddress?: string;
  pmtu?: PmtuDiscovery;
  receiveBuffer?: number;
}

export class SocketPool {
  readonly mode: IcmpSocketKind;
  readonly method: PingMethod;
  private readonly open = new Map<4 | 6, PingSocket>();

  constructor(
    private readonly backend: PingBackend,
    private readonly options: SocketPoolOptions,
  ) {
    if (options.method === 'tcp') {
      this.method = chooseTcpMethod(backend, options.tcpMethod ?? 'auto');
      this.mode = this.method === 'tcp-syn' ? 'raw' : 'dgram';
    } else {
      this.method = 'icmp';
      this.mode = backend.chooseMode(options.socket);
    }
  }

  /** The socket for a family, opened on first use. */
  socket(family: 4 | 6): PingSocket {
    let s = this.open.get(family);
    if (s === undefined) {
      const o = this.options;
      const source = o.sourceAddress;
      if (source !== undefined && (source.includes(':') ? 6 : 4) !== family) {
        throw new RangeError(`the source address ${source} is not an IPv${family} address, and an IPv${family} target needs one`);
      }
      const opts: PingSocketOptions = {
        family, mode: this.mode, ...(this.method !== 'icmp' ? { method: this.method, port: o.port } : {}), ttl: o.ttl, tos: o.tos, mark: o.mark, device: o.device, source, pmtu: o.pmtu, receiveBuffer: o.receiveBuffer,
      };
      s = this.backend.openSocket(opts);
      this.open.set(family, s);
    }
    return s;
  }

  get sockets(): ReadonlyMap<4 | 6, PingSocket> {
    return this.open;
  }

  close(): void {
    for (const s of this.open.values()) s.close();
    this.open.clear();
  }
}

/** The TCP method a backend picks for a request (see PingBackend.chooseTcpMethod). */
function chooseTcpMethod(backend: PingBackend, request: TcpMethodRequest): 'tcp-syn' | 'tcp-connect' {
  if (backend.chooseTcpMethod) return backend.chooseTcpMethod(request);
  if (request === 'syn') return 'tcp-syn';
  if (request === 'connect') return 'tcp-connect';
  return backend.chooseMode('auto') === 'raw' ? 'tcp-syn' : 'tcp-connect';
}
