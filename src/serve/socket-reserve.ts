// Sockets that outlive ping runs. The prober runs many short PingRuns (a continuous target group
// is a chain of runs; each /probe is one), but raw sockets can be opened only while the process
// holds CAP_NET_RAW, which it drops right after start-up. So the reserve opens what the config
// needs first, and lends sockets to runs: a run's close() hands its socket back instead of
// closing it. A socket's poller is started once; whichever run holds the socket gets its events,
// and an idle socket's late arrivals are read and dropped. When no socket of the kind is idle
// the reserve opens one (ping sockets need no privilege), or waits for one to come back.

import { PrivilegeError } from '../errors.js';
import type { PingBackend, PingSocket, PingSocketOptions } from '../ping/backend.js';
import { systemPingBackend } from '../ping/system-backend.js';
import type { IcmpSocketKind, PingMethod } from '../ping/types.js';
import type { IcmpMessage } from '../socket/icmp-socket.js';
import type { SendBatch } from '../socket/send-batch.js';

/** Receive buffer of every reserved socket: many targets' replies can queue between reads. */
const RECEIVE_BUFFER = 4 << 20;
const NOTHING = (): void => {};

/** A kind of socket: its options but the mode (the reserve's for ICMP; TCP methods have their own). */
export type SocketKey = Omit<PingSocketOptions, 'mode' | 'receiveBuffer'>;

function keyText(o: SocketKey): string {
  return `${o.method ?? 'icmp'}|${o.port ?? ''}|${o.family}|${o.ttl ?? ''}|${o.tos ?? ''}|${o.mark ?? ''}|${o.device ?? ''}|${o.source ?? ''}|${o.pmtu ?? ''}`;
}

class ReservedSocket implements PingSocket {
  handler: ((readable: boolean, errorQueue: boolean) => void) | null = null;
  private started = false;
  lent = false;

  /** TCP sockets' extras, passed through when the socket has them */
  readonly sourceAddressToward?: (address: string) => string;
  readonly forget?: (seq32: number) => void;

  constructor(readonly key: string, readonly inner: PingSocket, private readonly giveBack: (s: ReservedSocket) => void) {
    if (inner.sourceAddressToward) this.sourceAddressToward = (a) => inner.sourceAddressToward!(a);
    if (inner.forget) this.forget = (seq32) => inner.forget!(seq32);
  }

  get family(): 4 | 6 {
    return this.inner.family;
  }
  get method(): PingMethod | undefined {
    return this.inner.method;
  }
  get port(): number | undefined {
    return this.inner.port;
  }
  get localPort(): number | undefined {
    return this.inner.localPort;
  }
  get localPorts(): number | undefined {
    return this.inner.localPorts;
  }
  get mode(): IcmpSocketKind {
    return this.inner.mode;
  }
  get identifier(): number {
    return this.inner.identifier;
  }
  start(onEvent: (readable: boolean, errorQueue: boolean) => void): void {
    this.handler = onEvent;
    if (!this.started) {
      this.started = true;
      this.inner.start((readable, errorQueue) => {
        if (this.handler !== null) this.handler(readable, errorQueue);
        else this.discard(errorQueue);
      });
    }
    this.inner.ref();
  }
  /** Reads and drops what came for no run (replies after a run ended). */
  private discard(errorQueue: boolean): void {
    while (this.inner.read(false, NOTHING, 256) === 256);
    if (errorQueue) while (this.inner.read(true, NOTHING, 256) === 256);
  }
  send(batch: SendBatch): number {
    return this.inner.send(batch);
  }
  sendAndReceive(batch: SendBatch): number {
    return this.inner.sendAndReceive(batch);
  }
  drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget?: number): number {
    return this.inner.drain(errorQueue, onMessage, budget);
  }
  read(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget?: number): number {
    return this.inner.read(errorQueue, onMessage, budget);
  }
  ref(): void {
    this.inner.ref();
  }
  unref(): void {
    this.inner.unref();
  }
  /** The run is done with it: back to the reserve (still open). */
  close(): void {
    if (!this.lent) return;
    this.handler = null;
    if (this.started) this.discard(true);
    this.inner.unref();
    this.giveBack(this);
  }
}

export class SocketReserve {
  readonly mode: IcmpSocketKind;
  private readonly idle = new Map<string, ReservedSocket[]>();
  private readonly all = new Set<ReservedSocket>();
  private readonly waiting = new Map<string, Array<(s: ReservedSocket) => void>>();
  private closed = false;

  constructor(socket: IcmpSocketKind | 'auto', private readonly base: PingBackend = systemPingBackend()) {
    this.mode = base.chooseMode(socket);
  }

  /** Opens sockets of a kind until `count` exist (call before dropping capabilities). */
  prepare(key: SocketKey, count: number): void {
    const k = keyText(key);
    let have = 0;
    for (const s of this.all) if (s.key === k) have++;
    for (; have < count; have++) this.giveBack(this.open(key, k));
  }

  get size(): number {
    return this.all.size;
  }

  /** The TCP method a request gets (decided while privileged: syn needs a raw socket). */
  tcpMethod(request: 'syn' | 'connect' | 'auto'): 'tcp-syn' | 'tcp-connect' {
    if (this.base.chooseTcpMethod) return this.base.chooseTcpMethod(request);
    if (request === 'auto') return this.mode === 'raw' ? 'tcp-syn' : 'tcp-connect';
    return request === 'syn' ? 'tcp-syn' : 'tcp-connect';
  }

  private open(key: SocketKey, k: string): ReservedSocket {
    const mode = key.method === 'tcp-syn' ? 'raw' : key.method === 'tcp-connect' ? 'dgram' : this.mode;
    const inner = this.base.openSocket({ ...key, mode, receiveBuffer: RECEIVE_BUFFER });
    const s = new ReservedSocket(k, inner, (x) => this.giveBack(x));
    this.all.add(s);
    return s;
  }

  private giveBack(s: ReservedSocket): void {
    s.lent = false;
    if (this.closed) {
      s.inner.close();
      this.all.delete(s);
      return;
    }
    const w = this.waiting.get(s.key);
    const next = w?.shift();
    if (next) {
      s.lent = true;
      next(s);
      return;
    }
    let list = this.idle.get(s.key);
    if (!list) this.idle.set(s.key, (list = []));
    list.push(s);
  }

  /**
   * A socket of the kind: an idle one, a new one, or (when none can be opened any more: raw
   * sockets after the capabilities were dropped) the next one handed back.
   */
  async acquire(key: SocketKey, signal?: AbortSignal): Promise<PingSocket> {
    if (this.closed) throw new Error('the prober is stopped');
    const k = keyText(key);
    const idle = this.idle.get(k)?.pop();
    if (idle) {
      idle.lent = true;
      return idle;
    }
    let inUse = 0;
    for (const s of this.all) if (s.key === k) inUse++;
    try {
      const s = this.open(key, k);
      s.lent = true;
      return s;
    } catch (e) {
      if (inUse === 0) throw socketError(e, key);
    }
    return new Promise<PingSocket>((resolve, reject) => {
      let list = this.waiting.get(k);
      if (!list) this.waiting.set(k, (list = []));
      const take = (s: ReservedSocket): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      const onAbort = (): void => {
        const i = list!.indexOf(take);
        if (i >= 0) list!.splice(i, 1);
        reject(signal!.reason);
      };
      list.push(take);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * A ping backend whose runs use `sockets` (one per family), handed back when each run closes
   * them; `tcpMethod` is the method a TCP run was given its sockets for.
   */
  backendWith(sockets: ReadonlyMap<4 | 6, PingSocket>, taken?: Set<PingSocket>, tcpMethod?: 'tcp-syn' | 'tcp-connect'): PingBackend {
    const base = this.base;
    const mode = this.mode;
    return {
      clock: base.clock,
      chooseMode: () => mode,
      chooseTcpMethod: () => tcpMethod ?? 'tcp-connect',
      resolveTarget: base.resolveTarget,
      timestampsReady: base.timestampsReady?.bind(base),
      openSocket(o: PingSocketOptions): PingSocket {
        const s = sockets.get(o.family);
        if (s === undefined) throw new Error(`no IPv${o.family} socket was reserved for this run`);
        taken?.add(s);
        return s;
      },
    };
  }

  /** Closes every socket (lent ones when they come back). */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const s of list) {
      s.inner.close();
      this.all.delete(s);
    }
    this.idle.clear();
    for (const [, list] of this.waiting) list.length = 0;
  }
}

function socketError(e: unknown, key: SocketKey): Error {
  if (e instanceof PrivilegeError) return e;
  const err = new Error(`cannot open an IPv${key.family} socket${key.source ? ` bound to ${key.source}` : ''}: ${(e as Error).message}`, { cause: e });
  return err;
}
