// The fake Clock (src/runtime/clock.ts) every engine's unit tests build on: time moves only
// when the test says so, and timers fire in the order of their due time, then of setting.
// Engine fakes extend it with their own kernel-timestamp conversions (test/sim/fake-network.ts).
import type { Clock, TimerHandle } from '../../src/runtime/clock.js';

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  referenced: boolean;
}

export class FakeTimers implements Clock {
  protected t = 0;
  private seq = 0;
  private timers: FakeTimer[] = [];

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer: FakeTimer = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false, referenced: true };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: TimerHandle): void {
    if (handle !== undefined) (handle as FakeTimer).cancelled = true;
  }
  refTimer(handle: TimerHandle, referenced: boolean): void {
    (handle as FakeTimer).referenced = referenced;
  }

  /** timers not yet fired or cancelled */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
  /** pending timers that would keep a real process alive */
  get referencedTimers(): number {
    return this.timers.filter((t) => !t.cancelled && t.referenced).length;
  }
  /** when the earliest pending timer is due, or null */
  get nextDue(): number | null {
    const next = this.earliest();
    return next === undefined ? null : next.at;
  }

  /** Fires the earliest timer, moving time to it (never back); false when none is left. */
  fireNext(): boolean {
    const next = this.earliest();
    if (next === undefined) return false;
    this.timers = this.timers.filter((t) => t !== next && !t.cancelled);
    this.t = Math.max(this.t, next.at);
    next.fn();
    return true;
  }

  /** Moves time forward by ms, firing the timers due on the way (also ones they set). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let next = this.earliest(); next !== undefined && next.at <= end; next = this.earliest()) this.fireNext();
    this.t = end;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) if (!t.cancelled && (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    return best;
  }
}
