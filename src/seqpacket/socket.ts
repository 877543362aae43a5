// SeqpacketSocket: one connected AF_UNIX SOCK_SEQPACKET socket as an EventEmitter and an
// async iterable of messages. This file is its lifecycle: connecting, open, destroyed; the
// read side (open, the peer's end received, 'end' emitted) and the write side (open, ending,
// shut); sending; and which poll events to wait for. Reading batches is reader.ts's,
// handing messages to consumers delivery.ts's; the system calls are the backend's
// (native/stream_io.cc in production, a fake in unit tests).
//
// Reading: only while someone consumes ('message' listeners or an iterator) and the socket
// is not paused (reader.ts bounds the work per readable event). Writing: the first send() of
// a tick goes out at once, later ones queue and leave together (a microtask, or a full
// batch); EAGAIN arms the writable poll; 'drain' once the queue is empty after send()
// returned false.
import { EventEmitter } from 'node:events';

import { optionRangeError, optionTypeError } from '../errors.js';
import { POLL_ERROR, POLL_HANGUP, POLL_READABLE, POLL_WRITABLE, type Poller } from '../native.js';
import { SHUT_WR, SNDBUF_OVERHEAD, SOL_SOCKET, SO_ERROR, SO_PASSCRED, SO_SNDBUF, type SeqpacketBackend } from './backend.js';
import { Delivery } from './delivery.js';
import { abortError, messageSizeError, pollError, recvError, withContext, writeAfterEndError } from './errors.js';
import { closeMessageFds, handOut } from './fd-ownership.js';
import { MessageIterator, type IteratorHost, type MessageInfo, type SeqpacketMessage } from './message-iterator.js';
import type { ResolvedSocketOptions } from './options.js';
import { AdaptiveReader, FDS_PER_MESSAGE_MAX, type ReaderHost } from './reader.js';
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

/** The socket as a whole. */
const enum Phase {
  /** connect() has yet to succeed: sends queue */
  Connecting,
  Open,
  /** closed: fd, poller and queues are gone */
  Destroyed,
}

/** Our read side. */
const enum ReadState {
  Open,
  /** the peer's end of stream was read; 'end' waits for the pending messages */
  EndReceived,
  /** 'end' was emitted */
  Ended,
}

/** Our write side. */
const enum WriteState {
  Open,
  /** end() was called: the queue flushes, then SHUT_WR */
  Ending,
  /** close() was called: as Ending, and destroyed once shut */
  Closing,
  /** SHUT_WR is done: the peer has seen our end */
  Shut,
}

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
  private phase: Phase;
  private readState = ReadState.Open;
  private writeState = WriteState.Open;
  /** the peer hung up while nobody was reading (see updatePoll) */
  private peerHungUp = false;
  /** the kernel refused a send (EAGAIN): waiting for POLL_WRITABLE */
  private blocked = false;
  /** send() returned false: 'drain' is owed once the queue empties */
  private needDrain = false;
  /** a microtask will flush what this tick's sends queued */
  private flushScheduled = false;
  private peer: PeerCredentials | null = null;
  private sendLimit = -1;
  private refed = true;
  private readonly queue = new SendQueue();
  private readonly delivery: Delivery;
  private readonly reader: AdaptiveReader;
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
    this.phase = init.connecting ? Phase.Connecting : Phase.Open;
    this.delivery = new Delivery(this, this.backend, this.opts.onread, () => this.pendingDelivered());
    this.reader = new AdaptiveReader(this.readerHost(), this.backend, this.opts);
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
    if (this.phase === Phase.Destroyed) return;
    const fd = this.fd;
    this.phase = Phase.Open;
    try {
      // SO_PASSCRED makes the kernel tag every message, so an empty one is told from EOF
      this.backend.setsockoptInt(fd, SOL_SOCKET, SO_PASSCRED, 1);
      if (this.opts.sendBufferSize !== undefined) this.backend.setsockoptInt(fd, SOL_SOCKET, SO_SNDBUF, this.opts.sendBufferSize);
      this.sendLimit = -1; // read the limit again now that sendBufferSize applies
      this.peer = this.backend.peerCredentials(fd);
      this.poller = this.backend.createPoller(fd, this.onPoll);
      if (!this.refed) this.poller.unref();
    } catch (e) {
      this.destroy(withContext(e, 'cannot set up the socket'));
      return;
    }
    if (emitConnect) this.emit('connect');
    if (this.destroyed) return;
    if (!this.queue.empty) this.flushNow(true);
    else if (this.writeState !== WriteState.Open) this.maybeShutdown();
    this.updatePoll();
  }

  /** The peer's pid, uid and gid as they were when it connected (null while connecting). */
  get peerCredentials(): PeerCredentials | null {
    return this.peer;
  }

  get connecting(): boolean {
    return this.phase === Phase.Connecting;
  }

  get destroyed(): boolean {
    return this.phase === Phase.Destroyed;
  }

  /** Bytes accepted by send() that the kernel has not taken yet. */
  get writableLength(): number {
    return this.queue.bytes;
  }

  /** Whether send() would still return true. */
  get writable(): boolean {
    return this.phase !== Phase.Destroyed && this.writeState === WriteState.Open && this.queue.bytes < this.opts.writableHighWaterMark;
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
    if (this.phase === Phase.Destroyed) return false;
    if (this.writeState !== WriteState.Open) {
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
    if (this.phase === Phase.Open && !this.blocked) {
      if (!this.flushScheduled) {
        // the first send of a tick leaves at once (a reply reaches the peer sooner); the ones
        // after it in the same tick are batched by the flush this schedules
        this.flushScheduled = true;
        queueMicrotask(this.flushTask);
        this.flushNow(false);
      } else if (this.queue.backlogged) this.flushNow(false);
    }
    if (this.queue.bytes < this.opts.writableHighWaterMark || this.destroyed) return !this.destroyed;
    this.needDrain = true;
    return false;
  }

  /** The largest message SO_SNDBUF allows (read once, after sendBufferSize was applied). */
  private maxSendSize(): number {
    if (this.sendLimit < 0) {
      // no socket, or not connected yet (sendBufferSize is applied on connect): the flush checks
      if (this.fd < 0 || this.phase === Phase.Connecting) return Number.MAX_SAFE_INTEGER;
      this.sendLimit = this.backend.getsockoptInt(this.fd, SOL_SOCKET, SO_SNDBUF) - SNDBUF_OVERHEAD;
    }
    return this.sendLimit;
  }

  private flushNow(canEmitDrain: boolean): void {
    if (this.fd < 0 || this.phase !== Phase.Open) return;
    let drained: boolean;
    try {
      drained = this.queue.flush(this.backend, this.fd);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const sndbuf = this.backend.getsockoptInt(this.fd, SOL_SOCKET, SO_SNDBUF);
      this.destroy(code === 'EMSGSIZE' ? messageSizeError(null, sndbuf, SNDBUF_OVERHEAD) : withContext(e, 'send failed'));
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
          if (this.needDrain && this.queue.empty && !this.destroyed) {
            this.needDrain = false;
            this.emit('drain');
          }
        });
      }
    }
    if (this.writeState !== WriteState.Open) this.maybeShutdown();
  }

  /**
   * No more sends: queued messages go out, then the peer sees end of stream. Reading goes
   * on until the peer ends too, then the socket closes.
   */
  end(): this {
    if (this.writeState !== WriteState.Open || this.destroyed) return this;
    this.writeState = WriteState.Ending;
    this.maybeShutdown();
    return this;
  }

  /** Sends what is queued, then closes without waiting for the peer's end. */
  close(): this {
    if (this.destroyed) return this;
    if (this.writeState === WriteState.Shut) return this.destroy();
    const wasOpen = this.writeState === WriteState.Open;
    this.writeState = WriteState.Closing;
    if (wasOpen) this.maybeShutdown(); // otherwise the flush under way shuts and closes
    return this;
  }

  /** Ending or closing and nothing left to send: SHUT_WR, and close if nothing else will come. */
  private maybeShutdown(): void {
    const ws = this.writeState;
    if ((ws !== WriteState.Ending && ws !== WriteState.Closing) || this.phase !== Phase.Open || !this.queue.empty) return;
    this.writeState = WriteState.Shut;
    try {
      this.backend.shutdown(this.fd, SHUT_WR);
    } catch (e) {
      this.destroy(withContext(e, 'shutdown failed'));
      return;
    }
    if (ws === WriteState.Closing || this.readState === ReadState.Ended || (this.peerHungUp && !this.delivery.hasConsumer())) this.destroy();
  }

  // ---- receiving -----------------------------------------------------------------------

  /** Stops reading: messages stay in the kernel (the peer's send() eventually returns false). */
  pause(): this {
    this.delivery.paused = true;
    this.updatePoll();
    return this;
  }

  resume(): this {
    this.delivery.paused = false;
    this.consumerChanged();
    return this;
  }

  get isPaused(): boolean {
    return this.delivery.paused;
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
    const d = this.delivery;
    if (d.iterator !== null && d.iterator.active) throw new Error('this socket already has an active message iterator');
    const it = new MessageIterator(this, this.opts.readableHighWaterMark, options.destroyOnReturn !== false);
    d.iterator = it;
    if (this.destroyed || (this.readState === ReadState.Ended && d.pending.length === 0)) it.end();
    else this.consumerChanged();
    return it;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SeqpacketMessage> {
    return this.messages();
  }

  /** IteratorHost */
  iteratorPulled(): void {
    if (this.pollMask & POLL_READABLE) return;
    if (this.delivery.pending.length > 0) this.delivery.scheduleDeliver();
    else this.updatePoll();
  }

  /** IteratorHost */
  iteratorReturned(it: MessageIterator, destroy: boolean): void {
    if (this.delivery.iterator === it) this.delivery.iterator = null;
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

  /** What the reader may do to this socket (kept off the public surface). */
  private readerHost(): ReaderHost {
    return {
      destroyed: () => this.destroyed,
      wantRead: () => this.wantRead(),
      deliver: (messages) => this.delivery.deliver(messages, 0),
      endOfStream: () => this.endOfStream(),
      destroy: (err) => this.destroy(err),
    };
  }

  /** Open, the peer has not ended, and a consumer takes messages now. */
  private wantRead(): boolean {
    return this.phase === Phase.Open && this.readState === ReadState.Open && this.delivery.canTakeMore();
  }

  private pendingDelivered(): void {
    if (this.readState === ReadState.EndReceived) this.endOfStream();
    else this.updatePoll();
  }

  private consumerChanged(): void {
    if (this.destroyed) return;
    if (this.delivery.pending.length > 0 || this.readState === ReadState.EndReceived) this.delivery.scheduleDeliver();
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
    else if (!this.peerHungUp && this.readState === ReadState.Open && this.delivery.unattended()) mask |= POLL_HANGUP;
    if (mask === this.pollMask) return;
    this.pollMask = mask;
    try {
      if (mask === 0) p.stop();
      else p.start(mask);
    } catch (e) {
      this.destroy(withContext(e, 'poll failed'));
    }
  }

  private polled(status: number, events: number): void {
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy(pollError(status));
      return;
    }
    // a hang-up or error while we wait to write is reported by the send itself
    if (this.blocked && events !== 0) this.flushNow(true);
    if (this.destroyed) return;
    if ((this.pollMask & POLL_READABLE) !== 0) {
      if (this.wantRead()) this.reader.readBatches(this.fd);
    } else if ((events & (POLL_HANGUP | POLL_ERROR | POLL_READABLE)) !== 0 && (this.pollMask & POLL_HANGUP) !== 0) {
      this.peerHungUp = true;
      if (this.writeState === WriteState.Shut) {
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

  /** The peer's end arrived; 'end' follows the last pending message. */
  private endOfStream(): void {
    if (this.readState === ReadState.Open) this.readState = ReadState.EndReceived;
    if (this.readState === ReadState.Ended || this.destroyed) return;
    if (this.delivery.pending.length > 0) return;
    this.readState = ReadState.Ended;
    const it = this.delivery.iterator;
    if (it !== null) it.end();
    this.updatePoll();
    this.emit('end');
    if (this.destroyed) return;
    if (this.writeState === WriteState.Shut) this.destroy();
    else if (!this.opts.allowHalfOpen) this.end();
  }

  // ---- lifetime ------------------------------------------------------------------------

  /**
   * Closes the socket now: queued sends are dropped, fds nobody took are closed, an
   * iterator ends (or throws err). Emits 'error' (if err) and 'close'. Idempotent.
   */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.phase = Phase.Destroyed;
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
    this.delivery.discard();
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    const it = this.delivery.iterator;
    let iteratorTookError = false;
    if (it !== null && it.active) {
      if (err !== undefined) {
        it.abort(err);
        iteratorTookError = true;
      } else if (this.readState === ReadState.Ended) it.end();
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
