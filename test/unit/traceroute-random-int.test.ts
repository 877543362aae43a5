// The transports' random integers (src/traceroute/transports/random-int.ts): crypto.randomInt's
// contract, [min, max), without loading node:crypto.
import { describe, expect, it } from 'vitest';
import { randomInt } from '../../src/traceroute/transports/random-int.js';

describe('randomInt', () => {
  it('stays in [min, max) and reaches both ends of a small range', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = randomInt(5, 9);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(5);
      expect(v).toBeLessThan(9);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([5, 6, 7, 8]);
  });

  it('covers the full 32-bit span the payload cookies use', () => {
    const values = Array.from({ length: 200 }, () => randomInt(0, 0x100000000));
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(0xffffffff);
    }
    // 200 draws from 2^32 values: all in the low half would be a 1-in-2^200 event
    expect(values.some((v) => v >= 0x80000000)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(190);
  });

  it('a range of one value is that value', () => {
    expect(randomInt(7, 8)).toBe(7);
  });

  it('refuses empty, fractional and over-wide ranges', () => {
    expect(() => randomInt(3, 3)).toThrow(RangeError);
    expect(() => randomInt(0, 1.5)).toThrow(RangeError);
    expect(() => randomInt(0, 0x100000001)).toThrow(RangeError);
  });
});
