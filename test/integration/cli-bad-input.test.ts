// A hostile user's sweep over every command, kept in the suite: many bad argument vectors run
// through the built CLI, each of which must end with exit 2 and exactly one line on stderr
// (`netdiag: ...`, no stack trace, no control bytes) and nothing on stdout. Cases that fail
// while parsing run batched in one child through the exported run(); cases that get as far as
// sockets, and the valid runs, each get a process of their own. Targets: 127.0.0.1, ::1, names
// under .invalid, or none. Also: --file fed /dev/zero or an endless stdin stops at a cap, and
// SIGTERM stops a run that is reading an endless stdin.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/built-package.js';
import { runProcess } from '../helpers/process.js';
import { MAX_TARGETS, MAX_TARGET_LINE_BYTES } from '../../src/target/limits.js';

const dir = mkdtempSync(join(tmpdir(), 'netdiag-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const binary = join(dir, 'binary.bin');
writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x00, 0x07, 0x0a]));
const longLine = join(dir, 'long-line.txt');
writeFileSync(longLine, '127.0.0.1\n' + 'a'.repeat(MAX_TARGET_LINE_BYTES + 1) + '\n');
const mapped = join(dir, 'mapped.txt');
writeFileSync(mapped, '127.0.0.1\n::ffff:127.0.0.1\n');

/** Fails while parsing or reading its input: no socket opens, so many share one process. */
const parseFailures: string[][] = [
  [], ['pong'], ['\x1b[2J'], ['--bogus'], ['-x'],
  // ping: numbers as iputils and fping read them
  ['ping'], ['ping', ''], ['ping', '-c'], ['ping', '-c', '0x10', '127.0.0.1'], ['ping', '-c', '0b11', '127.0.0.1'],
  ['ping', '-c', '0o7', '127.0.0.1'], ['ping', '-c', '1e3', '127.0.0.1'], ['ping', '-c', '-0', '127.0.0.1'],
  ['ping', '-i', '-0', '127.0.0.1'], ['ping', '-i', '1e-3', '127.0.0.1'], ['ping', '-W', '0x1', '127.0.0.1'],
  ['ping', '-s', ' 56', '127.0.0.1'], ['ping', '-s', '56 ', '127.0.0.1'], ['ping', '-s', '+56', '127.0.0.1'],
  ['ping', '-t', 'Infinity', '127.0.0.1'], ['ping', '-t', 'NaN', '127.0.0.1'], ['ping', '-c', '9'.repeat(400), '127.0.0.1'],
  ['ping', '-c', '1.', '127.0.0.1'], ['ping', '-Q', '0x100', '127.0.0.1'], ['ping', '-Q', '0xZZ', '127.0.0.1'], ['ping', '-Q', '0X', '127.0.0.1'],
  ['ping', '-l', '0x3', '127.0.0.1'], ['ping', '-m', '1e1', '127.0.0.1'], ['ping', '--rate', '1e3', '127.0.0.1'],
  ['ping', '-a', '-u', '127.0.0.1'], ['ping', '-au', '127.0.0.1'], ['ping', '-4', '-6', '127.0.0.1'], ['ping', '-f', '127.0.0.1', '::1'],
  ['ping', '-M', 'maybe', '127.0.0.1'], ['ping', '--socket', 'packet', '127.0.0.1'], ['ping', '-p', 'zz', '127.0.0.1'],
  ['ping', '-I', '1.2.3', '127.0.0.1'], ['ping', '-I', 'a/b', '127.0.0.1'],
  // ping: TCP flags
  ['ping', '--tcp=0', '127.0.0.1'], ['ping', '--tcp=65536', '127.0.0.1'], ['ping', '--tcp=http', '127.0.0.1'], ['ping', '--tcp=', '127.0.0.1'],
  ['ping', '--tcp', '443', '127.0.0.1'], ['ping', '--tcp-method', 'connect', '127.0.0.1'], ['ping', '--tcp', '--tcp-method', 'rst', '127.0.0.1'],
  ['ping', '--tcp', '-s', '100', '127.0.0.1'], ['ping', '--tcp', '-p', 'ff', '127.0.0.1'], ['ping', '--tcp', '--socket', 'raw', '127.0.0.1'],
  ['ping', '--tcp=-80', '127.0.0.1'], ['ping', '--tcp=8\x1b', '127.0.0.1'],
  // ping: hosts
  ['ping', '::ffff:127.0.0.1'], ['ping', '::ffff:7f00:1'], ['ping', '\x01\x02'], ['ping', 'a b'], ['ping', '\x1b]0;title\x07'],
  ['ping', 'x'.repeat(300)], ['ping', '127.0.0.1', ''], ['ping', '--', '-c'],
  // ping: target lists
  ['ping', '--file'], ['ping', '--file', ''], ['ping', '--file', '/nonexistent/targets'], ['ping', '--file', dir],
  ['ping', '--file', '/dev/zero'], ['ping', '--file', binary], ['ping', '--file', longLine], ['ping', '--file', mapped],
  ['ping', '--file', '/dev/null'], ['ping', '--file', binary, '127.0.0.1'], ['ping', '-g', '--file', binary],
  ['ping', '-g'], ['ping', '-g', '::/0'], ['ping', '-g', '127.0.0.0/99'], ['ping', '-g', 'a', 'b'], ['ping', '-g', '127.0.0.1', '::1'],
  ['ping', '-g', '127.0.0.9', '127.0.0.1'], ['ping', '-g', '1', '2', '3'], ['ping', '-g', '\x07/24'],
  // traceroute
  ['traceroute'], ['trace', ''], ['trace', '-q', '0x1', '127.0.0.1'], ['trace', '-m', '1e2', '127.0.0.1'], ['trace', '-f', '-0', '127.0.0.1'],
  ['trace', '127.0.0.1', '0x10'], ['trace', '127.0.0.1', '1e3'], ['trace', '127.0.0.1', '-1'], ['trace', '127.0.0.1', ' 60'],
  ['trace', '-w', '1e3', '127.0.0.1'], ['trace', '-w', '0x5', '127.0.0.1'], ['trace', '-w', '-1', '127.0.0.1'],
  ['trace', '-I', '-T', '127.0.0.1'], ['trace', '::ffff:127.0.0.1'], ['trace', '\x1b[31m'], ['trace', '-p', '65536', '127.0.0.1'],
  ['trace', '-N', '0', '127.0.0.1'], ['trace', '-4', '-6', '127.0.0.1'], ['trace', '--cycles', '5', '127.0.0.1'],
  ['trace', 'a', 'b', 'c'], ['trace', '-t', '0x1FF', '127.0.0.1'], ['trace', '-s', 'nohost', '127.0.0.1'], ['trace', '-s', '::1', '127.0.0.1'],
  ['trace', '--interval', '1e1', '--report', '127.0.0.1'], ['trace', '--paris', '--classic', '127.0.0.1'],
  // sockets
  ['sockets', '--pid', '0x1'], ['sockets', '--pid', '-0'], ['sockets', '--netns-pid', '1e3'], ['sockets', '--netns-pid', '0x1'],
  ['ss', '-Z'], ['ss', 'state', 'nonsense'], ['ss', '--src', '\x07'], ['ss', '--watch', '--json'], ['ss', '--dport', '0x16'],
  // ipc
  ['ipc'], ['ipc', 'bogus'], ['ipc', 'listen'], ['ipc', 'listen', ''], ['ipc', 'listen', '@x', '--allow-uid', '4294967296'],
  ['ipc', 'listen', '@x', '--allow-uid', '0x10'], ['ipc', 'listen', '@x', '--allow-uid', '-0'], ['ipc', 'listen', '@x', '--allow-uid', '1e3'],
  ['ipc', 'listen', '@x', '--max-size', '1e3'], ['ipc', 'listen', '@x', '--max-size', '0x10'], ['ipc', 'listen', '@x', '--mode', '999'],
  ['ipc', 'send', '@x'], ['ipc', 'send', '@x', 'm', '--timeout', '1e3'], ['ipc', 'send', '@x', 'm', '--timeout', '-0'],
  // doctor
  ['doctor', 'extra'], ['doctor', '--bogus'], ['doctor', '-c', '1'],
];

/** Fails only once sockets are open (or names resolve): one process each. */
const setupFailures: Array<{ argv: string[]; message: RegExp }> = [
  { argv: ['ping', '-c', '1', '-I', 'nosuchif0', '127.0.0.1'], message: /no such network interface \(check the name given to -I/ },
  { argv: ['trace', '-i', 'nosuchif0', '127.0.0.1'], message: /no such network interface \(check the name given to -i/ },
  // the kernel refuses the bind locally: nothing is sent
  { argv: ['trace', '-s', '10.9.9.9', '127.0.0.1'], message: /source address is not an address of this host \(give -s / },
  { argv: ['ping', '-c', '1', '-I', '10.9.9.9', '127.0.0.1'], message: /source address is not an address of this host \(give -I / },
  { argv: ['trace', 'no-such.invalid'], message: /^netdiag: cannot resolve no-such\.invalid: .* \(check the name, or give an address\)\n$/ },
  { argv: ['ping', 'no-such.invalid'], message: /^netdiag: cannot resolve no-such\.invalid: .* \(check the name, or give an address\)\n$/ },
];

/** Valid runs: exit 0 or 1, stdout a JSON document with --json. */
const validRuns: string[][] = [
  ['ping', '-c', '1', '-W', '1', '--json', '127.0.0.1'],
  ['ping', '-c', '1', '-W', '1', '-Q', '0x10', '--json', '127.0.0.1', '::1'],
  ['traceroute', '-n', '-q', '1', '-m', '2', '--json', '127.0.0.1'],
  ['sockets', '-t', '--json'],
  ['doctor', '--json'],
];

function expectOneErrorLine(stderr: string, label: string): void {
  expect(stderr, label).toMatch(/^netdiag: [^\n]+\n$/);
  expect(stderr, label).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  expect(stderr, label).not.toMatch(/\bat .*\.(?:js|ts):\d+/);
  expect(stderr, label).not.toMatch(/internal error/);
}

describe('bad input over every command', () => {
  it(`${parseFailures.length} argument vectors that fail while parsing: exit 2, one clean line, no stdout`, async () => {
    const r = await runProcess(process.execPath, [join(repoRoot, 'test/fixtures/cli-batch-runner.mjs'), join(repoRoot, 'dist/bin/cli.js')], {
      input: JSON.stringify(parseFailures), timeoutMs: 120_000,
    });
    cliPath();
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Array<{ code: number | string; stdout: string; stderr: string }>;
    expect(results).toHaveLength(parseFailures.length);
    results.forEach((res, i) => {
      const label = `netdiag ${JSON.stringify(parseFailures[i])}: ${JSON.stringify(res)}`;
      expect(res.code, label).toBe(2);
      // bare `netdiag` and `netdiag ipc` print their usage on stderr instead of one line
      if (parseFailures[i]!.length === 0 || (parseFailures[i]!.length === 1 && parseFailures[i]![0] === 'ipc')) {
        expect(res.stderr, label).toMatch(/^usage: /);
        return;
      }
      expect(res.stdout, label).toBe('');
      expectOneErrorLine(res.stderr, label);
    });
  });

  for (const { argv, message } of setupFailures) {
    it(`netdiag ${argv.join(' ')}: its own cause and fix, not doctor`, async () => {
      const r = await runProcess(process.execPath, [cliPath(), ...argv], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expectOneErrorLine(r.stderr, argv.join(' '));
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/doctor/);
    });
  }

  for (const argv of validRuns) {
    it(`netdiag ${argv.join(' ')}: exit 0 or 1 and one JSON document`, async () => {
      const r = await runProcess(process.execPath, [cliPath(), ...argv], { timeoutMs: 30_000 });
      expect([0, 1], r.stderr).toContain(r.code);
      expect(() => JSON.parse(r.stdout), r.stdout).not.toThrow();
      expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
    });
  }

  it('ping -v says on stderr, in one line, how many threads dropped their capabilities', async () => {
    const r = await runProcess(process.execPath, [cliPath(), 'ping', '-v', '-c', '1', '-W', '1', '127.0.0.1'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^netdiag: capabilities dropped on (\d+) of (\d+) threads( \([^)]*\))?\n$/);
    const [, dropped, threads] = /dropped on (\d+) of (\d+)/.exec(r.stderr)!;
    expect(Number(dropped)).toBeGreaterThan(0);
    expect(Number(dropped)).toBeLessThanOrEqual(Number(threads));
  });
});

describe('endless target lists', () => {
  it('--file /dev/zero stops at the line cap with exit 2', async () => {
    const r = await runProcess(process.execPath, [cliPath(), 'ping', '--file', '/dev/zero'], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`netdiag: --file /dev/zero: line 1 is longer than ${MAX_TARGET_LINE_BYTES} bytes (give one host per line; is this a target list?)\n`);
  });

  it('--file - fed an endless stream of hosts stops at the target cap with exit 2', async () => {
    const result = await startEndless(['ping', '--file', '-']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`netdiag: --file -: more than ${MAX_TARGETS} targets (netdiag takes at most ${MAX_TARGETS} targets per run: split the list)\n`);
    expect(result.stdout).toBe('');
  });

  it('SIGTERM stops a run that is reading an endless stdin', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [cliPath(), 'ping', '--file', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdin.on('error', () => {});
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // more than a pipe (a socketpair) holds: 'drain' means the child has been reading it, so
    // its signal handlers are in place; the pipe stays open and the reader waits for more
    const more = Buffer.from('127.0.0.1\n'.repeat(200_000));
    if (!child.stdin.write(more)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    child.kill('SIGTERM');
    const code = await exited;
    child.stdin.destroy();
    expect(code).toBe(2);
    expect(stderr).toMatch(/^netdiag: interrupted (before|while reading) the targets \(nothing was sent\)\n$/);
  });
});

/** Runs netdiag with a stdin that writes hosts for as long as it reads them. */
function startEndless(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return import('node:child_process').then(({ spawn }) => new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const block = Buffer.from('127.0.0.1\n'.repeat(6554));
    let open = true;
    child.stdin.on('error', () => (open = false));
    child.stdin.on('close', () => (open = false));
    const pump = (): void => {
      while (open && child.stdin.write(block));
      if (open) child.stdin.once('drain', pump);
    };
    pump();
    child.on('close', (code) => {
      open = false;
      child.stdin.destroy();
      resolve({ code, stdout, stderr });
    });
  }));
}
