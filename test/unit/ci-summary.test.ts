// scripts/ci-summary.mjs: the one `tests:` line of .ci/run. A `report` step (npm run
// bench:quick) must never change that line or the exit status, whatever it printed or returned.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runProcessSync } from '../helpers/process.js';

const summary = join(import.meta.dirname, '../../scripts/ci-summary.mjs');
let dir: string | null = null;

/** Writes the files and a manifest of [name, kind, file, rc] rows, runs the summary. */
function summarize(files: Record<string, string>, steps: Array<[string, string, string, number]>) {
  dir = mkdtempSync(join(tmpdir(), 'ci-summary-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const manifest = join(dir, 'manifest.tsv');
  writeFileSync(manifest, steps.map(([name, kind, file, rc]) => `${name}\t${kind}\t${join(dir!, file)}\t${rc}\n`).join(''));
  return runProcessSync(process.execPath, [summary, manifest]);
}

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('ci-summary report steps', () => {
  const suite = JSON.stringify({ numPassedTests: 5, numFailedTests: 0, numPendingTests: 1, numTodoTests: 0, testResults: [] });

  it('a failed, timed-out or silent report adds nothing to the tests line and does not fail the run', () => {
    for (const rc of [0, 1, 2, 124]) {
      const r = summarize({ 'suite.json': suite }, [['suite', 'vitest', 'suite.json', 0], ['bench-quick', 'report', 'missing.log', rc]]);
      expect(r.stdout.trim()).toBe('tests: 5 passed, 0 failed, 1 skipped');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`bench-quick    report, not counted: exit ${rc}`);
    }
  });

  it('a count line inside a report is not read as test results', () => {
    const r = summarize(
      { 'suite.json': suite, 'bench.log': 'x: 3 passed, 2 failed, 1 skipped\n' },
      [['suite', 'vitest', 'suite.json', 0], ['bench-quick', 'report', 'bench.log', 0]],
    );
    expect(r.stdout.trim()).toBe('tests: 5 passed, 0 failed, 1 skipped');
  });

  it('the same file as a counts step is counted (the report kind is what exempts it)', () => {
    const r = summarize(
      { 'suite.json': suite, 'bench.log': 'x: 3 passed, 2 failed, 1 skipped\n' },
      [['suite', 'vitest', 'suite.json', 0], ['packed', 'counts', 'bench.log', 1]],
    );
    expect(r.stdout.trim()).toBe('tests: 8 passed, 2 failed, 2 skipped');
    expect(r.code).toBe(1);
  });
});

describe('ci-summary failed tests', () => {
  it('names each failed test and its first message line under its step, so the tail of the log says what failed', () => {
    const report = JSON.stringify({
      numPassedTests: 1, numFailedTests: 1, numPendingTests: 0, numTodoTests: 0,
      testResults: [{
        name: '/x/test/integration/a.test.ts', status: 'failed',
        assertionResults: [
          { status: 'passed', fullName: 'a works' },
          { status: 'failed', fullName: 'a breaks', failureMessages: ['AssertionError: expected 2 to be 1\n    at stack'] },
        ],
      }],
    });
    const r = summarize({ 'suite.json': report }, [['suite', 'vitest', 'suite.json', 1]]);
    expect(r.stdout.trim()).toBe('tests: 1 passed, 1 failed, 0 skipped');
    expect(r.stderr).toContain('failed: test/integration/a.test.ts > a breaks: AssertionError: expected 2 to be 1');
    expect(r.stderr).not.toContain('at stack');
  });
});
