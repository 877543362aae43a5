// `for await (const { data, fds } of socket)`: a queue between the socket's reads and the
// consumer's pace. When it holds readableHighWaterMark messages the socket stops reading, so
// a slow consumer pushes back on the peer through the kernel's buffers.

export interface MessageInfo {
  /** fds that came with the message (SCM_RIGHTS, close-on-exec): the receiver's to close */
  fds: number[];
}

export interface SeqpacketMessage extends MessageInfo {
  data: Buffer;
}

/** What the iterator needs from its socket. */
export interface IteratorHost {
  /** the queue went below the high-water mark: reading may resume */
  iteratorPulled(): void;
  /** the consumer left (break, return, throw) */
  iteratorReturned(iterator: MessageIterator, destroy: boolean): void;
  /** closes fds of messages nobody will see */
  closeMessageFds(messages: readonly SeqpacketMessage[], from: number): void;
  /** the consumer gets this message: its fds become the application's */
  handOut(message: SeqpacketMessage): void;
}

type Waiter = { resolve: (r: IteratorResult<SeqpacketMessage>) => void; reject: (e: unknown) => void };

export class MessageIterator implements AsyncIterableIterator<SeqpacketMessage> {
  private queue: SeqpacketMessage[] = [];
  private head = 0;
  private waiter: Waiter | null = null;
  /** no more messages will be pushed */
  private ended = false;
  private error: unknown = null;
  /** the consumer is gone */
  private done = false;

  constructor(
    private readonly host: IteratorHost,
    private readonly highWaterMark: number,
    private readonly destroyOnReturn: boolean,
  ) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  get full(): boolean {
    return this.size >= this.highWaterMark;
  }

  get active(): boolean {
    return !this.done;
  }

  push(m: SeqpacketMessage): void {
    if (this.done || this.ended) {
      this.host.closeMessageFds([m], 0);
      return;
    }
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      this.host.handOut(m);
      w.resolve({ value: m, done: false });
      return;
    }
    this.queue.push(m);
  }

  /** End of stream: queued messages are still yielded, then done. */
  end(): void {
    this.ended = true;
    this.settleWaiter();
  }

  /** The socket was destroyed: queued messages are dropped (fds closed); err is thrown once. */
  abort(err: unknown): void {
    this.discard();
    this.ended = true;
    if (err !== undefined && err !== null) this.error = err;
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<SeqpacketMessage>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as SeqpacketMessage;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      this.host.handOut(value);
      if (!this.done) this.host.iteratorPulled();
      return Promise.resolve({ value, done: false });
    }
    if (this.error !== null) {
      const e = this.error;
      this.error = null;
      this.finish();
      return Promise.reject(e);
    }
    if (this.ended || this.done) {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== null) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<SeqpacketMessage>> {
    const wasDone = this.done;
    this.discard();
    this.finish();
    if (!wasDone) this.host.iteratorReturned(this, this.destroyOnReturn);
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<SeqpacketMessage>> {
    void this.return();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.settleWaiter();
  }

  private settleWaiter(): void {
    const w = this.waiter;
    if (w === null || this.size > 0) return;
    this.waiter = null;
    if (this.error !== null) {
      const e = this.error;
      this.error = null;
      this.done = true;
      w.reject(e);
    } else {
      this.done = true;
      w.resolve({ value: undefined, done: true });
    }
  }

  private discard(): void {
    if (this.size > 0) this.host.closeMessageFds(this.queue, this.head);
    this.queue.length = 0;
    this.head = 0;
  }
}
