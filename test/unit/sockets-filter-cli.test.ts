// `netdiag ss` with a malformed filter: exit 2 and one line naming the column, as ss refuses
// the same filters with a syntax error (issue 10, item 10).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { useFixtureProc } from '../helpers/proc-fixture.js';
import type { Output } from '../../src/cli/output.js';

useFixtureProc();

async function netdiag(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o: Output = { out: (t) => void (out += t), err: (t) => void (err += t), color: false, isTTY: false };
  const code = await run(argv, o, new AbortController().signal);
  return { code, out, err };
}

describe('netdiag ss filter syntax errors', () => {
  const cases: [string[], RegExp][] = [
    [['(', 'sport', '=', ':80'], /never closed/],
    [['sport', '=', ':80', ')'], /unbalanced '\)' at column 13/],
    [['('.repeat(1000)], /nests more than 64 levels/],
    [['sport', '=', ':80', 'and'], /'and' at column 13 of the filter needs a condition/],
  ];
  for (const [filter, message] of cases) {
    it(`refuses ${JSON.stringify(filter.join(' ').slice(0, 40))} with exit 2 and one line`, async () => {
      const r = await netdiag(['ss', '-tan', ...filter]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^netdiag: [^\n]*\n$/);
    });
  }

  it('still lists with a well-formed parenthesised filter', async () => {
    const r = await netdiag(['ss', '-tan', '(', 'sport', '>=', ':0', ')']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });
});
