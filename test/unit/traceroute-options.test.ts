// Library options are checked at the boundary (TypeError/RangeError naming the option), and the
// -w MAX,HERE,NEAR rule parses and computes exactly as traceroute 2.1's get_timeout().
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/traceroute/options.js';
import { newSlot } from '../../src/traceroute/probe-slot.js';
import { parseWaitArgument, probeTimeout } from '../../src/traceroute/wait-policy.js';
import { traceroute } from '../../src/traceroute/index.js';
import { WireIds } from '../../src/traceroute/wire-ids.js';
import { FakeClock, FakePath, fakeBackend, linearPath } from '../sim/fake-network.js';

describe('traceroute options', () => {
  it('has traceroute\'s defaults', () => {
    expect(resolveOptions({})).toMatchObject({
      method: 'udp', socket: 'auto', flow: 'paris', port: 33434, firstTtl: 1, maxTtl: 30, queries: 3, window: 16,
      wait: { maxMs: 5000, here: 3, near: 10 }, packetLength: null, discoverMtu: false, extensions: false, resolveNames: false,
    });
    expect(resolveOptions({ method: 'tcp' }).port).toBe(80);
    expect(resolveOptions({ discoverMtu: true })).toMatchObject({ window: 1, packetLength: 65000 });
    expect(resolveOptions({ wait: { maxMs: 1000 } }).wait).toEqual({ maxMs: 1000, here: 3, near: 10 });
  });

  it('names the option in every TypeError / RangeError', () => {
    const cases: Array<[unknown, RegExp, typeof TypeError | typeof RangeError]> = [
      [{ method: 'sctp' }, /option method must be one of/, RangeError],
      [{ maxTtl: 0 }, /option maxTtl must be an integer from 1 to 255/, RangeError],
      [{ firstTtl: 10, maxTtl: 5 }, /option firstTtl must be at most maxTtl/, RangeError],
      [{ queries: 1.5 }, /option queries/, RangeError],
      [{ window: '16' }, /option window must be a number/, TypeError],
      [{ wait: { here: -1 } }, /option wait.here/, RangeError],
      [{ family: 5 }, /option family must be 4 or 6/, RangeError],
      [{ source: 'eth0' }, /option source must be an IPv4 or IPv6 address/, RangeError],
      [{ device: 'a-very-long-interface-name' }, /option device/, RangeError],
      [{ tos: 256 }, /option tos/, RangeError],
      [{ method: 'tcp', discoverMtu: true }, /option discoverMtu/, RangeError],
      [{ signal: {} }, /option signal must be an AbortSignal/, TypeError],
      [{ socket: 'packet' }, /option socket/, RangeError],
      ['fast', /option options must be an object/, TypeError],
    ];
    for (const [opts, message, type] of cases) {
      expect(() => resolveOptions(opts), JSON.stringify(opts)).toThrow(type);
      expect(() => resolveOptions(opts), JSON.stringify(opts)).toThrow(message);
    }
  });

  it('rejects a bad target before any probe and a family that contradicts it', async () => {
    const clock = new FakeClock();
    const path = new FakePath(clock, linearPath(2));
    await expect(traceroute('', { backend: fakeBackend(clock, path) })).rejects.toThrow(/option target/);
    await expect(traceroute(42 as unknown as string, { backend: fakeBackend(clock, path) })).rejects.toThrow(TypeError);
    await expect(traceroute('10.0.0.1', { family: 6, backend: fakeBackend(clock, path) })).rejects.toThrow(/option family/);
    expect(path.sent).toEqual([]);
  });
});

describe('-w MAX,HERE,NEAR', () => {
  it('parses like traceroute: one value turns the factors off', () => {
    expect(parseWaitArgument('5,3,10')).toEqual({ maxMs: 5000, here: 3, near: 10 });
    expect(parseWaitArgument('0.5')).toEqual({ maxMs: 500, here: 0, near: 0 });
    // a factor left out of MAX,HERE keeps its default, as in traceroute
    expect(parseWaitArgument('2,1.5')).toEqual({ maxMs: 2000, here: 1.5, near: 10 });
    for (const bad of ['', 'x', '1,2,3,4', '-1', '1,,2', '0', '0,3,10']) expect(parseWaitArgument(bad), bad).toBeNull();
  });

  it('computes get_timeout(): HERE from the same hop first, then NEAR from the first later answer, capped by MAX', () => {
    const slots = [0, 1, 2, 3, 4, 5].map((i) => newSlot(i, 1 + Math.floor(i / 3), i % 3));
    const answer = (i: number, rtt: number) => Object.assign(slots[i]!, { sent: true, done: true, rtt });
    for (const s of slots) s.sent = true;
    const wait = { maxMs: 5000, here: 3, near: 10 };
    expect(probeTimeout(slots, 0, 3, wait)).toBe(5000);
    answer(4, 9);
    expect(probeTimeout(slots, 0, 3, wait)).toBe(100); // (9 + 1) × 10
    answer(2, 4);
    expect(probeTimeout(slots, 0, 3, wait)).toBe(15); // (4 + 1) × 3
    expect(probeTimeout(slots, 0, 3, { ...wait, maxMs: 12 })).toBe(12);
    expect(probeTimeout(slots, 0, 3, { maxMs: 5000, here: 0, near: 0 })).toBe(5000);
    slots[1]!.sent = false; // the forward scan stops at the first probe not sent yet
    expect(probeTimeout(slots, 0, 3, { ...wait, here: 0 })).toBe(5000);
  });
});

describe('wire identifiers', () => {
  it('never hands out a value still in flight, and wraps round', () => {
    const ids = new WireIds(10, 12);
    expect([ids.allocate(1), ids.allocate(2), ids.allocate(3)]).toEqual([10, 11, 12]);
    expect(() => ids.allocate(4)).toThrow(RangeError);
    ids.release(2);
    expect(ids.allocate(5)).toBe(11);
    expect(ids.probeOf(11)).toBe(5);
    expect(ids.wireOf(1)).toBe(10);
    ids.release(1);
    expect(ids.probeOf(10)).toBeUndefined();
  });
});
