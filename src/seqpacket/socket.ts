// SeqpacketSocket: one connected AF_UNIX SOCK_SEQPACKET socket as an EventEmitter and an
// async iterable of messages. The state machine lives here; the system calls are the
// backend's (native/stream_io.cc in production, a fake in unit tests).
//
// Reading: only while someone consumes ('message' listeners or an iterator) and the socket
// is not paused; at most READ_ROUNDS batches per readable event, so one busy peer cannot
// starve the loop. Writing: the first send() of a tick goes out at once, later ones queue
// and leave together (a microtask, or a full batch); EAGAIN arms the writable poll; 'drain'
// once the queue is empty after send() returned false.
import { EventEmitter } from 'node:events';
import { getSystemErrorName } from 'node:util';

import { optionRangeError, optionTypeError } from '../errors.js';
import {
  POLL_ERROR,
  POLL_HANGUP,
  POLL_READABLE,
  POLL_WRITABLE,
  RECV_MESSAGE_END,
  RECV_MESSAGE_ERROR,
  RECV_MESSAGE_FDS_TRUNCATED,
  RECV_MESSAGE_STRIDE,
  RECV_MESSAGE_TRUNCATED,
  type Poller,
} from '../native.js';
import { SHUT_WR, SNDBUF_OVERHEAD, SOL_SOCKET, SO_ERROR, SO_PASSCRED, SO_SNDBUF, type SeqpacketBackend } from './backend.js';
import { abortError, fdsTruncatedError, messageSizeError, messageTooLargeError, systemError, writeAfterEndError } from './errors.js';
import { closeMessageFds, handOut } from './fd-ownership.js';
import { MessageIterator, type IteratorHost, type MessageInfo, type SeqpacketMessage } from './message-iterator.js';
import type { ResolvedSocketOptions } from './options.js';
import { RECEIVE_BATCH, isReusedMemory, receiveArea } from './receive-area.js';
import { SendQueue } from './send-queue.js';

export type { MessageInfo, SeqpacketMessage } from './message-iterator.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface SendOptions {
  /** fds to pass (SCM_RIGHTS, at most 253). They are duplicated: close yours when you like. */
  fds?: readonly number[];
}

/** Batches read per readable event before yielding to the loop. */
const READ_ROUNDS = 4;
/** Most lone-message wakeups between two probes for more (see readBatches). */
const MAX_PROBE_INTERVAL = 16;
const FDS_PER_MESSAGE_MAX = 253;

/** Internal entry points for the connect/pair/server modules (not part of the public API). */
export const kOpen = Symbol('seqpacket.open');

export interface SocketInit {
  backend: SeqpacketBackend;
  options: ResolvedSocketOptions;
  /** the socket's fd, or -1 when it could not be created (an error follows) */
  fd: number;
  /** true: connect() has yet to succeed (connectSeqpacket); false: connected already */
  connecting: boolean;
}

export interface SeqpacketSocket {
  on(event: 'connect', listener: () => void): this;
  on(event: 'message', listener: (data: Buffer, info: MessageInfo) => void): this;
  on(event: 'drain' | 'end', listener: () => void): this;
  on(event: 'close', listener: (hadError: boolean) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'connect', listener: () => void): this;
  once(event: 'message', listener: (data: Buffer, info: MessageInfo) => void): this;
  once(event: 'drain' | 'end', listener: () => void): this;
  once(event: 'close', listener: (hadError: boolean) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

export class SeqpacketSocket extends EventEmitter implements IteratorHost {
  private readonly backend: SeqpacketBackend;
  private readonly opts: ResolvedSocketOptions;
  private fd: number;
  private poller: Poller | null = null;
  private pollMask = 0;
  private connectingState: boolean;
  private destroyedState = false;
  private readEnded = false;
  private endEmitted = false;
  /** the peer hung up while nobody was reading (see updatePoll) */
  private peerHungUp = false;
  private writeEnded = false;
  private writeShut = false;
  private closeWhenFlushed = false;
  private blocked = false;
  private needDrain = false;
  private flushScheduled = false;
  private paused = false;
  private iterator: MessageIterator | null = null;
  private pending: SeqpacketMessage[] = [];
  private deliverScheduled = false;
  private peer: PeerCredentials | null = null;
  private sendLimit = -1;
  private refed = true;
  /** messages the next read asks for: 1 for request/response, growing under floods */
  private readBudget = 1;
  /** wakeups that found a lone message since the last probe for more */
  private loneReads = 0;
  /** probe for more after this many lone reads; doubles while probes find nothing */
  private probeEvery = 1;
  /** the current read is a probe: did anything wait behind the lone message? */
  private probing = false;
  private readonly queue = new SendQueue();
  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    if (!this.blocked) this.flushNow(true);
  };
  private readonly onAbort = (): void => {
    this.destroy(abortError(this.opts.signal?.reason));
  };
  private readonly onPoll = (status: number, events: number): void => this.polled(status, events);

  /** Sockets come from connectSeqpacket(), seqpacketPair(), a server, or seqpacketFromFd(). */
  constructor(init: SocketInit) {
    super();
    if (init === null || typeof init !== 'object' || typeof init.backend !== 'object' || typeof init.options !== 'object') {
      throw new TypeError('SeqpacketSocket is not made directly: use connectSeqpacket(), seqpacketPair(), a SeqpacketServer or seqpacketFromFd()');
    }
    this.backend = init.backend;
    this.opts = init.options;
    this.fd = init.fd;
    this.connectingState = init.connecting;
    const signal = this.opts.signal;
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(this.onAbort);
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (init.fd >= 0) this.backend.adoptFd(init.fd);
    if (init.fd >= 0 && !init.connecting) this[kOpen](false);
  }

  /** Connected: set up credentials passing, the poller and whatever was queued. */
  [kOpen](emitConnect: boolean): void {
    if (this.destroyedState) return;
    const fd = this.fd;
    this.connectingState = false;
    try {
      // SO_PASSCRED makes the kernel tag every message, so an empty one is told from EOF
      this.backend.setsockoptInt(fd, SOL_SOCKET, SO_PASSCRED, 1);
      if (this.opts.sendBufferSize !== undefined) this.backend.setsockoptInt(fd, SOL_SOCKET, SO_SNDBUF, this.opts.sendBufferSize);
      this.sendLimit = -1; // read the limit again now that sendBufferSize applies
      this.peer = this.backend.peerCredentials(fd);
      this.poller = this.backend.createPoller(fd, this.onPoll);
      if (!this.refed) this.poller.unref();
    } catch (e) {
      this.destroy(systemError(e, 'cannot set up the socket'));
      return;
    }
    if (emitConnect) this.emit('connect');
    if (this.destroyedState) return;
    if (!this.queue.empty) this.flushNow(true);
    else if (this.writeEnded) this.maybeShutdown();
    this.updatePoll();
  }

  /** The peer's pid, uid and gid as they were when it connected (null while connecting). */
  get peerCredentials(): PeerCredentials | null {
    return this.peer;
  }

  get connecting(): boolean {
    return this.connectingState && !this.destroyedState;
  }

  get destroyed(): boolean {
    return this.destroyedState;
  }

  /** Bytes accepted by send() that the kernel has not taken yet. */
  get writableLength(): number {
    return this.queue.bytes;
  }

  /** Whether send() would still return true. */
  get writable(): boolean {
    return !this.destroyedState && !this.writeEnded && this.queue.bytes < this.opts.writableHighWaterMark;
  }

  get maxMessageSize(): number {
    return this.opts.maxMessageSize;
  }

  /** The socket's fd (-1 once closed). Do not read or write it behind the socket's back. */
  get fileDescriptor(): number {
    return this.fd;
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * Queues one message (boundaries are kept; an empty message is allowed). Returns false when
   * the queue is at or over writableHighWaterMark: wait for 'drain'. Throws TypeError/RangeError
   * for bad arguments, EMSGSIZE for a message larger than SO_SNDBUF allows, EBADF for a bad fd.
   */
  send(data: Buffer | Uint8Array | string, options?: SendOptions): boolean {
    let length: number;
    if (typeof data === 'string') length = Buffer.byteLength(data);
    else if (data instanceof Uint8Array) length = data.byteLength;
    else throw optionTypeError('data', 'a Buffer, Uint8Array or string', data);
    if (this.destroyedState) return false;
    if (this.writeEnded) {
      process.nextTick(() => this.destroy(writeAfterEndError()));
      return false;
    }
    const limit = this.maxSendSize();
    if (length > limit) throw messageSizeError(length, limit + SNDBUF_OVERHEAD, SNDBUF_OVERHEAD);
    let fds: number[] | null = null;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw optionTypeError('options', 'an object', options);
      const want = options.fds;
      if (want !== undefined) {
        if (!Array.isArray(want)) throw optionTypeError('fds', 'an array of file descriptors', want);
        if (want.length > FDS_PER_MESSAGE_MAX) throw optionRangeError('fds', `at most ${FDS_PER_MESSAGE_MAX} file descriptors`, want);
        want.forEach((fd, i) => {
          if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
            throw optionRangeError(`fds[${i}]`, 'a file descriptor (a non-negative integer)', fd);
          }
        });
        if (want.length > 0) fds = this.backend.duplicateFds(want);
      }
    }
    this.queue.push(data, length, fds);
    if (!this.connectingState && !this.blocked) {
      if (!this.flushScheduled) {
        // the first send of a tick leaves at once (a reply reaches the peer sooner); the ones
        // after it in the same tick are batched by the flush this schedules
        this.flushScheduled = true;
        queueMicrotask(this.flushTask);
        this.flushNow(false);
      } else if (this.queue.backlogged) this.flushNow(false);
    }
    if (this.queue.bytes < this.opts.writableHighWaterMark || this.destroyedState) return !this.destroyedState;
    this.needDrain = true;
    return false;
  }

  /** The largest message SO_SNDBUF allows (read once, after sendBufferSize was applied). */
  private maxSendSize(): number {
    if (this.sendLimit < 0) {
      // no socket, or not connected yet (sendBufferSize is applied on connect): the flush checks
      if (this.fd < 0 || this.connectingState) return Number.MAX_SAFE_INTEGER;
      this.sendLimit = this.backend.getsockoptInt(this.fd, SOL_SOCKET, SO_SNDBUF) - SNDBUF_OVERHEAD;
    }
    return this.sendLimit;
  }

  private flushNow(canEmitDrain: boolean): void {
    if (this.fd < 0 || this.destroyedState || this.connectingState) return;
    let drained: boolean;
    try {
      drained = this.queue.flush(this.backend, this.fd);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const sndbuf = this.backend.getsockoptInt(this.fd, SOL_SOCKET, SO_SNDBUF);
      this.destroy(code === 'EMSGSIZE' ? messageSizeError(null, sndbuf, SNDBUF_OVERHEAD) : systemError(e, 'send failed'));
      return;
    }
    if (!drained) {
      if (!this.blocked) {
        this.blocked = true;
        this.updatePoll();
      }
      return;
    }
    if (this.blocked) {
      this.blocked = false;
      this.updatePoll();
    }
    if (this.needDrain) {
      if (canEmitDrain) {
        this.needDrain = false;
        this.emit('drain');
      } else {
        process.nextTick(() => {
          if (this.needDrain && this.queue.empty && !this.destroyedState) {
            this.needDrain = false;
            this.emit('drain');
          }
        });
      }
    }
    if (this.writeEnded) this.maybeShutdown();
  }

  /**
   * No more sends: queued messages go out, then the peer sees end of stream. Reading goes
   * on until the peer ends too, then the socket closes.
   */
  end(): this {
    if (this.writeEnded || this.destroyedState) return this;
    this.writeEnded = true;
    this.maybeShutdown();
    return this;
  }

  /** Sends what is queued, then closes without waiting for the peer's end. */
  close(): this {
    if (this.destroyedState) return this;
    this.closeWhenFlushed = true;
    if (this.writeShut) this.destroy();
    else this.end();
    return this;
  }

  private maybeShutdown(): void {
    if (!this.writeEnded || this.writeShut || this.destroyedState || this.connectingState || !this.queue.empty) return;
    this.writeShut = true;
    try {
      this.backend.shutdown(this.fd, SHUT_WR);
    } catch (e) {
      this.destroy(systemError(e, 'shutdown failed'));
      return;
    }
    if (this.closeWhenFlushed || this.endEmitted || (this.peerHungUp && !this.hasConsumer())) this.destroy();
  }

  // ---- receiving -----------------------------------------------------------------------

  /** Stops reading: messages stay in the kernel (the peer's send() eventually returns false). */
  pause(): this {
    this.paused = true;
    this.updatePoll();
    return this;
  }

  resume(): this {
    this.paused = false;
    this.consumerChanged();
    return this;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'message') this.consumerChanged();
    return this;
  }

  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  override prependListener(event: string | symbol, listener: (...args: any[]) => void): this {
    super.prependListener(event, listener);
    if (event === 'message') this.consumerChanged();
    return this;
  }

  /**
   * An async iterator of messages. With destroyOnReturn (the default, as for streams),
   * leaving the loop early destroys the socket; without it the socket stays usable.
   */
  messages(options: { destroyOnReturn?: boolean } = {}): AsyncIterableIterator<SeqpacketMessage> {
    if (this.opts.onread !== null) throw new Error('this socket delivers its messages to onread, not to an iterator');
    if (this.iterator !== null && this.iterator.active) throw new Error('this socket already has an active message iterator');
    const it = new MessageIterator(this, this.opts.readableHighWaterMark, options.destroyOnReturn !== false);
    this.iterator = it;
    if (this.destroyedState || (this.endEmitted && this.pending.length === 0)) it.end();
    else this.consumerChanged();
    return it;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SeqpacketMessage> {
    return this.messages();
  }

  /** IteratorHost */
  iteratorPulled(): void {
    if (this.pollMask & POLL_READABLE) return;
    if (this.pending.length > 0) this.scheduleDeliver();
    else this.updatePoll();
  }

  /** IteratorHost */
  iteratorReturned(it: MessageIterator, destroy: boolean): void {
    if (this.iterator === it) this.iterator = null;
    if (destroy) this.destroy();
    else this.updatePoll();
  }

  /** IteratorHost */
  closeMessageFds(messages: readonly SeqpacketMessage[], from: number): void {
    closeMessageFds(this.backend, messages, from);
  }

  /** IteratorHost */
  handOut(message: SeqpacketMessage): void {
    handOut(this.backend, message);
  }

  private hasConsumer(): boolean {
    return this.opts.onread !== null || (this.iterator !== null && this.iterator.active) || this.listenerCount('message') > 0;
  }

  private wantRead(): boolean {
    return (
      !this.paused &&
      !this.readEnded &&
      !this.destroyedState &&
      !this.connectingState &&
      this.pending.length === 0 &&
      this.hasConsumer() &&
      !(this.iterator !== null && this.iterator.active && this.iterator.full && this.listenerCount('message') === 0)
    );
  }

  private consumerChanged(): void {
    if (this.destroyedState) return;
    if (this.pending.length > 0 || (this.readEnded && !this.endEmitted)) this.scheduleDeliver();
    else this.updatePoll();
  }

  /**
   * Readable while someone consumes. With no consumer at all, only a hang-up is watched: a
   * socket that has ended its side then closes when the peer goes (its unread messages go
   * with it), instead of lingering until someone reads.
   */
  private updatePoll(): void {
    const p = this.poller;
    if (p === null) return;
    let mask = this.blocked ? POLL_WRITABLE : 0;
    if (this.wantRead()) mask |= POLL_READABLE;
    else if (!this.paused && !this.peerHungUp && !this.readEnded && this.pending.length === 0 && !this.hasConsumer()) mask |= POLL_HANGUP;
    if (mask === this.pollMask) return;
    this.pollMask = mask;
    try {
      if (mask === 0) p.stop();
      else p.start(mask);
    } catch (e) {
      this.destroy(systemError(e, 'poll failed'));
    }
  }

  private polled(status: number, events: number): void {
    if (this.destroyedState) return;
    if (status < 0) {
      this.destroy(pollError(status));
      return;
    }
    // a hang-up or error while we wait to write is reported by the send itself
    if (this.blocked && events !== 0) this.flushNow(true);
    if (this.destroyedState) return;
    if ((this.pollMask & POLL_READABLE) !== 0) {
      if (this.wantRead()) this.readBatches();
    } else if ((events & (POLL_HANGUP | POLL_ERROR | POLL_READABLE)) !== 0 && (this.pollMask & POLL_HANGUP) !== 0) {
      this.peerHungUp = true;
      if (this.writeShut) {
        this.destroy(); // both sides are done; had we still queued sends, maybeShutdown decides
        return;
      }
      if ((events & POLL_ERROR) !== 0) {
        // a pending socket error (ECONNRESET) would wake us forever: take it now
        const errno = this.backend.getsockoptInt(this.fd, SOL_SOCKET, SO_ERROR);
        if (errno !== 0) {
          this.destroy(recvError(errno));
          return;
        }
      }
    }
    this.updatePoll();
  }

  private readBatches(): void {
    const area = receiveArea();
    area.attach(this.backend);
    const max = this.opts.maxMessageSize;
    const onread = this.opts.onread;
    for (let round = 0; round < READ_ROUNDS; round++) {
      // a handler may have paused or destroyed the socket, or filled an iterator
      if (round > 0 && !this.wantRead()) return;
      // onread: one reused buffer; otherwise fresh memory the messages keep
      let slab: Buffer;
      let start: number;
      if (onread !== null) {
        slab = onread.buffer ?? area.reusable(max);
        start = 0;
      } else {
        area.reserve(max);
        slab = area.slab;
        start = area.offset;
      }
      const want = this.readBudget;
      let n: number;
      try {
        n = this.backend.recvMessages(this.fd, slab, start, max, want);
      } catch (e) {
        this.destroy(systemError(e, 'receive failed'));
        return;
      }
      if (n === 0) {
        if (this.probing) this.probeEvery = Math.min(MAX_PROBE_INTERVAL, this.probeEvery * 2);
        this.probing = false;
        this.readBudget = 1;
        return;
      }
      if (this.probing) {
        this.probing = false;
        this.probeEvery = 1; // messages were queued behind the lone one: a flood, read on
      }
      const meta = area.meta;
      const ab = slab.buffer;
      const base = slab.byteOffset;
      const messages: SeqpacketMessage[] = [];
      let count = 0;
      let end = start;
      let fdsEnd = 0;
      let eof = false;
      let failure: Error | null = null;
      for (let k = 0; k < n; k++) {
        const m = k * RECV_MESSAGE_STRIDE;
        const off = meta[m]!;
        const len = meta[m + 1]!;
        const flags = meta[m + 2]!;
        const fdCount = meta[m + 4]!;
        if (fdCount > 0) fdsEnd = meta[m + 3]! + fdCount;
        if (flags === 0) {
          const fds = fdCount > 0 ? Array.from(area.fds.subarray(meta[m + 3]!, fdsEnd)) : [];
          messages.push({ data: Buffer.from(ab, base + off, len), fds });
          count++;
          end = off + len;
          continue;
        }
        // a terminal entry (end, error, truncation): its fds go nowhere, it ends the batch
        if (fdCount > 0) this.backend.closeFds(area.fds, meta[m + 3]!, fdCount);
        if (flags & RECV_MESSAGE_END) eof = true;
        else if (flags & RECV_MESSAGE_ERROR) failure = recvError(len);
        else if (flags & RECV_MESSAGE_TRUNCATED) failure = messageTooLargeError(len, max);
        else if (flags & RECV_MESSAGE_FDS_TRUNCATED) failure = fdsTruncatedError(fdCount);
        else failure = new Error(`unknown receive flags ${flags}`);
        break;
      }
      if (onread === null) area.consume(end);
      const delivered = count === 0 || this.deliver(messages, 0);
      if (this.destroyedState) return;
      if (failure !== null) {
        // errors are not held back behind paused messages
        this.destroy(failure);
        return;
      }
      if (eof) {
        this.onEndOfStream();
        return;
      }
      if (!delivered) return;
      if (n < want) {
        // fewer than asked: the queue ran dry (EAGAIN), unless the slab or the fd area ran
        // out of room; ask for about as many next time
        if (slab.length - end >= max && fdsEnd + FDS_PER_MESSAGE_MAX <= area.fds.length) {
          this.readBudget = Math.max(1, n);
          return;
        }
        continue;
      }
      if (want === 1) {
        // a lone message, as in request/response: back to the loop without the recvmsg that
        // would most likely say EAGAIN; only now and then probe whether more was waiting
        if (++this.loneReads < this.probeEvery) return;
        this.loneReads = 0;
        this.probing = true;
      }
      this.readBudget = Math.min(RECEIVE_BATCH, want * 4);
    }
  }

  /**
   * Hands messages[from..] to the consumers. Returns false when it stopped early: the socket
   * was destroyed (the rest's fds closed), or paused / left without consumers (the rest kept
   * in pending). A throwing listener leaves the rest pending and propagates.
   */
  private deliver(messages: SeqpacketMessage[], from: number): boolean {
    let i = from;
    try {
      const onread = this.opts.onread;
      for (; i < messages.length; i++) {
        // a handler may have destroyed or paused the socket, or left it without consumers
        if (this.destroyedState) {
          closeMessageFds(this.backend, messages, i);
          i = messages.length;
          return false;
        }
        if (this.paused) break;
        const m = messages[i]!;
        if (onread !== null) {
          if (m.fds.length > 0) handOut(this.backend, m);
          if (onread.callback.call(this, m.data, m) === false) this.pause();
          continue;
        }
        const it = this.iterator;
        const iterating = it !== null && it.active;
        if (iterating) {
          if (it.full && this.listenerCount('message') === 0) break;
          it.push(m);
        }
        if (m.fds.length > 0 && this.listenerCount('message') > 0) handOut(this.backend, m);
        // emit() says whether anyone listened: a message nobody took waits for the next consumer
        if (!this.emit('message', m.data, m) && !iterating) break;
      }
      if (i < messages.length) {
        this.keepPending(messages, i);
        i = messages.length;
        return false;
      }
      return true;
    } finally {
      if (i < messages.length) {
        // a listener threw: nothing is lost, the rest is delivered on the next tick
        this.keepPending(messages, i + 1);
        this.scheduleDeliver();
      }
    }
  }

  private keepPending(messages: SeqpacketMessage[], from: number): void {
    if (from >= messages.length) return;
    // onread data lives in a buffer the next read overwrites: what waits gets its own copy
    const onread = this.opts.onread;
    if (onread !== null) {
      for (let k = from; k < messages.length; k++) {
        const d = messages[k]!.data;
        if (isReusedMemory(d)) messages[k]!.data = Buffer.from(d);
      }
    }
    if (this.pending.length === 0 && from === 0) this.pending = messages;
    else for (let k = from; k < messages.length; k++) this.pending.push(messages[k]!);
  }

  private scheduleDeliver(): void {
    if (this.deliverScheduled) return;
    this.deliverScheduled = true;
    process.nextTick(() => {
      this.deliverScheduled = false;
      this.deliverPending();
    });
  }

  private deliverPending(): void {
    if (this.destroyedState) return;
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (!this.deliver(batch, 0)) return;
    }
    if (this.readEnded && !this.endEmitted) this.onEndOfStream();
    else this.updatePoll();
  }

  private onEndOfStream(): void {
    this.readEnded = true;
    if (this.endEmitted || this.destroyedState) return;
    if (this.pending.length > 0) return; // 'end' follows the last message
    this.endEmitted = true;
    const it = this.iterator;
    if (it !== null) it.end();
    this.updatePoll();
    this.emit('end');
    if (this.destroyedState) return;
    if (this.writeShut) this.destroy();
    else if (!this.opts.allowHalfOpen) this.end();
  }

  // ---- lifetime ------------------------------------------------------------------------

  /**
   * Closes the socket now: queued sends are dropped, fds nobody took are closed, an
   * iterator ends (or throws err). Emits 'error' (if err) and 'close'. Idempotent.
   */
  destroy(err?: Error): this {
    if (this.destroyedState) return this;
    this.destroyedState = true;
    this.connectingState = false;
    const p = this.poller;
    this.poller = null;
    this.pollMask = 0;
    if (p !== null) p.close();
    if (this.fd >= 0) {
      try {
        this.backend.closeFd(this.fd);
      } catch {
        // EBADF/EIO on close: the fd is gone either way
      }
      this.fd = -1;
    }
    this.queue.discard(this.backend);
    if (this.pending.length > 0) {
      closeMessageFds(this.backend, this.pending, 0);
      this.pending = [];
    }
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    const it = this.iterator;
    let iteratorTookError = false;
    if (it !== null && it.active) {
      if (err !== undefined) {
        it.abort(err);
        iteratorTookError = true;
      } else if (this.endEmitted) it.end();
      else it.abort(undefined);
    }
    process.nextTick(() => {
      if (err !== undefined && (!iteratorTookError || this.listenerCount('error') > 0)) this.emit('error', err);
      this.emit('close', err !== undefined);
    });
    return this;
  }

  /** Lets the process exit while this socket is open. */
  unref(): this {
    this.refed = false;
    this.poller?.unref();
    return this;
  }

  ref(): this {
    this.refed = true;
    this.poller?.ref();
    return this;
  }

  get referenced(): boolean {
    return this.refed;
  }
}

function pollError(status: number): Error {
  const code = safeErrorName(status);
  return Object.assign(new Error(`${code}: polling the socket failed`), { code, errno: -status, syscall: 'uv_poll' });
}

function recvError(errno: number): Error {
  const code = safeErrorName(-errno);
  const what = code === 'ECONNRESET' ? 'the peer closed with messages it had not read' : 'recvmsg failed';
  return Object.assign(new Error(`${code}: ${what}`), { code, errno, syscall: 'recvmsg' });
}

function safeErrorName(negErrno: number): string {
  try {
    return getSystemErrorName(negErrno);
  } catch {
    return `E${-negErrno}`;
  }
}
