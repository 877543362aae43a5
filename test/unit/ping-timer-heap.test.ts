// The binary heap behind send times and the ring buffer behind probe timeouts: order, ties,
// removal and rescheduling, checked against a sorted reference under many random operations.
import { describe, expect, it } from 'vitest';
import { TimerHeap, type HeapEntry } from '../../src/ping/timer-heap.js';
import { TimeoutQueue, type QueueEntry } from '../../src/ping/timeout-queue.js';

interface Item extends HeapEntry {
  id: number;
}
const item = (id: number): Item => ({ id, heapIndex: -1 });

describe('TimerHeap', () => {
  it('pops in time order, equal times in the order they were scheduled', () => {
    const h = new TimerHeap<Item>();
    const items = [5, 1, 3, 1, 2].map((t, i) => ({ t, it: item(i) }));
    for (const { t, it } of items) h.schedule(it, t);
    const out: number[] = [];
    while (h.size) out.push(h.pop()!.id);
    expect(out).toEqual([1, 3, 4, 2, 0]);
    expect(h.peekTime()).toBe(Infinity);
  });

  it('removes entries and moves rescheduled ones', () => {
    const h = new TimerHeap<Item>();
    const a = item(1), b = item(2), c = item(3);
    h.schedule(a, 10);
    h.schedule(b, 20);
    h.schedule(c, 30);
    h.remove(b);
    expect(h.has(b)).toBe(false);
    h.schedule(c, 5);
    expect(h.timeOf(c)).toBe(5);
    expect([h.pop()!.id, h.pop()!.id, h.pop()]).toEqual([3, 1, undefined]);
    h.remove(a); // not in it any more: nothing happens
    expect(h.size).toBe(0);
  });

  it('agrees with a sorted list over 100,000 random operations', () => {
    const h = new TimerHeap<Item>();
    const live = new Map<Item, [number, number]>();
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let order = 0;
    const popped: number[] = [];
    const expected: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const r = rand();
      if (r < 0.5 || live.size === 0) {
        const it = item(i);
        const t = Math.floor(rand() * 1000);
        h.schedule(it, t);
        live.set(it, [t, order++]);
      } else if (r < 0.7) {
        const victim = [...live.keys()][Math.floor(rand() * live.size)]!;
        h.remove(victim);
        live.delete(victim);
      } else if (r < 0.8) {
        const moved = [...live.keys()][Math.floor(rand() * live.size)]!;
        const t = Math.floor(rand() * 1000);
        h.schedule(moved, t);
        live.set(moved, [t, order++]);
      } else {
        const best = [...live.entries()].sort((x, y) => x[1][0] - y[1][0] || x[1][1] - y[1][1])[0]!;
        expected.push(best[0].id);
        live.delete(best[0]);
        popped.push(h.pop()!.id);
      }
      if (live.size > 200) {
        // keep the reference cheap: empty it in order
        const rest = [...live.entries()].sort((x, y) => x[1][0] - y[1][0] || x[1][1] - y[1][1]);
        for (const [it] of rest) {
          expected.push(it.id);
          popped.push(h.pop()!.id);
        }
        live.clear();
      }
    }
    expect(popped).toEqual(expected);
    expect(h.size).toBe(live.size);
  });
});

interface Waiting extends QueueEntry {
  id: number;
}
const waiting = (id: number): Waiting => ({ id, timeoutQueued: false });

describe('TimeoutQueue', () => {
  it('takes entries in deadline order, equal deadlines in the order they came', () => {
    const q = new TimeoutQueue<Waiting>();
    const a = waiting(1), b = waiting(2), c = waiting(3);
    q.schedule(a, 10);
    q.schedule(b, 10);
    q.schedule(c, 20);
    expect(q.size).toBe(3);
    expect(q.peekTime()).toBe(10);
    expect([q.pop()!.id, q.pop()!.id, q.pop()!.id, q.pop()]).toEqual([1, 2, 3, undefined]);
    expect(q.peekTime()).toBe(Infinity);
    expect(a.timeoutQueued || b.timeoutQueued || c.timeoutQueued).toBe(false);
  });

  it('skips removed entries, puts an earlier deadline in its place, and refuses a second schedule', () => {
    const q = new TimeoutQueue<Waiting>();
    const a = waiting(1), b = waiting(2), c = waiting(3);
    q.schedule(a, 10);
    q.schedule(b, 20);
    q.remove(a);
    q.remove(a);
    expect(q.size).toBe(1);
    expect(q.peekTime()).toBe(20);
    q.schedule(c, 15);
    expect(() => q.schedule(c, 30)).toThrow(/queued/);
    expect([q.pop()!.id, q.pop()!.id, q.pop()]).toEqual([3, 2, undefined]);
    q.schedule(a, 5);
    q.clear();
    expect(a.timeoutQueued).toBe(false);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('keeps nothing of a removed entry: the same object scheduled again waits for its new deadline only', () => {
    // the engine reuses a probe object as soon as it is answered, while holes wait in the ring
    const q = new TimeoutQueue<Waiting>();
    const a = waiting(1), b = waiting(2);
    q.schedule(a, 10);
    q.schedule(b, 20);
    q.remove(a);
    q.schedule(a, 30);
    expect(q.size).toBe(2);
    expect(q.peekTime()).toBe(20);
    expect([q.pop()!.id, q.peekTime(), q.pop()!.id, q.pop()]).toEqual([2, 30, 1, undefined]);
  });

  it('agrees with a sorted list over 100,000 operations, mostly in deadline order', () => {
    const q = new TimeoutQueue<Waiting>();
    const live = new Map<Waiting, [number, number]>();
    let seed = 54321;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let now = 0, order = 0;
    const popped: number[] = [];
    const expected: number[] = [];
    const earliest = (): Waiting => [...live.entries()].sort((x, y) => x[1][0] - y[1][0] || x[1][1] - y[1][1])[0]![0];
    for (let i = 0; i < 100_000; i++) {
      const r = rand();
      if (r < 0.55 || live.size === 0) {
        // the engine's deadlines never decrease; now and then one does here
        now += Math.floor(rand() * 3);
        const t = rand() < 0.02 ? now - Math.floor(rand() * 50) : now;
        const it = waiting(i);
        q.schedule(it, t);
        live.set(it, [t, order++]);
      } else if (r < 0.85) {
        // replies settle probes anywhere in the line
        const victim = [...live.keys()][Math.floor(rand() * live.size)]!;
        q.remove(victim);
        live.delete(victim);
      } else {
        const best = earliest();
        expect(q.peekTime()).toBe(live.get(best)![0]);
        expected.push(best.id);
        live.delete(best);
        popped.push(q.pop()!.id);
      }
      expect(q.size).toBe(live.size);
      if (live.size > 300) {
        while (live.size > 0) {
          const best = earliest();
          expected.push(best.id);
          live.delete(best);
          popped.push(q.pop()!.id);
        }
      }
    }
    expect(popped).toEqual(expected);
  });
});
