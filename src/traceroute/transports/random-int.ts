// Random integers for the transports' payload cookies and first wire ids, drawn from the
// kernel's generator (src/socket/random.ts) rather than node:crypto: loading node:crypto for a
// few bytes costs every trace some 3–4 ms of start-up (ping avoids it the same way).
import { randomBytesSync } from '../../socket/random.js';

const SPAN = 0x100000000;

/** A uniform random integer in [min, max), as crypto.randomInt; the range may span up to 2^32. */
export function randomInt(min: number, max: number): number {
  const range = max - min;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || range < 1 || range > SPAN) {
    throw new RangeError(`randomInt needs whole numbers min < max with max - min <= 2^32, got ${min} and ${max}`);
  }
  // 32-bit draws at or past the last whole multiple of the range would favour small results: redraw
  const limit = SPAN - (SPAN % range);
  for (;;) {
    const v = randomBytesSync(4).readUInt32BE(0);
    if (v < limit) return min + (v % range);
  }
}
