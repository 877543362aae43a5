// A fake kernel behind the SeqpacketBackend interface (src/seqpacket/backend.ts), for unit
// tests of SeqpacketSocket and the backend contract (test/contract/seqpacket-backend.ts).
// Fd 10 is the socket under test: the test queues what it receives (push) and reads what it
// sent (sent), and its poller fires when the test says so (fire, drain). socketpair() connects
// fds in the fake as the kernel would: sends reach the peer's queue, with the kernel's size
// limit, send-buffer accounting, end of stream on shutdown/close, EPIPE towards a closed peer;
// pollAll() is one event-loop turn for every poller (level-triggered).
import { constants as osConstants } from 'node:os';

import { POLL_HANGUP, POLL_READABLE, POLL_WRITABLE, type Poller } from '../../src/native.js';
import { SHUT_WR, SNDBUF_OVERHEAD, type SeqpacketBackend } from '../../src/seqpacket/backend.js';
import { FakeTimers } from './fake-clock.js';

export type Inbound =
  | { kind: 'message'; data: Buffer; fds: number[]; truncatedTo?: number; fdsTruncated?: boolean; from?: PairEnd }
  | { kind: 'end' }
  | { kind: 'error'; errno: number };

export class FakePoller implements Poller {
  events = 0;
  closed = false;
  refed = true;
  constructor(
    readonly fd: number,
    readonly callback: (status: number, events: number) => void,
  ) {}
  start(events: number): void {
    if (this.closed) throw new Error('poller closed');
    this.events = events;
  }
  stop(): void {
    this.events = 0;
  }
  close(): void {
    this.closed = true;
    this.events = 0;
  }
  ref(): void {
    this.refed = true;
  }
  unref(): void {
    this.refed = false;
  }
  hasRef(): boolean {
    return this.refed;
  }
}

/** A kernel for one socket fd: an inbound queue, an outbound record, fds as numbers. */
export class FakeKernel {
  readonly fd = 10;
  /** the socket itself sets no timers; connect and accept would on it */
  readonly clock = new FakeTimers();
  inbound: Inbound[] = [];
  sent: { data: Buffer; fds: number[] }[] = [];
  /** how many more messages sendmsg accepts before EAGAIN */
  sendRoom = Infinity;
  sendError: { code: string; after: number } | null = null;
  sndbuf = 212992;
  openFds = new Set<number>();
  closedFds: number[] = [];
  releasedFds: number[] = [];
  nextFd = 100;
  shutdownCalls = 0;
  closed = false;
  poller: FakePoller | null = null;
  recvCalls = 0;
  area: { meta: Int32Array; fds: Int32Array } | null = null;
  /** the texts each recvMessages call returned */
  batches: string[][] = [];

  /** A received fd, open in the process (as the kernel would install it). */
  newFd(): number {
    const fd = this.nextFd++;
    this.openFds.add(fd);
    return fd;
  }

  push(...items: Inbound[]): void {
    this.inbound.push(...items);
  }

  message(text: string, nfds = 0): Inbound {
    return { kind: 'message', data: Buffer.from(text), fds: Array.from({ length: nfds }, () => this.newFd()) };
  }

  /** One wakeup: fires the poller as the loop would (only with events it asked for). */
  fire(events = POLL_READABLE): void {
    const p = this.poller;
    if (p === null || p.closed) throw new Error('no live poller');
    const e = events & (p.events | 16);
    if (e !== 0) p.callback(0, e);
  }

  /** Wakeups for as long as the socket reads and something is queued (level-triggered). */
  drain(): void {
    for (let i = 0; i < 10_000; i++) {
      const p = this.poller;
      if (p === null || p.closed || (p.events & POLL_READABLE) === 0 || this.inbound.length === 0) return;
      const before = this.inbound.length;
      this.fire();
      if (this.inbound.length === before) return; // end of stream stays queued
    }
  }

  /** fds of pairs made by socketpair(): each end's queue and who is at the other end */
  private readonly ends = new Map<number, PairEnd>();
  /** every poller made, live or closed (`poller` is the last) */
  readonly pollers: FakePoller[] = [];

  /** What fd receives: fd 10's queue is `inbound`, a pair end's its own. */
  private queueOf(fd: number): Inbound[] {
    return fd === this.fd ? this.inbound : (this.ends.get(fd)?.queue ?? []);
  }

  /**
   * One event-loop turn: every live poller whose fd has something it asked for is told, as
   * epoll is level-triggered (readable: something queued, end of stream included; hang-up: the
   * peer shut down writing or closed; writable: the send buffer has room).
   */
  pollAll(): void {
    for (const p of this.pollers) {
      if (p.closed || p.events === 0) continue;
      const end = this.ends.get(p.fd);
      let ready = this.queueOf(p.fd).length > 0 ? POLL_READABLE : 0;
      if (end?.queue.some((item) => item.kind === 'end')) ready |= POLL_HANGUP;
      if (end === undefined || end.unreadBytes < this.sndbuf) ready |= POLL_WRITABLE;
      const e = ready & p.events;
      if (e !== 0) p.callback(0, e);
    }
  }

  private socketpair(): [number, number] {
    // the first pair is the socket under test and its peer; later ones get fresh numbers
    const a = this.ends.has(this.fd) ? this.nextFd++ : this.fd;
    const b = this.ends.has(this.fd) ? this.nextFd++ : this.fd + 1;
    const endA: PairEnd = { fd: a, queue: a === this.fd ? this.inbound : [], peer: null, unreadBytes: 0 };
    const endB: PairEnd = { fd: b, queue: [], peer: endA, unreadBytes: 0 };
    endA.peer = endB;
    this.ends.set(a, endA);
    this.ends.set(b, endB);
    return [a, b];
  }

  /** No more from fd: its peer reads end of stream after what is queued. */
  private endTowardsPeer(fd: number): void {
    const peer = this.ends.get(fd)?.peer;
    if (peer && !peer.queue.some((item) => item.kind === 'end')) peer.queue.push({ kind: 'end' });
  }

  private closeEnd(fd: number): void {
    if (fd === this.fd) this.closed = true;
    for (const p of this.pollers) if (p.fd === fd) p.close();
    const end = this.ends.get(fd);
    if (end === undefined) return;
    this.endTowardsPeer(fd);
    if (end.peer) end.peer.peer = null;
    this.ends.delete(fd);
  }

  /** sendmsg of one message on fd as the kernel does it: 'sent', 'full' (EAGAIN), or throws. */
  private sendOne(fd: number, data: Buffer, fds: number[], sentBefore: number): 'sent' | 'full' {
    // the kernel's checks, in its order: size against SO_SNDBUF, then the peer, then room
    if (data.length > this.sndbuf - SNDBUF_OVERHEAD) throw sendError('EMSGSIZE', sentBefore);
    const end = this.ends.get(fd);
    if (end !== undefined && end.peer === null) throw sendError('EPIPE', sentBefore);
    if (end?.peer) {
      // a send waits while what the peer has not read fills the sender's SO_SNDBUF
      if (end.unreadBytes >= this.sndbuf) return 'full';
      end.unreadBytes += data.length + SNDBUF_OVERHEAD;
      // the receiver gets its own descriptors for the fds in flight
      end.peer.queue.push({ kind: 'message', data, fds: fds.map(() => this.newFd()), from: end });
    }
    return 'sent';
  }

  backend(): SeqpacketBackend {
    return {
      clock: this.clock,
      SCM_MAX_FD: 253,
      socket: () => this.fd,
      socketpair: () => this.socketpair(),
      close: (fd) => this.closeEnd(fd),
      bind: () => {},
      connect: () => true,
      listen: () => {},
      accept: () => -1,
      shutdown: (fd, how) => {
        if (fd === this.fd) this.shutdownCalls++;
        if (how === SHUT_WR) this.endTowardsPeer(fd);
      },
      setsockoptInt: () => {},
      getsockoptInt: (_fd, _level, name) => (name === 7 ? this.sndbuf : 0),
      createPoller: (fd, cb) => {
        this.poller = new FakePoller(fd, cb);
        this.pollers.push(this.poller);
        return this.poller;
      },
      peerCredentials: () => ({ pid: 42, uid: 1000, gid: 1000 }),
      duplicateFds: (fds) => fds.map(() => this.newFd()),
      adoptFd: () => {},
      releaseFds: (fds, start, count) => {
        for (let i = start; i < start + count; i++) this.releasedFds.push(fds[i]!);
      },
      closeFd: (fd) => this.closeEnd(fd),
      closeFds: (fds, start, count) => {
        for (let i = start; i < start + count; i++) {
          if (!this.openFds.delete(fds[i]!)) throw new Error(`closing fd ${fds[i]} that is not open`);
          this.closedFds.push(fds[i]!);
        }
      },
      sendMessages: (fd, data, desc, fds, start, count) => {
        let n = 0;
        for (; n < count; n++) {
          const i = (start + n) * 4;
          const message = Buffer.from(data.subarray(desc[i]!, desc[i]! + desc[i + 1]!));
          const passed = Array.from(fds.subarray(desc[i + 2]!, desc[i + 2]! + desc[i + 3]!));
          if (fd === this.fd) {
            // the socket under test: failures and room as the test sets them
            if (this.sendError !== null && this.sent.length === this.sendError.after) throw sendError(this.sendError.code, n);
            if (this.sendRoom <= 0) break;
          }
          if (this.sendOne(fd, message, passed, n) === 'full') break;
          if (fd === this.fd) {
            this.sendRoom--;
            this.sent.push({ data: message, fds: passed });
          }
        }
        return n;
      },
      setReceiveArea: (meta, fds) => {
        this.area = { meta, fds };
      },
      recvMessages: (fd, buf, offset, maxSize, maxMessages) => {
        const { meta, fds: fdsOut } = this.area!;
        const inbound = this.queueOf(fd);
        this.recvCalls++;
        const batch: string[] = [];
        this.batches.push(batch);
        let pos = offset;
        let got = 0;
        let fdsUsed = 0;
        while (got < maxMessages && buf.length - pos >= maxSize && inbound.length > 0) {
          const item = inbound[0]!;
          const m = got * 5;
          if (item.kind === 'end') {
            // end of stream stays: every later read sees it too
            meta.set([pos, 0, 4, fdsUsed, 0], m);
            got++;
            break;
          }
          inbound.shift();
          if (item.kind === 'error') {
            meta.set([pos, item.errno, 8, fdsUsed, 0], m);
            got++;
            break;
          }
          if (item.from) item.from.unreadBytes -= item.data.length + SNDBUF_OVERHEAD;
          batch.push(item.data.toString());
          for (const fd of item.fds) fdsOut[fdsUsed++] = fd;
          const real = item.data.length;
          const stored = Math.min(real, maxSize, item.truncatedTo ?? Infinity);
          item.data.copy(buf, pos, 0, stored);
          const flags = (stored < real ? 1 : 0) | (item.fdsTruncated ? 2 : 0);
          meta.set([pos, real, flags, fdsUsed - item.fds.length, item.fds.length], m);
          pos += stored;
          got++;
          // as the addon: a damaged message ends the batch, so nothing behind it is taken
          if (flags !== 0) break;
        }
        return got;
      },
    };
  }
}

/** One end of a pair made by socketpair(). */
interface PairEnd {
  fd: number;
  queue: Inbound[];
  /** null once the peer closed */
  peer: PairEnd | null;
  /** bytes (with the kernel's per-message overhead) this end sent that the peer has not read */
  unreadBytes: number;
}

/** A failed sendmsg as the addon throws it: code, errno, syscall, and how many went before. */
function sendError(code: string, sent: number): Error {
  const errno = (osConstants.errno as Record<string, number>)[code] ?? 0;
  return Object.assign(new Error(`${code}: failed, sendmsg`), { code, errno, syscall: 'sendmsg', sent });
}
