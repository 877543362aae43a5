// AsyncEventQueue (src/runtime/event-queue.ts), the one push-to-pull queue behind ping's and
// traceroute's event streams and seqpacket's message iterator: order, end, failure, abort,
// early return, backpressure, and the lazily started run.
import { describe, expect, it } from 'vitest';

import { AsyncEventQueue, runAsEventQueue } from '../../src/runtime/event-queue.js';

function recorder() {
  const log = { delivered: [] as number[], dropped: [] as number[], pulled: 0, returned: 0, firstPulls: 0 };
  const hooks = {
    firstPull: () => void log.firstPulls++,
    delivered: (n: number) => void log.delivered.push(n),
    pulled: () => void log.pulled++,
    dropped: (items: readonly number[]) => void log.dropped.push(...items),
    returned: () => void log.returned++,
  };
  return { log, hooks };
}

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of q) out.push(v);
  return out;
}

describe('AsyncEventQueue', () => {
  it('yields queued and later items in push order, then ends', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks);
    q.push(1);
    q.push(2);
    const all = drain(q);
    await Promise.resolve();
    q.push(3);
    q.end();
    expect(await all).toEqual([1, 2, 3]);
    expect(log.delivered).toEqual([1, 2, 3]);
    expect(log.firstPulls).toBe(1);
    expect(q.active).toBe(false);
  });

  it('a waiting next() gets the next push directly, and the end when it comes', async () => {
    const q = new AsyncEventQueue<number>();
    const first = q.next();
    q.push(7);
    expect(await first).toEqual({ value: 7, done: false });
    const second = q.next();
    q.end();
    expect(await second).toEqual({ value: undefined, done: true });
  });

  it('fail(): queued items first, then the error once, then done', async () => {
    const q = new AsyncEventQueue<number>();
    q.push(1);
    const boom = new Error('boom');
    q.fail(boom);
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toBe(boom);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('fail() reaches a waiting next()', async () => {
    const q = new AsyncEventQueue<number>();
    const waiting = q.next();
    const boom = new Error('boom');
    q.fail(boom);
    await expect(waiting).rejects.toBe(boom);
  });

  it('abort(err): queued items are dropped, the error is thrown once', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks);
    q.push(1);
    q.push(2);
    const boom = new Error('boom');
    q.abort(boom);
    expect(log.dropped).toEqual([1, 2]);
    await expect(q.next()).rejects.toBe(boom);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(log.delivered).toEqual([]);
  });

  it('abort() without an error ends a waiting next()', async () => {
    const q = new AsyncEventQueue<number>();
    const waiting = q.next();
    q.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('pushes after the end or after return() are dropped, never delivered', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks);
    q.end();
    q.push(1);
    const r = new AsyncEventQueue<number>(hooks);
    await r.return();
    r.push(2);
    expect(log.dropped).toEqual([1, 2]);
    expect(log.delivered).toEqual([]);
  });

  it('return(): drops what is queued, tells returned once, settles a waiting next()', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks);
    q.push(1);
    q.push(2);
    expect(await q.return()).toEqual({ value: undefined, done: true });
    expect(await q.return()).toEqual({ value: undefined, done: true });
    expect(log.dropped).toEqual([1, 2]);
    expect(log.returned).toBe(1);
    expect(await q.next()).toEqual({ value: undefined, done: true });

    const w = new AsyncEventQueue<number>(hooks);
    const waiting = w.next();
    await w.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('breaking out of for await calls return()', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks);
    for (const n of [1, 2, 3]) q.push(n);
    for await (const n of q) if (n === 1) break;
    expect(log.returned).toBe(1);
    expect(log.dropped).toEqual([2, 3]);
  });

  it('throw() leaves like return() and rejects with the given error', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks);
    const boom = new Error('boom');
    await expect(q.throw(boom)).rejects.toBe(boom);
    expect(log.returned).toBe(1);
    expect(q.active).toBe(false);
  });

  it('a second next() while one waits is refused', async () => {
    const q = new AsyncEventQueue<number>();
    const first = q.next();
    await expect(q.next()).rejects.toThrow(/again before the previous call settled/);
    q.push(1);
    expect(await first).toEqual({ value: 1, done: false });
  });

  it('backpressure: full at the high-water mark, pulled after each item taken from the queue', async () => {
    const { log, hooks } = recorder();
    const q = new AsyncEventQueue<number>(hooks, 2);
    q.push(1);
    expect(q.full).toBe(false);
    q.push(2);
    expect(q.size).toBe(2);
    expect(q.full).toBe(true);
    await q.next();
    expect(q.full).toBe(false);
    expect(log.pulled).toBe(1);
    await q.next();
    expect(log.pulled).toBe(2);
    // handed straight to a waiting next(): it never sat in the queue, so no pulled
    const waiting = q.next();
    q.push(3);
    await waiting;
    expect(log.pulled).toBe(2);
    expect(log.delivered).toEqual([1, 2, 3]);
  });
});

describe('runAsEventQueue', () => {
  it('starts the run on the first next(), not before', async () => {
    let starts = 0;
    const q = runAsEventQueue<number>(async (emit) => {
      starts++;
      emit(1);
      emit(2);
    });
    await Promise.resolve();
    expect(starts).toBe(0);
    expect(await drain(q)).toEqual([1, 2]);
    expect(starts).toBe(1);
  });

  it('a failing run throws after its events', async () => {
    const boom = new Error('boom');
    const q = runAsEventQueue<number>(async (emit) => {
      emit(1);
      throw boom;
    });
    const seen: number[] = [];
    await expect((async () => {
      for await (const n of q) seen.push(n);
    })()).rejects.toBe(boom);
    expect(seen).toEqual([1]);
  });

  it('a run rejecting with nothing fails with the given text', async () => {
    const q = runAsEventQueue<number>(() => Promise.reject(undefined), 'traceroute failed');
    await expect(q.next()).rejects.toThrow('traceroute failed');
  });

  it('leaving the loop aborts the run signal; what the run emits or throws afterwards is not seen', async () => {
    let signal: AbortSignal | null = null;
    let finish: () => void = () => {};
    const q = runAsEventQueue<number>((emit, s) => {
      signal = s;
      emit(1);
      return new Promise<void>((_resolve, reject) => {
        finish = () => {
          emit(2);
          reject(new Error('late'));
        };
      });
    });
    for await (const n of q) if (n === 1) break;
    expect(signal!.aborted).toBe(true);
    finish();
    await new Promise<void>((r) => setImmediate(r));
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});
