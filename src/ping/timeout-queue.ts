// Probe timeouts, in deadline order. Every probe of a run waits the same time and probes go
// out in time order, so deadlines arrive in order: a ring buffer holds them sorted, O(1) to add,
// to peek and to take. An answered probe leaves a hole (remove) that is skipped when it reaches
// the front; once holes outnumber the waiting entries the buffer is compacted. The queue keeps no
// reference to a removed entry, so the engine may reuse the object at once. A deadline earlier
// than the last one (never from the engine) is inserted in place.

export interface QueueEntry {
  /** waiting in a TimeoutQueue */
  timeoutQueued: boolean;
  /** where it waits in the queue's ring (the queue's own bookkeeping) */
  timeoutSlot?: number;
}

const MIN_CAPACITY = 16;

export class TimeoutQueue<T extends QueueEntry> {
  private items: Array<T | undefined> = new Array<T | undefined>(MIN_CAPACITY);
  private times = new Float64Array(MIN_CAPACITY);
  /** entries are at [head, head + length) modulo the capacity */
  private head = 0;
  private length = 0;
  /** holes left by removed entries (undefined slots in [head, head + length)) */
  private dead = 0;

  /** Entries still waiting. */
  get size(): number {
    return this.length - this.dead;
  }

  /** Deadline of the earliest waiting entry, or Infinity when none waits. */
  peekTime(): number {
    this.dropDeadHead();
    return this.length > 0 ? this.times[this.head]! : Infinity;
  }

  /** Takes the earliest waiting entry out. */
  pop(): T | undefined {
    this.dropDeadHead();
    if (this.length === 0) return undefined;
    const item = this.items[this.head]!;
    this.take();
    item.timeoutQueued = false;
    return item;
  }

  /** Adds item (not already queued) with its deadline. */
  schedule(item: T, time: number): void {
    if (item.timeoutQueued) throw new Error('the entry is queued already');
    if (this.length === this.items.length) this.grow(this.items.length * 2);
    const mask = this.items.length - 1;
    let at = (this.head + this.length) & mask;
    // keep the order: later deadlines move up by one (never needed when deadlines come in order)
    for (let k = this.length; k > 0; k--) {
      const before = (at - 1) & mask;
      if (this.times[before]! <= time) break;
      const moved = this.items[before];
      this.items[at] = moved;
      if (moved !== undefined) moved.timeoutSlot = at;
      this.times[at] = this.times[before]!;
      at = before;
    }
    this.items[at] = item;
    this.times[at] = time;
    this.length++;
    item.timeoutQueued = true;
    item.timeoutSlot = at;
  }

  /** Takes item out of line (it no longer waits). */
  remove(item: T): void {
    if (!item.timeoutQueued) return;
    item.timeoutQueued = false;
    this.items[item.timeoutSlot!] = undefined;
    this.dead++;
    if (this.dead > 32 && this.dead * 2 > this.length) this.compact();
  }

  clear(): void {
    const mask = this.items.length - 1;
    for (let i = 0; i < this.length; i++) {
      const item = this.items[(this.head + i) & mask];
      if (item !== undefined) item.timeoutQueued = false;
    }
    this.items = new Array<T | undefined>(MIN_CAPACITY);
    this.times = new Float64Array(MIN_CAPACITY);
    this.head = this.length = this.dead = 0;
  }

  private take(): void {
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
  }

  private dropDeadHead(): void {
    while (this.length > 0 && this.items[this.head] === undefined) {
      this.take();
      this.dead--;
    }
  }

  /** Rewrites the waiting entries in order from slot 0, dropping the removed ones. */
  private compact(): void {
    this.grow(this.items.length);
  }

  private grow(capacity: number): void {
    const items = new Array<T | undefined>(capacity);
    const times = new Float64Array(capacity);
    const mask = this.items.length - 1;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const j = (this.head + i) & mask;
      const item = this.items[j];
      if (item === undefined) continue;
      item.timeoutSlot = n;
      items[n] = item;
      times[n++] = this.times[j]!;
    }
    this.items = items;
    this.times = times;
    this.head = 0;
    this.length = n;
    this.dead = 0;
  }
}
