// /proc/net/sockstat{,6} (src/sockets/sockstat.ts), which sizes a listing before reading it:
// never throws, and every expected line count is a non-negative integer, whatever the file
// says. The input is written as sockstat (and, after a NUL, sockstat6) in a private temporary
// directory, which the parser reads as it reads /proc/net.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateTableLines } from '../../../src/sockets/sockstat.js';
import { check, onlyTypedErrors } from '../invariants.js';

const dir = mkdtempSync(join(tmpdir(), 'netdiag-fuzz-sockstat-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

export function fuzz(data: Buffer): void {
  const nul = data.indexOf(0);
  writeFileSync(join(dir, 'sockstat'), nul >= 0 ? data.subarray(0, nul) : data);
  writeFileSync(join(dir, 'sockstat6'), nul >= 0 ? data.subarray(nul + 1) : Buffer.alloc(0));
  const lines = onlyTypedErrors(() => estimateTableLines(dir), [], 'estimateTableLines');
  for (const [table, n] of lines ?? []) {
    check(Number.isSafeInteger(n) && n >= 0, `sockstat: ${table} expects ${n} lines`);
  }
}
