// Workers terminated in the middle of netdiag runs: the process survives (no C++ exception
// escaping into Node-API, which is SIGABRT for everyone) and the workers' sockets are closed
// with them. The worker loops run in a child process, so that a crash is seen as its exit
// status instead of killing the test runner; only 127.0.0.1 and ::1 are probed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonInfo } from '../../src/native.js';
import { repoRoot } from '../helpers/built-package.js';
import { unmet } from '../helpers/requirements.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/native', name);

// ms after the worker's creation (termination while the module and the addon load) and, the
// same again, after its first event (sockets open, probes in flight)
const DELAYS = [0, 1, 2, 3, 5, 10, 20, 40, 60, 80];
const ROUNDS = 3; // 10 delays x 2 anchors x 3 = 60 workers per scenario

interface Summary {
  scenario: string;
  workers: number;
  ran: number;
  errors: string[];
  before: number;
  after: number;
}

function terminateWorkers(scenario: string): { status: number | null; signal: string | null; stderr: string; summary: Summary | null } {
  const lib = join(repoRoot, 'dist/index.js');
  if (!existsSync(lib)) throw new Error('dist/ is missing: run npm run build:ts before the integration tests (the workers import it)');
  const r = spawnSync(
    process.execPath,
    [fixture('terminate-workers.mjs'), lib, scenario, DELAYS.join(','), String(ROUNDS)],
    { encoding: 'utf8', timeout: 240_000 },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, signal: r.signal, stderr: r.stderr, summary: last.startsWith('{') ? (JSON.parse(last) as Summary) : null };
}

const SCENARIOS: Array<{ scenario: string; raw: boolean }> = [
  { scenario: 'ping', raw: false },
  { scenario: 'trace-icmp', raw: false },
  { scenario: 'trace-udp', raw: false },
  { scenario: 'trace-tcp', raw: true },
  { scenario: 'seqpacket', raw: false },
];

describe('workers terminated mid-run', () => {
  for (const { scenario, raw } of SCENARIOS) {
    const missing = raw ? unmet(['net_raw']) : null;
    it.skipIf(missing !== null)(
      `${scenario}: the process survives 60 terminations and keeps no socket of theirs${missing ? ` (skipped: ${missing})` : ''}`,
      () => {
        const r = terminateWorkers(scenario);
        // 134 / SIGABRT: "terminate called after throwing an instance of 'Napi::Error'"
        expect(r.stderr).not.toMatch(/terminate called|Aborted|FATAL ERROR|AddressSanitizer|runtime error/);
        expect(r.signal).toBeNull();
        expect(r.status).toBe(0);
        const s = r.summary!;
        expect(s).not.toBeNull();
        expect(s.errors).toEqual([]);
        expect(s.workers).toBe(DELAYS.length * 2 * ROUNDS);
        // the runs were really going when their workers were terminated
        expect(s.ran).toBeGreaterThanOrEqual(DELAYS.length * ROUNDS);
        // sockets of this process (the workers' parent) before and after: none left behind
        expect(s.after).toBe(s.before);
      },
      300_000,
    );
  }
});

describe('fd ownership across a worker teardown', () => {
  const run = (mode: string) => {
    const r = spawnSync(process.execPath, [fixture('fd-ownership-worker.cjs'), addonInfo().path, mode], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout.trim()) as Record<string, number | boolean>;
  };

  it('an fd the worker closed is forgotten: its number, reused by another thread, stays open', () => {
    const o = run('closed-then-reused');
    expect(o.mine).toBe(o.workerFd); // the number really was reused
    expect(o.mineStillOpen).toBe(true);
  });

  it('a received fd released to the application outlives the worker', () => {
    const o = run('released');
    expect(o.receivedStillOpen).toBe(true);
  });
});
