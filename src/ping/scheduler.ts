// When each target's next probe goes out. Per target: `preload` probes at once, then one per
// `interval` on a fixed grid (a late timer may catch up by at most max((preload-1) intervals,
// 1 ms), iputils' token rule); interval 0 keeps `preload` probes in flight, the next going on a
// reply or 10 ms after the last send (iputils' flood). Across targets: an optional global rate
// in probes per second. Targets wait in a binary heap keyed by their next send time; those due
// at once (the first probes of 10,000 targets, a flood's next probe) wait in a plain FIFO.

import { TimerHeap, type HeapEntry } from './timer-heap.js';

/** iputils' MININTERVAL: flood mode sends at least this often when nothing comes back */
export const FLOOD_GAP_MS = 10;
/** how far behind its grid a target (or the global rate) may fall and still catch up */
const CATCH_UP_MS = 1;

export interface SchedulerConfig {
  count: number;
  /** ms; 0 = flood pacing */
  interval: number;
  preload: number;
  /** probes per second across all targets, or null */
  rate: number | null;
  /** with a deadline, count is the number of replies wanted, not of probes to send */
  untilReplies: boolean;
}

/** What the scheduler needs to know about a target. */
export interface Schedulable extends HeapEntry {
  /** small non-negative number, unique among the targets (the scheduler's own per-target data is kept by it) */
  readonly index: number;
  /** probes handed out for sending (sent or waiting in a send batch) */
  issued: number;
  received: number;
  /** probes issued and not yet answered, lost or failed */
  inFlight: number;
  /** waiting in the due-now FIFO */
  inReady: boolean;
}

export class Scheduler<T extends Schedulable> {
  private readonly heap = new TimerHeap<T>();
  // the FIFO is ready[readyHead, readyTail); emptied by resetting both, so the array keeps its
  // room (a flood empties it after every probe)
  private ready: T[] = [];
  private readyHead = 0;
  private readyTail = 0;
  /** the latest time the scheduler was asked about: anything due by then is due now */
  private now = -Infinity;
  private rateSlot = -Infinity;
  private readonly rateGap: number;
  // per target, by index: the grid slot of its last probe, and when it became due (while in the
  // FIFO). Typed arrays rather than fields: no boxed number per target for ten thousand targets.
  private slots = new Float64Array(0);
  private dues = new Float64Array(0);

  constructor(private readonly cfg: SchedulerConfig) {
    this.rateGap = cfg.rate ? 1000 / cfg.rate : 0;
  }

  /** True while the target should send more probes. */
  wantsMore(t: T): boolean {
    return this.cfg.untilReplies ? t.received < this.cfg.count : t.issued < this.cfg.count;
  }

  /** Puts t in line for time `at` (replacing its earlier place). */
  schedule(t: T, at: number): void {
    if (at <= this.now) {
      this.heap.remove(t);
      if (!t.inReady) {
        t.inReady = true;
        this.room(t.index);
        this.dues[t.index] = at;
        this.ready[this.readyTail++] = t;
      }
      return;
    }
    // a FIFO entry left behind is skipped when it comes up
    t.inReady = false;
    this.heap.schedule(t, at);
  }

  /** Takes t out of line (it wants no more probes). */
  cancel(t: T): void {
    this.heap.remove(t);
    t.inReady = false;
  }

  /** Starts every target's first probe at `now`, in order. */
  start(targets: readonly T[], now: number): void {
    this.now = now;
    this.room(targets.length - 1);
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      this.room(t.index);
      this.slots[t.index] = now;
      if (this.wantsMore(t)) this.schedule(t, now);
    }
  }

  /** The earliest time something may be sent, Infinity when nothing waits. */
  nextTime(): number {
    this.dropStale();
    const at = this.readyHead < this.readyTail ? this.now : this.heap.peekTime();
    return at === Infinity ? at : Math.max(at, this.rateSlot);
  }

  /** The next target due at `now` (within the global rate), or null. */
  takeDue(now: number): T | null {
    if (now > this.now) this.now = now;
    if (this.rateGap > 0 && this.rateSlot > now) return null;
    for (;;) {
      let t: T;
      // whichever became due first: the heap's earliest or the FIFO's head
      const heapAt = this.heap.peekTime();
      const head = this.readyHead < this.readyTail ? this.ready[this.readyHead] : undefined;
      if (heapAt <= now && (head === undefined || heapAt < this.dues[head.index]!)) {
        t = this.heap.pop()!;
      } else if (head !== undefined) {
        t = head;
        this.readyHead++;
        if (this.readyHead === this.readyTail) this.readyHead = this.readyTail = 0;
        if (!t.inReady) continue;
        t.inReady = false;
      } else {
        return null;
      }
      if (!this.wantsMore(t)) continue;
      if (this.rateGap > 0) {
        const base = this.rateSlot === -Infinity ? now : Math.max(this.rateSlot, now - CATCH_UP_MS);
        this.rateSlot = base + this.rateGap;
      }
      return t;
    }
  }

  /** Call when a probe of t was issued at `now`: decides when its next one goes. */
  afterIssue(t: T, now: number): void {
    if (!this.wantsMore(t)) return;
    const { interval, preload } = this.cfg;
    if (t.issued < preload) {
      this.schedule(t, now);
    } else if (interval === 0) {
      this.schedule(t, t.inFlight < preload ? now : now + FLOOD_GAP_MS);
    } else {
      this.room(t.index);
      const slot = Math.max(this.slots[t.index]!, now - Math.max(interval * (preload - 1), CATCH_UP_MS)) + interval;
      this.slots[t.index] = slot;
      this.schedule(t, slot);
    }
  }

  /** Call when one of t's probes was settled (reply, error, loss) at `now`: flood sends the next at once. */
  afterSettle(t: T, now: number): void {
    if (this.cfg.interval !== 0 || !this.wantsMore(t) || t.inFlight >= this.cfg.preload) return;
    if (!t.inReady && !(this.heap.timeOf(t) <= now)) this.schedule(t, now);
  }

  /**
   * Call when a send of t failed locally at `now` (no route, a firewall's EPERM): as iputils
   * after a hard local error, the next probe waits at least FLOOD_GAP_MS, so a fast pace does
   * not turn into a loop of failing sends.
   */
  afterFailedSend(t: T, now: number): void {
    const { interval } = this.cfg;
    if (interval >= FLOOD_GAP_MS || !this.wantsMore(t)) return;
    const at = now + FLOOD_GAP_MS;
    if (interval > 0) {
      // the grid moves on from the wait, as if the probe went at its end
      this.room(t.index);
      this.slots[t.index] = Math.max(this.slots[t.index]!, at - interval);
    }
    this.schedule(t, at);
  }

  /** Makes room in the per-target arrays for index i. */
  private room(i: number): void {
    if (i < this.slots.length) return;
    const n = Math.max(i + 1, this.slots.length * 2, 16);
    const slots = new Float64Array(n), dues = new Float64Array(n);
    slots.set(this.slots);
    dues.set(this.dues);
    this.slots = slots;
    this.dues = dues;
  }

  /** Targets that stopped wanting probes while in line (a deadline run got its replies) leave it. */
  private dropStale(): void {
    for (;;) {
      const t = this.heap.peek();
      if (t === undefined || this.wantsMore(t)) break;
      this.heap.pop();
    }
    while (this.readyHead < this.readyTail) {
      const t = this.ready[this.readyHead]!;
      if (t.inReady && this.wantsMore(t)) break;
      t.inReady = false;
      this.readyHead++;
    }
    if (this.readyHead === this.readyTail) this.readyHead = this.readyTail = 0;
  }

  clear(): void {
    this.heap.clear();
    for (let i = this.readyHead; i < this.readyTail; i++) this.ready[i]!.inReady = false;
    this.ready = [];
    this.readyHead = this.readyTail = 0;
  }
}
