// What the ping engine needs from the outside world, as interfaces: a clock with timers, a
// factory of ICMP sockets and a name resolver. The real backends (system-backend.ts) wrap
// IcmpSocket, Node's timers and getaddrinfo; unit tests pass a fake (test/helpers/
// ping-fake-network.ts) that answers probes on a fake clock.

import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { IcmpMessage } from '../socket/icmp-socket.js';
import type { SendBatch } from '../socket/send-batch.js';
import type { IcmpSocketKind, PingMethod, PmtuDiscovery, TcpMethodRequest } from './types.js';

export type { TimerHandle } from '../runtime/clock.js';

/** The shared clock, plus what ping's engine reads of kernel time and the event loop. */
export interface PingClock extends Clock {
  /** CLOCK_REALTIME as [seconds, nanoseconds], the clock of send and receive timestamps */
  realtime(): [number, number];
  /** runs callback after pending I/O callbacks (setImmediate) */
  defer(callback: () => void): TimerHandle;
  cancelDeferred(handle: TimerHandle): void;
}

export interface PingSocketOptions {
  family: 4 | 6;
  /** ICMP: raw or ping socket; tcp-syn: 'raw'; tcp-connect: 'dgram' (no raw socket; it opens stream sockets) */
  mode: IcmpSocketKind;
  /** what the probes are (default 'icmp') */
  method?: PingMethod;
  /** TCP: the destination port */
  port?: number;
  ttl?: number;
  tos?: number;
  mark?: number;
  device?: string;
  source?: string;
  pmtu?: PmtuDiscovery;
  receiveBuffer?: number;
}

/** The subset of IcmpSocket the engine uses (the TCP sockets add what their probe kinds need). */
export interface PingSocket {
  readonly family: 4 | 6;
  /** as PingSocketOptions.mode (a run of tcp-connect probes reports its sockets as 'stream') */
  readonly mode: IcmpSocketKind;
  /** ICMP echo ids: raw sockets' own, ping sockets' kernel-given "port"; 0 for TCP */
  readonly identifier: number;
  /** what the socket sends (absent: 'icmp'); the engine picks the probe kind by it (probe-kind.ts) */
  readonly method?: PingMethod;
  /** TCP: the destination port */
  readonly port?: number;
  /** tcp-syn: the first of the local ports the socket owns and sends from, and how many (default 1) */
  readonly localPort?: number;
  readonly localPorts?: number;
  /** tcp-syn over IPv4: the source address the kernel picks toward `address` (for checksums) */
  sourceAddressToward?(address: string): string;
  /** tcp-connect: probe seq32 is settled without an answer; close what it holds */
  forget?(seq32: number): void;
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
  /**
   * The TCP method for a request ('auto': tcp-syn where raw sockets are allowed, else
   * tcp-connect); throws ERR_NETDIAG_PRIVILEGE naming the fix for tcp-syn without the privilege.
   * Absent: 'auto' follows chooseMode('auto') (raw: tcp-syn).
   */
  chooseTcpMethod?(request: TcpMethodRequest): 'tcp-syn' | 'tcp-connect';
  openSocket(options: PingSocketOptions): PingSocket;
  /**
   * The address of a target name (family: the one asked for, else the resolver's first);
   * rejects with ResolveError. Address literals never come here: the run reads them itself,
   * synchronously (ten thousand of them cost no promise each).
   */
  resolveTarget(target: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }>;
  /**
   * Resolves once the kernel stamps packets on arrival (the first socket asking for
   * timestamps turns them on through deferred work; until then the first replies would be
   * stamped when read). Called after the sockets are open.
   */
  timestampsReady?(): Promise<void>;
}
