#!/usr/bin/env node
// Sums the CI steps into one line: `tests: N passed, N failed, N skipped` (stdout), with a
// breakdown per step on stderr. Exit status 1 when anything failed.
//
//   node scripts/ci-summary.mjs MANIFEST
//
// MANIFEST has one tab-separated line per step: name, kind, file, exit status.
//   vitest  file is vitest's JSON report: numPassedTests, numFailedTests, and
//           numPendingTests + numTodoTests as skipped. A test file that failed to load (no
//           failed test inside) counts as one failure.
//   counts  file is the step's output; its last `<label>: N passed, N failed[, N skipped]` line.
//   check   a single check: passed when the exit status is 0.
//   setup   counted only when it failed (apt-get, npm ci): one failure.
//   report  never counted, whatever its exit status (benchmark figures for the log): listed
//           with its exit status only.
// Whatever the file says, a non-zero exit status with no failure counted adds one failure
// (a crashed worker, a sanitizer abort, a missing report), and so does a missing file.
import { readFileSync, existsSync } from 'node:fs';

const manifest = process.argv[2];
if (!manifest) {
  console.error('usage: ci-summary.mjs MANIFEST');
  process.exit(2);
}

const COUNT_LINE = /^([A-Za-z0-9_-]+): (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/;
const total = { passed: 0, failed: 0, skipped: 0 };
const rows = [];

function fromVitest(file) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  let failed = r.numFailedTests ?? 0;
  const notes = [];
  const failures = [];
  for (const f of r.testResults ?? []) {
    const inner = (f.assertionResults ?? []).some((a) => a.status === 'failed');
    // name every failed test, so the tail of the log says what failed without the step log
    for (const a of f.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      const why = String(a.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 160);
      failures.push(`${f.name.replace(/.*\/(test\/)/, '$1')} > ${a.fullName ?? a.title}: ${why}`);
    }
    if (f.status === 'failed' && !inner) {
      failed++;
      notes.push(`${f.name.replace(/.*\/(test\/)/, '$1')} failed to run: ${String(f.message ?? '').split('\n')[0].slice(0, 160)}`);
    }
  }
  return {
    passed: r.numPassedTests ?? 0,
    failed,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    notes,
    failures,
  };
}

function fromCounts(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = COUNT_LINE.exec(lines[i].replace(/\x1b\[[0-9;]*m/g, ''));
    if (m && m[1] !== 'tests') return { passed: +m[2], failed: +m[3], skipped: +(m[4] ?? 0), notes: [] };
  }
  return null;
}

for (const line of readFileSync(manifest, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const [name, kind, file, rcText] = line.split('\t');
  const rc = Number(rcText);
  if (kind === 'report') {
    rows.push({ name, report: { rc, file } });
    continue;
  }
  let c = { passed: 0, failed: 0, skipped: 0, notes: [] };
  try {
    if (kind === 'vitest' || kind === 'counts') {
      const got = file && existsSync(file) ? (kind === 'vitest' ? fromVitest(file) : fromCounts(file)) : null;
      if (got) c = got;
      else c.notes.push(`no ${kind === 'vitest' ? 'JSON report' : 'count line'} (${file || 'none'})`);
    } else if (kind === 'check') {
      if (rc === 0) c.passed = 1;
    } else if (kind !== 'setup') {
      c.notes.push(`unknown kind ${kind}`);
    }
  } catch (e) {
    c.notes.push(`unreadable ${file}: ${e.message}`);
  }
  if (rc !== 0 && c.failed === 0) {
    c.failed = 1;
    c.notes.push(`exit status ${rc}`);
  } else if (rc === 0 && c.notes.length && kind !== 'check' && kind !== 'setup') {
    c.failed++; // exit 0 but no report: the step did not report what it ran
  }
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
  rows.push({ name, ...c });
}

for (const r of rows) {
  if (r.report) {
    console.error(`[ci] info ${r.name.padEnd(14)} report, not counted: exit ${r.report.rc} (${r.report.file})`);
    continue;
  }
  const status = r.failed ? 'FAIL' : 'ok  ';
  console.error(`[ci] ${status} ${r.name.padEnd(14)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.notes.length ? ' — ' + r.notes.join('; ') : ''}`);
  for (const f of r.failures ?? []) console.error(`[ci]        failed: ${f}`);
}
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed ? 1 : 0);
