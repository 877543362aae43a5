// Where received messages go: the onread callback, an async iterator, 'message' listeners,
// or, when none of them can take one now (paused, no consumer, a full iterator), the pending
// list, delivered later in order. pause()/resume() of the socket land here (`paused`); the
// `ipc listen` command uses them for backpressure. Which fds become the application's follows
// fd-ownership.ts.
import type { SeqpacketBackend } from './backend.js';
import { closeMessageFds, handOut } from './fd-ownership.js';
import type { MessageInfo, MessageIterator, SeqpacketMessage } from './message-iterator.js';
import type { ResolvedOnRead } from './options.js';
import { isReusedMemory } from './receive-area.js';

/** The socket whose messages these are (`this` of the onread callback). */
export interface DeliveryHost {
  readonly destroyed: boolean;
  emit(event: 'message', data: Buffer, info: MessageInfo): boolean;
  listenerCount(event: 'message'): number;
  /** onread returned false */
  pause(): unknown;
}

export class Delivery {
  /** pause() was called: nothing is delivered (or read) until resume() */
  paused = false;
  /** messages read but not delivered yet (paused, no consumer, a throwing listener) */
  pending: SeqpacketMessage[] = [];
  iterator: MessageIterator | null = null;
  private deliverScheduled = false;

  constructor(
    private readonly host: DeliveryHost,
    private readonly backend: SeqpacketBackend,
    private readonly onread: ResolvedOnRead | null,
    /** the pending messages went out: 'end' may follow, or reading resume */
    private readonly pendingDelivered: () => void,
  ) {}

  /** Someone takes messages: onread, an active iterator, or 'message' listeners. */
  hasConsumer(): boolean {
    return this.onread !== null || (this.iterator !== null && this.iterator.active) || this.host.listenerCount('message') > 0;
  }

  /** Nobody consumes and nothing waits: only the peer hanging up is worth watching. */
  unattended(): boolean {
    return !this.paused && this.pending.length === 0 && !this.hasConsumer();
  }

  /** Whether a read now would be delivered at once (the socket reads only then). */
  canTakeMore(): boolean {
    return (
      !this.paused &&
      this.pending.length === 0 &&
      this.hasConsumer() &&
      !(this.iterator !== null && this.iterator.active && this.iterator.full && this.host.listenerCount('message') === 0)
    );
  }

  /**
   * Hands messages[from..] to the consumers. Returns false when it stopped early: the socket
   * was destroyed (the rest's fds closed), or paused / left without consumers (the rest kept
   * in pending). A throwing listener leaves the rest pending and propagates.
   */
  deliver(messages: SeqpacketMessage[], from: number): boolean {
    const host = this.host;
    let i = from;
    try {
      const onread = this.onread;
      for (; i < messages.length; i++) {
        // a handler may have destroyed or paused the socket, or left it without consumers
        if (host.destroyed) {
          closeMessageFds(this.backend, messages, i);
          i = messages.length;
          return false;
        }
        if (this.paused) break;
        const m = messages[i]!;
        if (onread !== null) {
          if (m.fds.length > 0) handOut(this.backend, m);
          if (onread.callback.call(host, m.data, m) === false) host.pause();
          continue;
        }
        const it = this.iterator;
        const iterating = it !== null && it.active;
        if (iterating) {
          if (it.full && host.listenerCount('message') === 0) break;
          it.push(m);
        }
        if (m.fds.length > 0 && host.listenerCount('message') > 0) handOut(this.backend, m);
        // emit() says whether anyone listened: a message nobody took waits for the next consumer
        if (!host.emit('message', m.data, m) && !iterating) break;
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

  /** Delivers the pending messages on the next tick (once, however often it is asked). */
  scheduleDeliver(): void {
    if (this.deliverScheduled) return;
    this.deliverScheduled = true;
    process.nextTick(() => {
      this.deliverScheduled = false;
      this.deliverPending();
    });
  }

  /** The socket is gone: messages nobody will see close their fds. */
  discard(): void {
    if (this.pending.length === 0) return;
    closeMessageFds(this.backend, this.pending, 0);
    this.pending = [];
  }

  private keepPending(messages: SeqpacketMessage[], from: number): void {
    if (from >= messages.length) return;
    // onread data lives in a buffer the next read overwrites: what waits gets its own copy
    if (this.onread !== null) {
      for (let k = from; k < messages.length; k++) {
        const d = messages[k]!.data;
        if (isReusedMemory(d)) messages[k]!.data = Buffer.from(d);
      }
    }
    if (this.pending.length === 0 && from === 0) this.pending = messages;
    else for (let k = from; k < messages.length; k++) this.pending.push(messages[k]!);
  }

  private deliverPending(): void {
    if (this.host.destroyed) return;
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (!this.deliver(batch, 0)) return;
    }
    this.pendingDelivered();
  }
}
