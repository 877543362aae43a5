// The run's sockets: one per address family, all of the same mode (raw or ping sockets),
// opened once with the run's options. The CLI opens them before it drops its capabilities.

import type { PingBackend, PingSocket, PingSocketOptions } from './backend.js';
import type { IcmpSocketKind, PmtuDiscovery } from './types.js';

export interface SocketPoolOptions {
  socket: IcmpSocketKind | 'auto';
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
  private readonly open = new Map<4 | 6, PingSocket>();

  constructor(
    private readonly backend: PingBackend,
    private readonly options: SocketPoolOptions,
  ) {
    this.mode = backend.chooseMode(options.socket);
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
        family, mode: this.mode, ttl: o.ttl, tos: o.tos, mark: o.mark, device: o.device, source, pmtu: o.pmtu, receiveBuffer: o.receiveBuffer,
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
