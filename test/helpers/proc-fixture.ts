// Points PROC_ROOT (where the socket lister reads /proc, as ss does) at the fixture /proc for
// the tests of the calling file or describe block, and restores it afterwards.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const fixtureProcRoot = join(import.meta.dirname, '../fixtures/proc');

export function useFixtureProc(): void {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.PROC_ROOT;
    process.env.PROC_ROOT = fixtureProcRoot;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.PROC_ROOT;
    else process.env.PROC_ROOT = saved;
  });
}
