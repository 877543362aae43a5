// The PingSocket of TCP connect probes: no shared socket, but one TcpConnectAttempt per probe,
// opened when the engine sends a batch (the slot holds the probe's number) and closed (RST) as
// soon as its handshake ends or the engine gives the probe up (forget). How each handshake ended
// is handed to the engine's reads as a small message (tcp-connect-kind.ts reads it), stamped:
//   open (connected):  sent + the kernel's RTT sample of the handshake (tcpi_rtt)
//   closed (refused):  CLOCK_REALTIME when the refusal was seen: right after connect() when the
//                      kernel had the RST by then (loopback answers within the call), else when
//                      the socket's poll reported it (a busy event loop delays that reading)
//   failed:            the ICMP error (type, code, router) from the attempt's error queue, or
//                      the errno when no ICMP error came
// Never a JavaScript timer: both clocks are read in C.

import { constants } from 'node:os';
import { native, SEND_DESC_STRIDE, SEND_OUT_STRIDE } from '../native.js';
import { readAddress } from '../socket/address-bytes.js';
import type { IcmpMessage, QueuedError } from '../socket/icmp-socket.js';
import { ORIGIN_LOCAL } from '../socket/received-message.js';
import type { SendBatch } from '../socket/send-batch.js';
import { TcpConnectAttempt } from '../socket/tcp-connect-attempt.js';
import type { PingSocket, PingSocketOptions } from './backend.js';
import { CONNECT_CLOSED, CONNECT_FAILED, CONNECT_MESSAGE_LENGTH, CONNECT_OPEN } from './tcp-connect-kind.js';

const ERRNO = constants.errno;

interface Pending {
  attempt: TcpConnectAttempt;
  /** the target, as the engine's targets spell it */
  address: string;
}

export class TcpConnectSocket implements PingSocket {
  /** no raw socket (the run's document says 'stream') */
  readonly mode = 'dgram' as const;
  readonly method = 'tcp-connect' as const;
  readonly identifier = 0;
  readonly family: 4 | 6;
  readonly port: number;
  /** by probe number */
  private readonly attempts = new Map<number, Pending>();
  /** outcomes not read yet: ready[head..] */
  private ready: IcmpMessage[] = [];
  private head = 0;
  private onEvent: ((readable: boolean, errorQueue: boolean) => void) | null = null;
  private referenced = true;
  private closed = false;
  private readonly now = new Float64Array(2);

  constructor(private readonly options: PingSocketOptions) {
    if (options.port === undefined) throw new TypeError('a TCP connect socket needs a port');
    this.family = options.family;
    this.port = options.port;
  }

  start(onEvent: (readable: boolean, errorQueue: boolean) => void): void {
    this.onEvent = onEvent;
  }

  send(batch: SendBatch): number {
    if (this.closed) throw new Error('the socket is closed');
    for (let i = 0; i < batch.count; i++) {
      const d = i * SEND_DESC_STRIDE;
      const seq32 = batch.data.readUInt32BE(batch.desc[d]!);
      const address = readAddress(batch.addrs, i * 16, this.family, batch.desc[d + 6]!);
      const o = i * SEND_OUT_STRIDE;
      let attempt: TcpConnectAttempt;
      try {
        const opt = this.options;
        attempt = new TcpConnectAttempt({
          family: this.family, ttl: opt.ttl, tos: opt.tos, mark: opt.mark, device: opt.device, pmtu: opt.pmtu, source: opt.source,
        });
      } catch (e) {
        // out of descriptors, ...: this probe cannot go; the engine says so
        native().clockRealtime(this.now);
        batch.out[o] = this.now[0]!;
        batch.out[o + 1] = this.now[1]!;
        batch.out[o + 2] = (e as { errno?: number }).errno ?? ERRNO.EIO;
        continue;
      }
      const start = attempt.connect(address, this.port, batch.desc[d + 6]!);
      batch.out[o] = attempt.sent[0]!;
      batch.out[o + 1] = attempt.sent[1]!;
      batch.out[o + 2] = 0;
      if (start.kind === 'failed' && start.errno !== ERRNO.EHOSTUNREACH && start.errno !== ERRNO.ENETUNREACH) {
        // refused by this host before anything was sent (no free local port, ...)
        batch.out[o + 2] = start.errno;
        attempt.close();
        continue;
      }
      const pending: Pending = { attempt, address };
      this.attempts.set(seq32, pending);
      // on loopback the handshake (or the RST) is over before connect() returns "in progress"
      const err = start.kind === 'pending' ? attempt.outcome() : start.kind === 'connected' ? 0 : start.kind === 'refused' ? ERRNO.ECONNREFUSED : start.errno;
      if (err < 0) {
        attempt.watch(() => this.settle(seq32, pending, null));
        if (!this.referenced) attempt.unref();
      } else {
        this.settle(seq32, pending, err);
      }
    }
    return batch.count;
  }

  sendAndReceive(batch: SendBatch): number {
    return this.send(batch);
  }

  /**
   * Books how the handshake of probe seq32 ended (known: 0 connected or the errno, as seen while
   * sending; null: ask the socket, its poll fired), and closes its socket.
   */
  private settle(seq32: number, pending: Pending, known: number | null): void {
    const attempt = pending.attempt;
    if (this.closed || attempt.isClosed || this.attempts.get(seq32) !== pending) return;
    const err = known ?? attempt.outcome();
    if (err < 0) return;
    native().clockRealtime(this.now);
    let sec = this.now[0]!, nsec = this.now[1]!;
    let outcome = CONNECT_FAILED;
    let queued: QueuedError | null = null;
    if (err === 0) {
      outcome = CONNECT_OPEN;
      const rtt = attempt.kernelRttMs();
      if (rtt !== null) {
        // the kernel's measurement of the handshake, from the send time taken in C
        const at = attempt.sent[1]! + Math.round(rtt * 1e6);
        sec = attempt.sent[0]! + Math.floor(at / 1e9);
        nsec = at % 1e9;
      }
    } else if (err === ERRNO.ECONNREFUSED) {
      outcome = CONNECT_CLOSED;
    } else {
      queued = attempt.icmpError() ?? { errno: err, origin: ORIGIN_LOCAL, type: 0, code: 0, info: 0, offender: null };
    }
    attempt.close();
    this.attempts.delete(seq32);
    const buf = Buffer.alloc(CONNECT_MESSAGE_LENGTH);
    buf.writeUInt32BE(seq32, 0);
    buf[4] = outcome;
    this.ready.push({
      buf, offset: 0, length: CONNECT_MESSAGE_LENGTH, truncated: false, from: pending.address,
      ttl: null, tos: null, rxSec: sec, rxNsec: nsec, queued,
    });
    // settled while sending: the engine reads it after the batch; later: tell it now
    if (known === null) this.onEvent?.(true, false);
  }

  read(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget = 1024): number {
    if (errorQueue) return 0;
    let n = 0;
    while (n < budget && this.head < this.ready.length && !this.closed) {
      const m = this.ready[this.head++]!;
      n++;
      onMessage(m);
    }
    if (this.head === this.ready.length) {
      this.ready = [];
      this.head = 0;
    }
    return n;
  }

  drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget?: number): number {
    return this.read(errorQueue, onMessage, budget);
  }

  forget(seq32: number): void {
    const p = this.attempts.get(seq32);
    if (p === undefined) return;
    this.attempts.delete(seq32);
    p.attempt.close();
  }

  /** Connect probes still waiting for their handshake. */
  get open(): number {
    return this.attempts.size;
  }

  ref(): void {
    this.referenced = true;
  }

  unref(): void {
    this.referenced = false;
    for (const p of this.attempts.values()) p.attempt.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.attempts.values()) p.attempt.close();
    this.attempts.clear();
    this.ready = [];
    this.head = 0;
  }
}
