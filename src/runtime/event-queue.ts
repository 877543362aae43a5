// One push-to-pull queue: a producer pushes items as they happen (events of a run, messages a
// socket read), a consumer pulls them with `for await`. The producer sees how full the queue
// is (size, full) and hears when the consumer takes one (hooks.pulled), so a slow consumer can
// push back instead of the queue growing without bound. Items the consumer will never see are
// handed to hooks.dropped (a socket closes their fds).
//
// Ending: end() yields what is queued, then done; fail(err) yields what is queued, then
// throws err once; abort(err) drops what is queued, then throws err once (or ends, without
// one). return() (break out of the loop) drops what is queued and tells hooks.returned.

export interface AsyncEventQueueHooks<T> {
  /** first next(): a lazy producer starts here */
  firstPull?(): void;
  /** an item goes to the consumer (from the queue or straight to a waiting next()) */
  delivered?(item: T): void;
  /** an item left the queue while the consumer is still here: a paused producer may resume */
  pulled?(): void;
  /** items nobody will see: queued when the consumer left or the queue aborted, or pushed after */
  dropped?(items: readonly T[]): void;
  /** the consumer left before the end (return(), throw(), break) */
  returned?(): void;
}

type Waiter<T> = { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };

export class AsyncEventQueue<T> implements AsyncIterableIterator<T> {
  // a ring-less queue: items[head..] are waiting; reset when drained, so no shift() per item
  private items: T[] = [];
  private head = 0;
  private waiter: Waiter<T> | null = null;
  private started = false;
  /** no more items will be pushed */
  private ended = false;
  private failure: { error: unknown } | null = null;
  /** the consumer is gone (returned, or saw the end) */
  private done = false;

  /** highWaterMark: size at which `full` turns true (the producer should pause) */
  constructor(
    private readonly hooks: AsyncEventQueueHooks<T> = {},
    private readonly highWaterMark = Infinity,
  ) {}

  /** items waiting for the consumer */
  get size(): number {
    return this.items.length - this.head;
  }

  get full(): boolean {
    return this.size >= this.highWaterMark;
  }

  /** the consumer is still here */
  get active(): boolean {
    return !this.done;
  }

  push(item: T): void {
    if (this.done || this.ended) {
      this.hooks.dropped?.([item]);
      return;
    }
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      this.hooks.delivered?.(item);
      w.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  /** No more items: the queued ones are still yielded, then done. */
  end(): void {
    this.ended = true;
    this.settleWaiter();
  }

  /** The producer failed: the queued items are still yielded, then error is thrown once. */
  fail(error: unknown): void {
    if (this.ended || this.done) return;
    this.failure = { error };
    this.end();
  }

  /** Stops at once: queued items are dropped, then error (if any) is thrown once. */
  abort(error?: unknown): void {
    this.discard();
    this.ended = true;
    if (error !== undefined && error !== null) this.failure = { error };
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.started) {
      this.started = true;
      this.hooks.firstPull?.();
    }
    if (this.size > 0) {
      const value = this.items[this.head]!;
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      this.hooks.delivered?.(value);
      if (!this.done) this.hooks.pulled?.();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== null) {
      const { error } = this.failure;
      this.failure = null;
      this.finish();
      return Promise.reject(error);
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

  return(): Promise<IteratorResult<T>> {
    const wasDone = this.done;
    this.discard();
    this.finish();
    if (!wasDone) this.hooks.returned?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.settleWaiter();
  }

  /** A waiting next() learns the end (or the failure) once nothing is queued. */
  private settleWaiter(): void {
    const w = this.waiter;
    if (w === null || this.size > 0) return;
    this.waiter = null;
    this.done = true;
    if (this.failure !== null) {
      const { error } = this.failure;
      this.failure = null;
      w.reject(error);
    } else {
      w.resolve({ value: undefined, done: true });
    }
  }

  private discard(): void {
    if (this.size > 0) this.hooks.dropped?.(this.items.slice(this.head));
    this.items = [];
    this.head = 0;
  }
}

/**
 * A queue fed by run(emit, signal): the run starts on the first next(), its events are
 * queued, its end ends the queue and its failure is thrown after them. Leaving the loop early
 * (break, return()) aborts the signal.
 */
export function runAsEventQueue<T>(run: (emit: (item: T) => void, signal: AbortSignal) => Promise<void>, failureText = 'the run failed'): AsyncEventQueue<T> {
  const stop = new AbortController();
  const queue: AsyncEventQueue<T> = new AsyncEventQueue<T>({
    firstPull: () =>
      void run((item) => queue.push(item), stop.signal).then(
        () => queue.end(),
        (e: unknown) => queue.fail(e ?? new Error(failureText)),
      ),
    returned: () => stop.abort(),
  });
  return queue;
}
