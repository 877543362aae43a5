// What the ping engine needs from the outside world, as interfaces: a clock with timers and a
// factory of ICMP sockets. The real backend (native-backend.ts) wraps IcmpSocket and Node's
// timers; unit tests pass a fake that answers probes on a fake clock.

import type { IcmpMessage } from '../socket/icmp-socket.js';
import type { SendBatch } from '../socket/send-batch.js';
import type { IcmpSocketKind, PmtuDiscovery } from './types.js';

export type TimerHandle = unknown;

export interface PingClock {
  /** monotonic milliseconds (scheduling and timeouts only; RTTs come from packet timestamps) */
  now(): number;
  /** CLOCK_REALTIME as [seconds, nanoseconds], the clock of send and receive timestamps */
  realtime(): [number, number];
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** runs callback after pending I/O callbacks (setImmediate) */
  defer(callback: () => void): TimerHandle;
  cancelDeferred(handle: TimerHandle): void;
}

export interface PingSocketOptions {
  family: 4 | 6;
  mode: IcmpSocketKind;
  ttl?: number;
  tos?: number;
  mark?: number;
  device?: string;
  source?: string;
  pmtu?: PmtuDiscovery;
  receiveBuffer?: number;
}

/** The subset of IcmpSocket the engine uses. */
export interface PingSocket {
  readonly family: 4 | 6;
  readonly mode: IcmpSocketKind;
  readonly identifier: number;
  /** onEvent(readable, errorQueue) whenever there is something to read */
  start(onEvent: (readable: boolean, errorQueue: boolean) => void): void;
  /** sends the batch; returns how many were processed (the rest met EAGAIN/ENOBUFS) */
  send(batch: SendBatch): number;
  /** as send, and reads what is queued right after in the same call (handed out by the next read) */
  sendAndReceive(batch: SendBatch): number;
  /** reads up to budget messages; fewer than budget means the queue is empty */
  drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget?: number): number;
  /** as drain, but the message object may be reused for the next message (valid during the callback only) */
  read(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget?: number): number;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface PingBackend {
  readonly clock: PingClock;
  /** the socket kind to use for a request; throws ERR_NETDIAG_PRIVILEGE naming the fix */
  chooseMode(request: IcmpSocketKind | 'auto'): IcmpSocketKind;
  openSocket(options: PingSocketOptions): PingSocket;
  /**
   * Resolves once the kernel stamps packets on arrival (the first socket asking for
   * timestamps turns them on through deferred work; until then the first replies would be
   * stamped when read). Called after the sockets are open.
   */
  timestampsReady?(): Promise<void>;
}
