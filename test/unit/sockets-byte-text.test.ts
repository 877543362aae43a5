// ByteText, the ss table's detail text written as bytes: numbers print as `${v}` does,
// millis() as String(Math.round(ms * 1000) / 1000), and text() keeps UTF-8.
import { describe, expect, it } from 'vitest';
import { ByteText } from '../../src/cli/sockets/byte-text.js';

const printed = (w: ByteText): string => w.buf.toString('utf8', 0, w.length);

describe('ByteText', () => {
  it('prints numbers as template strings do, null and non-integers included', () => {
    const values = [0, -0, 1, 9, 10, 99, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53, 1e21, 0.5, 1.25, -3, NaN, null];
    const w = new ByteText();
    for (const v of values) w.latin(' ').number(v);
    expect(printed(w)).toBe(values.map((v) => ` ${v}`).join(''));
  });

  it('prints milliseconds to the microsecond as String(Math.round(ms * 1000) / 1000)', () => {
    const values: number[] = [0, 0.001, 0.004, 0.01, 0.1, 0.5, 1, 1.004, 1.04, 1.4, 204, 0.0004, 0.0005, 123.4564, 2147483.647, 5e6, 1e9 + 0.001];
    for (let us = 0; us < 3000; us += 7) values.push(us / 1000);
    const w = new ByteText();
    for (const v of values) w.latin('|').millis(v);
    expect(printed(w)).toBe(values.map((v) => `|${String(Math.round(v * 1000) / 1000)}`).join(''));
  });

  it('grows past its first buffer and keeps UTF-8 text whole', () => {
    const w = new ByteText();
    const long = 'x'.repeat(100_000);
    w.latin(long).text(' /sys/fs/cgroup/ünïcode');
    expect(printed(w)).toBe(`${long} /sys/fs/cgroup/ünïcode`);
  });
});
