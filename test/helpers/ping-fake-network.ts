// A simulated network and clock behind the PingBackend interface, for tests of the engine and
// of code built on it: time moves only when advance() says so, and a responder decides, per
// probe sent, what comes back (replies, duplicates, damaged or late replies, ICMP errors from a
// router, a send the kernel refuses). Messages are built as the kernel would deliver them to a
// raw socket (ICMP errors as packets quoting the probe) or a ping socket (errors in the queue).
// TCP ping sockets (FakeTcpSocket) answer with a tcpResponder: SYN-ACKs and RSTs as a raw TCP
// socket reads them (ICMP errors in its error queue, quoting the SYN), or connect outcomes as
// the connect socket reports them (src/ping/tcp-connect-socket.ts).

import { isIP } from 'node:net';

import { ResolveError } from '../../src/errors.js';
import { readAddress } from '../../src/socket/address-bytes.js';
import type { IcmpMessage, QueuedError } from '../../src/socket/icmp-socket.js';
import type { SendBatch } from '../../src/socket/send-batch.js';
import { SEND_DESC_STRIDE, SEND_OUT_STRIDE } from '../../src/native.js';
import { internetChecksum } from '../../src/packet/checksum.js';
import { writeIcmpError } from '../../src/packet/icmp-error-build.js';
import { writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeIPv6Header } from '../../src/packet/ipv6.js';
import type { PingBackend, PingClock, PingSocket, PingSocketOptions, TimerHandle } from '../../src/ping/backend.js';
import { FakeTimers } from './fake-clock.js';
import type { IcmpSocketKind, PingMethod } from '../../src/ping/types.js';
import { TCP_FLAG, verifyTcpChecksum, writeTcp } from '../../src/packet/tcp.js';
import { CONNECT_CLOSED, CONNECT_FAILED, CONNECT_OPEN } from '../../src/ping/tcp-connect-kind.js';

/** Wall-clock seconds at fake time 0 (what the fake CLOCK_REALTIME reads). */
const EPOCH_SEC = 1_700_000_000;

/** A deferred callback (setImmediate): runs before any timer once time moves. */
interface Deferred {
  callback: () => void;
  cancelled: boolean;
}

/** The shared fake clock (timers in due order, time only in advance()) plus what ping reads of kernel time and the loop. */
export class FakeClock extends FakeTimers implements PingClock {
  private deferred: Deferred[] = [];

  realtime(): [number, number] {
    return toRealtime(this.t);
  }

  defer(callback: () => void): TimerHandle {
    const d: Deferred = { callback, cancelled: false };
    this.deferred.push(d);
    return d;
  }

  cancelDeferred(handle: TimerHandle): void {
    (handle as Deferred).cancelled = true;
  }

  /** Timers and deferred callbacks not yet run or cancelled. */
  override get pendingTimers(): number {
    return super.pendingTimers + this.deferred.filter((d) => !d.cancelled).length;
  }

  /** Moves time forward by ms, running deferred callbacks, then timers in order, as it goes. */
  override advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const d = this.deferred.find((x) => !x.cancelled);
      if (d !== undefined) {
        this.deferred = this.deferred.filter((x) => x !== d && !x.cancelled);
        d.callback();
        continue;
      }
      const due = this.nextDue;
      if (due === null || due > end) break;
      this.fireNext();
    }
    this.t = end;
  }

  /** Sets time without running anything (a busy event loop: the time passes, no callback runs). */
  jump(ms: number): void {
    this.t += ms;
  }
}

function toRealtime(ms: number): [number, number] {
  const whole = Math.floor(ms / 1000);
  return [EPOCH_SEC + whole, Math.round((ms - whole * 1000) * 1e6)];
}

/** A probe as the simulated network saw it. */
export interface SentProbe {
  family: 4 | 6;
  destination: string;
  identifier: number;
  wireSeq: number;
  /** the ICMP echo request as sent */
  icmp: Buffer;
  /** fake ms */
  sentAt: number;
  /** TTL / hop limit it carried */
  ttl: number;
}

/** What the network does with a probe. */
export type FakeAnswer =
  | {
      kind: 'reply';
      /** ms after the send when it is in the socket's queue */
      after: number;
      from?: string;
      ttl?: number;
      /** flip a checksum bit (IPv4 raw sockets see it) */
      corrupt?: boolean;
      /** change the echo reply before delivery (e.g. a payload byte) */
      mutate?: (icmp: Buffer) => void;
      /** tell the engine the socket is readable (default true); false: it finds out on its next read */
      notify?: boolean;
    }
  | {
      kind: 'error'; after: number; router: string; type: number; code: number; mtu?: number; notify?: boolean;
      /** the pending socket error IP_RECVERR also sets: the next ordinary read fails with it once */
      pendingError?: string;
    }
  /** sendmsg fails with errno; with mtu, the kernel also queues a local error carrying it */
  | { kind: 'send-error'; errno: number; mtu?: number };

export type Responder = (probe: SentProbe) => FakeAnswer[];

/** Answers every probe after `after` ms from its destination. */
export const echoResponder = (after = 0.05): Responder => () => [{ kind: 'reply', after }];

interface Arrival {
  at: number;
  order: number;
  message: IcmpMessage;
  errorQueue: boolean;
}

export class FakeSocket implements PingSocket {
  readonly identifier: number;
  readonly sent: SentProbe[] = [];
  /** refuse sends beyond this many per send() call (EAGAIN), Infinity by default */
  acceptPerSend = Infinity;
  closed = false;
  private onEvent: ((readable: boolean, errorQueue: boolean) => void) | null = null;
  // [regular, error queue]: arrivals sorted by time once something is added out of order
  private readonly queues: [ArrivalQueue, ArrivalQueue] = [new ArrivalQueue(), new ArrivalQueue()];
  private order = 0;
  private pendingError: { at: number; code: string } | null = null;

  constructor(
    private readonly net: FakeNetwork,
    readonly family: 4 | 6,
    readonly mode: IcmpSocketKind,
    readonly options: PingSocketOptions,
  ) {
    this.identifier = net.nextIdentifier++;
  }

  start(onEvent: (readable: boolean, errorQueue: boolean) => void): void {
    this.onEvent = onEvent;
  }

  ref(): void {}
  unref(): void {}

  close(): void {
    this.closed = true;
    this.onEvent = null;
  }

  send(batch: SendBatch): number {
    // as the real socket: after close() the fd number may already be another socket's
    if (this.closed) throw new Error('the socket is closed');
    const clock = this.net.clock;
    const n = Math.min(batch.count, this.acceptPerSend);
    for (let i = 0; i < n; i++) {
      const d = i * SEND_DESC_STRIDE;
      const off = batch.desc[d]!, len = batch.desc[d + 1]!;
      const icmp = Buffer.from(batch.data.subarray(off, off + len));
      // a ping socket writes its own identifier (and, for IPv4, the checksum)
      if (this.mode === 'dgram') icmp.writeUInt16BE(this.identifier, 4);
      const probe: SentProbe = {
        family: this.family,
        destination: readAddress(batch.addrs, i * 16, this.family),
        identifier: icmp.readUInt16BE(4),
        wireSeq: icmp.readUInt16BE(6),
        icmp,
        sentAt: clock.now(),
        ttl: this.options.ttl ?? 64,
      };
      const [sec, nsec] = clock.realtime();
      const o = i * SEND_OUT_STRIDE;
      batch.out[o] = sec;
      batch.out[o + 1] = nsec;
      batch.out[o + 2] = 0;
      const answers = this.net.responder(probe);
      const refused = answers.find((a) => a.kind === 'send-error');
      if (refused && refused.kind === 'send-error') {
        batch.out[o + 2] = refused.errno;
        if (refused.mtu !== undefined) {
          this.enqueue(clock.now(), this.queuedMessage(Buffer.alloc(0), probe.destination, { errno: refused.errno, origin: 1, type: 0, code: 0, info: refused.mtu, offender: null }), true, false);
        }
        continue;
      }
      this.sent.push(probe);
      for (const a of answers) this.answer(probe, a);
    }
    return n;
  }

  sendAndReceive(batch: SendBatch): number {
    return this.send(batch);
  }

  private answer(probe: SentProbe, a: FakeAnswer): void {
    const at = probe.sentAt + (a.kind === 'send-error' ? 0 : a.after);
    if (a.kind === 'reply') {
      const icmp = Buffer.from(probe.icmp);
      icmp[0] = this.family === 4 ? 0 : 129;
      a.mutate?.(icmp);
      if (this.family === 4) {
        icmp.writeUInt16BE(0, 2);
        icmp.writeUInt16BE(internetChecksum(icmp, 0, icmp.length), 2);
      }
      if (a.corrupt) icmp[2]! ^= 0x10;
      const message: IcmpMessage = {
        buf: icmp, offset: 0, length: icmp.length, truncated: false, from: a.from ?? probe.destination,
        ttl: a.ttl ?? 64, tos: 0, rxSec: 0, rxNsec: 0, queued: null,
      };
      this.enqueue(at, message, false, a.notify !== false);
      return;
    }
    if (a.kind !== 'error') return;
    if (a.pendingError !== undefined) this.pendingError = { at, code: a.pendingError };
    if (this.mode === 'dgram') {
      // a ping socket learns of errors through its error queue: the quoted echo, the offender
      const info = a.mtu ?? 0;
      this.enqueue(at, this.queuedMessage(Buffer.from(probe.icmp), probe.destination, { errno: 113, origin: this.family === 4 ? 2 : 3, type: a.type, code: a.code, info, offender: a.router }), true, a.notify !== false);
      return;
    }
    // a raw socket gets the error packet: the probe's IP header and ICMP message quoted
    const quote = Buffer.alloc((this.family === 4 ? 20 : 40) + probe.icmp.length);
    if (this.family === 4) {
      writeIPv4Header(quote, 0, { totalLength: quote.length, ttl: 1, protocol: 1, src: '10.255.0.1', dst: probe.destination });
    } else {
      writeIPv6Header(quote, 0, { payloadLength: probe.icmp.length, nextHeader: 58, hopLimit: 1, src: 'fd00::ffff', dst: probe.destination });
    }
    probe.icmp.copy(quote, this.family === 4 ? 20 : 40);
    const buf = Buffer.alloc(8 + quote.length);
    const len = writeIcmpError(buf, 0, { family: this.family, type: a.type, code: a.code, mtu: a.mtu, quote });
    const message: IcmpMessage = {
      buf, offset: 0, length: len, truncated: false, from: a.router, ttl: 63, tos: 0, rxSec: 0, rxNsec: 0, queued: null,
    };
    this.enqueue(at, message, false, a.notify !== false);
  }

  private queuedMessage(payload: Buffer, from: string, queued: QueuedError): IcmpMessage {
    return { buf: payload, offset: 0, length: payload.length, truncated: false, from, ttl: null, tos: null, rxSec: 0, rxNsec: 0, queued };
  }

  protected enqueue(at: number, message: IcmpMessage, errorQueue: boolean, notify: boolean): void {
    [message.rxSec, message.rxNsec] = toRealtime(at);
    this.queues[errorQueue ? 1 : 0].add({ at, order: this.order++, message, errorQueue });
    if (!notify) return;
    // the poller reports it once it is there
    const delay = at - this.net.clock.now();
    this.net.clock.setTimer(() => this.onEvent?.(!errorQueue, errorQueue), delay);
  }

  drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget = 1024): number {
    const now = this.net.clock.now();
    if (!errorQueue && this.pendingError !== null && this.pendingError.at <= now) {
      const code = this.pendingError.code;
      this.pendingError = null;
      throw Object.assign(new Error(`${code}: pending socket error, recvmmsg`), { code, errno: 0, syscall: 'recvmmsg' });
    }
    const q = this.queues[errorQueue ? 1 : 0];
    let n = 0;
    while (n < budget && !this.closed) {
      const arrival = q.takeDue(now);
      if (arrival === undefined) break;
      n++;
      onMessage(arrival.message);
    }
    return n;
  }

  read(errorQueue: boolean, onMessage: (m: IcmpMessage) => void, budget = 1024): number {
    return this.drain(errorQueue, onMessage, budget);
  }

  /** Messages waiting in the socket (both queues). */
  get queued(): number {
    return this.queues[0].size + this.queues[1].size;
  }
}

class ArrivalQueue {
  private items: Arrival[] = [];
  private head = 0;
  private sorted = true;

  get size(): number {
    return this.items.length - this.head;
  }

  add(a: Arrival): void {
    const last = this.items[this.items.length - 1];
    if (last !== undefined && (last.at > a.at || (last.at === a.at && last.order > a.order))) this.sorted = false;
    this.items.push(a);
  }

  takeDue(now: number): Arrival | undefined {
    if (!this.sorted) {
      this.items = this.items.slice(this.head).sort((x, y) => x.at - y.at || x.order - y.order);
      this.head = 0;
      this.sorted = true;
    }
    const a = this.items[this.head];
    if (a === undefined || a.at > now) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return a;
  }
}

/** A TCP probe as the simulated network saw it. */
export interface SentTcpProbe {
  method: 'tcp-syn' | 'tcp-connect';
  family: 4 | 6;
  destination: string;
  port: number;
  /** fake ms */
  sentAt: number;
  /** tcp-syn: the SYN as sent, its sequence number, and whether its checksum is right (IPv6: left to the kernel, 0) */
  syn: Buffer | null;
  seq: number;
  checksumOk: boolean;
  /** tcp-connect: the probe's number from the batch slot */
  seq32: number;
}

/** What the network does with a TCP probe. */
export type FakeTcpAnswer =
  | {
      /** SYN-ACK or RST-ACK (connect: connected, refused) */
      kind: 'open' | 'closed';
      after: number;
      /** tcp-syn: a segment that is not the answer (another address, other ports, another acknowledgment) */
      from?: string;
      srcPort?: number;
      dstPort?: number;
      ackDelta?: number;
      notify?: boolean;
    }
  /** an ICMP error quoting the SYN (connect: the one that aborted the handshake) */
  | { kind: 'error'; after: number; router: string; type: number; code: number }
  /** tcp-connect: the handshake failed without an ICMP error */
  | { kind: 'connect-error'; after: number; errno: number };

export type TcpResponder = (probe: SentTcpProbe) => FakeTcpAnswer[];

/** The fake host's source address toward targets off loopback (what a TCP SYN socket's checksums use). */
export const FAKE_SOURCE = { 4: '192.0.2.7', 6: '2001:db8::7' } as const;

export class FakeTcpSocket extends FakeSocket {
  override readonly identifier = 0;
  readonly method: 'tcp-syn' | 'tcp-connect';
  readonly port: number;
  readonly localPort: number | undefined;
  readonly localPorts = 4;
  readonly tcpSent: SentTcpProbe[] = [];
  /** probe numbers the engine gave up (forget) */
  readonly forgotten: number[] = [];

  constructor(private readonly tcpNet: FakeNetwork, family: 4 | 6, options: PingSocketOptions) {
    super(tcpNet, family, options.mode, options);
    this.method = options.method as 'tcp-syn' | 'tcp-connect';
    this.port = options.port ?? 80;
    this.localPort = this.method === 'tcp-syn' ? 40000 + tcpNet.sockets.length : undefined;
  }

  /** as the kernel picks: loopback from loopback, else the fake host's address */
  sourceAddressToward(address: string): string {
    if (address.startsWith('127.')) return '127.0.0.1';
    return address === '::1' ? '::1' : FAKE_SOURCE[this.family];
  }

  forget(seq32: number): void {
    this.forgotten.push(seq32);
  }

  override send(batch: SendBatch): number {
    if (this.closed) throw new Error('the socket is closed');
    const clock = this.tcpNet.clock;
    for (let i = 0; i < batch.count; i++) {
      const d = i * SEND_DESC_STRIDE;
      const off = batch.desc[d]!, len = batch.desc[d + 1]!;
      const data = Buffer.from(batch.data.subarray(off, off + len));
      const destination = readAddress(batch.addrs, i * 16, this.family);
      const syn = this.method === 'tcp-syn';
      const probe: SentTcpProbe = {
        method: this.method, family: this.family, destination, port: this.port, sentAt: clock.now(),
        syn: syn ? data : null, seq: syn ? data.readUInt32BE(4) : 0,
        checksumOk: syn && (this.family === 6 ? data.readUInt16BE(16) === 0 : verifyTcpChecksum(data, 0, len, this.sourceAddressToward(destination), destination)),
        seq32: syn ? -1 : data.readUInt32BE(0),
      };
      const [sec, nsec] = clock.realtime();
      const o = i * SEND_OUT_STRIDE;
      batch.out[o] = sec;
      batch.out[o + 1] = nsec;
      batch.out[o + 2] = 0;
      this.tcpSent.push(probe);
      for (const a of this.tcpNet.tcpResponder(probe)) this.tcpAnswer(probe, a);
    }
    return batch.count;
  }

  override sendAndReceive(batch: SendBatch): number {
    return this.send(batch);
  }

  private tcpAnswer(probe: SentTcpProbe, a: FakeTcpAnswer): void {
    const at = probe.sentAt + a.after;
    const v4 = this.family === 4;
    if (probe.syn !== null) {
      if (a.kind === 'error') {
        const queued: QueuedError = { errno: 113, origin: v4 ? 2 : 3, type: a.type, code: a.code, info: 0, offender: a.router };
        const quote = Buffer.from(probe.syn);
        this.enqueue(at, { buf: quote, offset: 0, length: quote.length, truncated: false, from: probe.destination, ttl: null, tos: null, rxSec: 0, rxNsec: 0, queued }, true, true);
        return;
      }
      if (a.kind !== 'open' && a.kind !== 'closed') return;
      const seg = Buffer.alloc(20);
      const from = a.from ?? probe.destination;
      writeTcp(seg, 0, {
        srcPort: a.srcPort ?? this.port, dstPort: a.dstPort ?? probe.syn.readUInt16BE(0), seq: a.kind === 'open' ? 0x1000 : 0,
        ackNumber: (probe.seq + 1 + (a.ackDelta ?? 0)) >>> 0, flags: (a.kind === 'open' ? TCP_FLAG.SYN : TCP_FLAG.RST) | TCP_FLAG.ACK,
        src: from, dst: this.sourceAddressToward(probe.destination),
      });
      this.enqueue(at, { buf: seg, offset: 0, length: 20, truncated: false, from, ttl: 64, tos: 0, rxSec: 0, rxNsec: 0, queued: null }, false, a.notify !== false);
      return;
    }
    const msg = Buffer.alloc(5);
    msg.writeUInt32BE(probe.seq32, 0);
    let queued: QueuedError | null = null;
    if (a.kind === 'open' || a.kind === 'closed') {
      msg[4] = a.kind === 'open' ? CONNECT_OPEN : CONNECT_CLOSED;
    } else {
      msg[4] = CONNECT_FAILED;
      queued = a.kind === 'error'
        ? { errno: 113, origin: v4 ? 2 : 3, type: a.type, code: a.code, info: 0, offender: a.router }
        : { errno: (a as { errno: number }).errno, origin: 1, type: 0, code: 0, info: 0, offender: null };
    }
    this.enqueue(at, { buf: msg, offset: 0, length: 5, truncated: false, from: probe.destination, ttl: null, tos: null, rxSec: 0, rxNsec: 0, queued }, false, true);
  }
}

/** The simulated network: a clock, a responder, and the sockets opened on it. */
export class FakeNetwork implements PingBackend {
  readonly clock = new FakeClock();
  readonly sockets: FakeSocket[] = [];
  nextIdentifier = 0x4242;
  /** what TCP probes get (default: every port open, 50 µs away) */
  tcpResponder: TcpResponder = () => [{ kind: 'open', after: 0.05 }];

  constructor(
    public responder: Responder = echoResponder(),
    private readonly mode: IcmpSocketKind = 'raw',
  ) {}

  chooseMode(request: IcmpSocketKind | 'auto'): IcmpSocketKind {
    return request === 'auto' ? this.mode : request;
  }

  /**
   * names the fake resolver knows (resolveTarget), localhost as a stock /etc/hosts has it;
   * any other name does not resolve
   */
  readonly names = new Map<string, { address: string; family: 4 | 6 }>([['localhost', { address: '127.0.0.1', family: 4 }]]);

  async resolveTarget(target: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
    // as getaddrinfo: a literal is its own answer, whatever family was asked for
    const literal = isIP(target.replace(/%.*$/, ''));
    if (literal !== 0) return { address: target, family: literal as 4 | 6 };
    const found = this.names.get(target);
    if (found === undefined) throw ResolveError.fromLookup(target, { code: 'ENOTFOUND' });
    if (family !== undefined && found.family !== family) throw ResolveError.fromLookup(target, { code: 'ENODATA' });
    return found;
  }

  /** the fake stamps every arrival from the first socket on */
  async timestampsReady(): Promise<void> {}

  openSocket(options: PingSocketOptions): FakeSocket {
    const method: PingMethod = options.method ?? 'icmp';
    const s = method === 'icmp' ? new FakeSocket(this, options.family, options.mode, options) : new FakeTcpSocket(this, options.family, options);
    this.sockets.push(s);
    return s;
  }

  /** Every probe sent on any socket, in order. */
  get sent(): SentProbe[] {
    return this.sockets.flatMap((s) => s.sent).sort((a, b) => a.sentAt - b.sentAt);
  }
}
