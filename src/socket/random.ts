// Random numbers for identifiers and payload cookies, read from the kernel's generator
// (/dev/urandom) so that `netdiag ping` does not load node:crypto (and OpenSSL's setup) at
// start-up for a few bytes; node:crypto is the fallback where /dev/urandom cannot be read.
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/** n random bytes. */
export function randomBytesSync(n: number): Buffer {
  const out = Buffer.alloc(n);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      for (let got = 0; got < n; ) {
        const r = readSync(fd, out, got, n - got, null);
        if (r <= 0) throw new Error('short read from /dev/urandom');
        got += r;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  } catch {
    const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    return crypto.randomFillSync(out);
  }
}

/** A random integer from 1 to 65535 (an ICMP identifier). */
export function randomIdentifier(): number {
  for (;;) {
    const b = randomBytesSync(2);
    const v = (b[0]! << 8) | b[1]!;
    if (v !== 0) return v;
  }
}
