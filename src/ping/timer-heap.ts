// A binary min-heap of timed entries: O(log n) insert, remove and reschedule, O(1) peek, so
// 100,000 outstanding probe timeouts or per-target send times stay cheap. Entries carry their
// own position, so an answered probe leaves the heap at once instead of lingering until its
// time (which would keep it alive for the garbage collector). Equal times come out in the
// order they were scheduled. Keys live in typed arrays beside the entries: comparisons read
// plain doubles, not object fields.

export interface HeapEntry {
  /** position in the heap, -1 when not in it */
  heapIndex: number;
}

export class TimerHeap<T extends HeapEntry> {
  private items: T[] = [];
  private times = new Float64Array(64);
  private orders = new Float64Array(64);
  private n = 0;
  private counter = 0;

  get size(): number {
    return this.n;
  }

  /** Time of the earliest entry, or Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.times[0]! : Infinity;
  }

  peek(): T | undefined {
    return this.n > 0 ? this.items[0] : undefined;
  }

  has(item: T): boolean {
    const i = item.heapIndex;
    return i >= 0 && i < this.n && this.items[i] === item;
  }

  /** The time item is scheduled for, or NaN when it is not in the heap. */
  timeOf(item: T): number {
    return this.has(item) ? this.times[item.heapIndex]! : NaN;
  }

  /** Inserts item at time, or moves it there when it is already in. */
  schedule(item: T, time: number): void {
    const order = this.counter++;
    if (this.has(item)) {
      const i = item.heapIndex;
      this.times[i] = time;
      this.orders[i] = order;
      this.siftDown(this.siftUp(i));
      return;
    }
    if (this.n === this.times.length) this.growKeys();
    const i = this.n++;
    if (i === this.items.length) this.items.push(item);
    else this.items[i] = item;
    this.times[i] = time;
    this.orders[i] = order;
    item.heapIndex = i;
    this.siftUp(i);
  }

  /** Removes and returns the earliest entry. */
  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0]!;
    this.removeAt(0);
    return top;
  }

  remove(item: T): void {
    if (this.has(item)) this.removeAt(item.heapIndex);
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) this.items[i]!.heapIndex = -1;
    this.items = [];
    this.n = 0;
  }

  private growKeys(): void {
    const times = new Float64Array(this.times.length * 2);
    const orders = new Float64Array(this.orders.length * 2);
    times.set(this.times);
    orders.set(this.orders);
    this.times = times;
    this.orders = orders;
  }

  private removeAt(i: number): void {
    const items = this.items;
    items[i]!.heapIndex = -1;
    const last = --this.n;
    if (i !== last) {
      this.move(last, i);
      this.siftDown(this.siftUp(i));
    }
    // the array keeps its length (shrinking it would copy); only the reference goes
    items[last] = undefined as unknown as T;
  }

  /** Copies entry `from` into slot `to`. */
  private move(from: number, to: number): void {
    const item = this.items[from]!;
    this.items[to] = item;
    this.times[to] = this.times[from]!;
    this.orders[to] = this.orders[from]!;
    item.heapIndex = to;
  }

  private siftUp(i: number): number {
    const items = this.items, times = this.times, orders = this.orders;
    const item = items[i]!, time = times[i]!, order = orders[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && orders[parent]! < order)) break;
      this.move(parent, i);
      i = parent;
    }
    items[i] = item;
    times[i] = time;
    orders[i] = order;
    item.heapIndex = i;
    return i;
  }

  private siftDown(i: number): void {
    const items = this.items, times = this.times, orders = this.orders;
    const n = this.n;
    const item = items[i]!, time = times[i]!, order = orders[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (times[r]! < times[l]! || (times[r] === times[l] && orders[r]! < orders[l]!))) c = r;
      const ct = times[c]!;
      if (time < ct || (time === ct && order < orders[c]!)) break;
      this.move(c, i);
      i = c;
    }
    items[i] = item;
    times[i] = time;
    orders[i] = order;
    item.heapIndex = i;
  }
}
