// The shared Clock (src/runtime/clock.ts): the system clock keeps Node's timer semantics, and
// the fake every engine's tests build on (test/helpers/fake-clock.ts) fires timers in due
// order, moves time only when told and never backwards.
import { describe, expect, it } from 'vitest';

import { systemClock } from '../../src/runtime/clock.js';
import { FakeTimers } from '../helpers/fake-clock.js';

describe('systemClock', () => {
  it('runs a timer, cancels another, and never goes backwards', async () => {
    const clock = systemClock();
    const before = clock.now();
    const fired: string[] = [];
    const cancelled = clock.setTimer(() => fired.push('cancelled'), 0);
    clock.clearTimer(cancelled);
    await new Promise<void>((resolve) => clock.setTimer(() => resolve(void fired.push('ran')), -5));
    expect(fired).toEqual(['ran']);
    expect(clock.now()).toBeGreaterThanOrEqual(before);
  });

  it('refTimer sets whether the timer keeps the process alive', () => {
    const clock = systemClock();
    const t = clock.setTimer(() => {}, 60_000);
    clock.refTimer(t, false);
    expect((t as NodeJS.Timeout).hasRef()).toBe(false);
    clock.refTimer(t, true);
    expect((t as NodeJS.Timeout).hasRef()).toBe(true);
    clock.clearTimer(t);
  });
});

describe('FakeTimers', () => {
  it('fires by due time, then in the order set; time moves to each timer', () => {
    const clock = new FakeTimers();
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 20);
    clock.setTimer(() => fired.push(['a', clock.now()]), 10);
    clock.setTimer(() => fired.push(['c', clock.now()]), 20);
    expect(clock.nextDue).toBe(10);
    while (clock.fireNext());
    expect(fired).toEqual([['a', 10], ['b', 20], ['c', 20]]);
    expect(clock.now()).toBe(20);
    expect(clock.fireNext()).toBe(false);
  });

  it('advance() fires what falls due on the way, including timers set by timers, and ends at the target time', () => {
    const clock = new FakeTimers();
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.now());
      clock.setTimer(() => fired.push(clock.now()), 5);
    }, 10);
    clock.setTimer(() => fired.push(clock.now()), 100);
    clock.advance(50);
    expect(fired).toEqual([10, 15]);
    expect(clock.now()).toBe(50);
    expect(clock.pendingTimers).toBe(1);
  });

  it('a cleared timer never fires; a negative delay is due now', () => {
    const clock = new FakeTimers();
    const fired: string[] = [];
    const t = clock.setTimer(() => fired.push('cleared'), 1);
    clock.clearTimer(t);
    clock.setTimer(() => fired.push('now'), -3);
    clock.advance(10);
    expect(fired).toEqual(['now']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a timer due in the past (set, then time moved on by fireNext of a later one) does not move time back', () => {
    const clock = new FakeTimers();
    clock.setTimer(() => clock.setTimer(() => {}, 0), 30);
    clock.fireNext();
    expect(clock.now()).toBe(30);
    clock.fireNext();
    expect(clock.now()).toBe(30);
  });

  it('refTimer is recorded: referencedTimers counts the timers that would keep a process alive', () => {
    const clock = new FakeTimers();
    const a = clock.setTimer(() => {}, 1);
    clock.setTimer(() => {}, 2);
    clock.refTimer(a, false);
    expect(clock.pendingTimers).toBe(2);
    expect(clock.referencedTimers).toBe(1);
  });
});
