// Turns a push-style run (events emitted as they happen) into an async iterator. The run starts
// on the first next(); leaving the loop early (break, return()) aborts it.
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private ended = false;
  private failure: unknown = null;
  private started = false;
  private readonly stop = new AbortController();

  /** run(emit, signal) produces the events; it settles when done. */
  constructor(private readonly run: (emit: (item: T) => void, signal: AbortSignal) => Promise<void>) {}

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.run((item) => this.push(item), this.stop.signal).then(
      () => this.finish(null),
      (e: unknown) => this.finish(e ?? new Error('traceroute failed')),
    );
  }

  private push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  private finish(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiting && this.items.length === 0) {
      const w = this.waiting;
      this.waiting = null;
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    this.begin();
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      if (this.failure) {
        const e = this.failure;
        this.failure = null;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.stop.abort();
    this.items.length = 0;
    this.ended = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
