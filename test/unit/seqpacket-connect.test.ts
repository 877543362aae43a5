// connectWith() retries a full listen backlog (EAGAIN) on the backend's clock: with a fake one
// the backoff and the 2 s limit are exact, and no real time passes.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';

import type { SeqpacketBackend } from '../../src/seqpacket/backend.js';
import { connectWith } from '../../src/seqpacket/connect.js';
import { FakeTimers } from '../helpers/fake-clock.js';

/** A backend whose connect() fails with EAGAIN `busy` times; other calls are recorded no-ops. */
function busyBackend(busy: number, clock: FakeTimers) {
  const connects: number[] = [];
  const target = {
    clock,
    socket: () => 42,
    connect: () => {
      connects.push(clock.now());
      if (connects.length <= busy) throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, connect'), { code: 'EAGAIN', errno: constants.errno.EAGAIN, syscall: 'connect' });
      return true;
    },
    getsockoptInt: () => 212992,
    createPoller: () => ({ start() {}, stop() {}, close() {}, ref() {}, unref() {} }),
  };
  const backend = new Proxy(target, {
    get: (t, key) => (key in t ? t[key as keyof typeof t] : () => undefined),
  }) as unknown as SeqpacketBackend;
  return { backend, connects };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('connectWith on a fake clock', () => {
  it('retries EAGAIN with a doubling backoff, then connects', async () => {
    const clock = new FakeTimers();
    const { backend, connects } = busyBackend(3, clock);
    const socket = connectWith(backend, '@netdiag-fake-clock');
    let connected = false;
    socket.once('connect', () => (connected = true));
    await tick();
    expect(connects).toEqual([0]);
    while (clock.fireNext()) await tick();
    expect(connects).toEqual([0, 1, 3, 7]);
    expect(connected).toBe(true);
    socket.destroy();
  });

  it('gives up once the backlog stayed full for 2 s of clock time', async () => {
    const clock = new FakeTimers();
    const { backend, connects } = busyBackend(Infinity, clock);
    const socket = connectWith(backend, '@netdiag-fake-clock');
    const error = new Promise<Error>((resolve) => socket.once('error', resolve));
    await tick();
    while (clock.fireNext()) await tick();
    const e = await error;
    expect(e.message).toMatch(/listen backlog stayed full/);
    expect((e as Error & { code: string }).code).toBe('EAGAIN');
    expect(connects.at(-2)!).toBeLessThan(2000);
    expect(connects.at(-1)!).toBeGreaterThanOrEqual(2000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an unreferenced socket retries on timers that do not hold the process', async () => {
    const clock = new FakeTimers();
    const { backend } = busyBackend(1, clock);
    const socket = connectWith(backend, '@netdiag-fake-clock');
    socket.unref();
    await tick();
    expect(clock.pendingTimers).toBe(1);
    expect(clock.referencedTimers).toBe(0);
    socket.destroy();
  });
});
