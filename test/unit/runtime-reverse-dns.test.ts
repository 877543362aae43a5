// ReverseDnsCache (src/runtime/reverse-dns.ts) on a fake clock: one lookup per address, a wait
// bounded by the clock (the lookup goes on and is kept), and a timer that never holds a process.
import { describe, expect, it } from 'vitest';

import { ReverseDnsCache } from '../../src/runtime/reverse-dns.js';
import { FakeTimers } from '../helpers/fake-clock.js';

function controlledResolver() {
  const asked: string[] = [];
  const answers = new Map<string, (name: string | null) => void>();
  const resolver = (address: string): Promise<string | null> => {
    asked.push(address);
    return new Promise((resolve) => answers.set(address, resolve));
  };
  return { asked, answers, resolver };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ReverseDnsCache', () => {
  it('looks each address up once; peek is undefined until known, then the name', async () => {
    const r = controlledResolver();
    const cache = new ReverseDnsCache({ resolver: r.resolver, clock: new FakeTimers() });
    expect(cache.peek('192.0.2.1')).toBeUndefined();
    expect(cache.peek('192.0.2.1')).toBeUndefined();
    void cache.lookup('192.0.2.1');
    expect(r.asked).toEqual(['192.0.2.1']);
    r.answers.get('192.0.2.1')!('router.example');
    await tick();
    expect(cache.peek('192.0.2.1')).toBe('router.example');
    expect(await cache.wait('192.0.2.1')).toBe('router.example');
    expect(r.asked).toEqual(['192.0.2.1']);
  });

  it('wait() gives up at the time limit on the injected clock; the late name is still kept', async () => {
    const r = controlledResolver();
    const clock = new FakeTimers();
    const cache = new ReverseDnsCache({ resolver: r.resolver, clock, timeoutMs: 500 });
    const waiting = cache.wait('192.0.2.9');
    expect(clock.pendingTimers).toBe(1);
    expect(clock.referencedTimers).toBe(0);
    clock.advance(499);
    await tick();
    let settled = false;
    void waiting.then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await waiting).toBeNull();
    r.answers.get('192.0.2.9')!('late.example');
    await tick();
    expect(cache.peek('192.0.2.9')).toBe('late.example');
  });

  it('a resolver that throws counts as no name', async () => {
    const cache = new ReverseDnsCache({ resolver: () => Promise.reject(new Error('SERVFAIL')), clock: new FakeTimers() });
    expect(await cache.lookup('192.0.2.3')).toBeNull();
    expect(cache.peek('192.0.2.3')).toBeNull();
  });

  it('waitAll waits for each distinct address once and clears its timers', async () => {
    const clock = new FakeTimers();
    const cache = new ReverseDnsCache({ resolver: async (a) => (a === '192.0.2.1' ? 'one.example' : null), clock });
    const names = await cache.waitAll(['192.0.2.1', '192.0.2.2', '192.0.2.1']);
    expect([...names]).toEqual([['192.0.2.1', 'one.example'], ['192.0.2.2', null]]);
    expect(clock.pendingTimers).toBe(0);
  });
});
