import { describe, expect, it } from 'vitest';
import { parseArgs, type OptionSpec } from '../../src/cli/args.js';
import { UsageError } from '../../src/errors.js';
import { run } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';

const specs: OptionSpec[] = [
  { key: 'count', names: ['-c', '--count'], kind: 'integer', value: 'count', min: 1, max: 1000, example: '-c 5', help: '' },
  { key: 'interval', names: ['-i'], kind: 'number', value: 'seconds', min: 0, help: '' },
  { key: 'numeric', names: ['-n'], kind: 'flag', help: '' },
  { key: 'quiet', names: ['-q'], kind: 'flag', help: '' },
  { key: 'socket', names: ['--socket'], kind: 'string', choices: ['raw', 'dgram', 'auto'], help: '' },
  { key: 'file', names: ['--file'], kind: 'list', help: '' },
];

function usageError(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('no UsageError');
}

describe('parseArgs', () => {
  it('reads clusters, attached and separate values, long forms and positionals', () => {
    const r = parseArgs(['-nqc3', '-i', '0.2', '--socket=raw', 'host1', '--file', 'a', '--file=b', '--', '-notanoption'], specs, 'ping');
    expect(r.options).toEqual({ numeric: true, quiet: true, count: 3, interval: 0.2, socket: 'raw', file: ['a', 'b'] });
    expect(r.positionals).toEqual(['host1', '-notanoption']);
  });
  it('names the option and shows a correct form on a bad value', () => {
    const e = usageError(() => parseArgs(['-c', 'many'], specs, 'ping'));
    expect(e.message).toBe("option -c needs a number, got 'many' (e.g. netdiag ping -c 5)");
    expect(usageError(() => parseArgs(['-c', '1.5'], specs, 'ping')).message).toMatch(/whole number/);
    expect(usageError(() => parseArgs(['-c', '0'], specs, 'ping')).message).toMatch(/from 1 to 1000/);
    expect(usageError(() => parseArgs(['-c'], specs, 'ping')).message).toMatch(/option -c needs a count/);
    expect(usageError(() => parseArgs(['--socket', 'x'], specs, 'ping')).message).toMatch(/one of raw, dgram, auto/);
    expect(usageError(() => parseArgs(['-z'], specs, 'ping')).message).toMatch(/unknown option -z/);
    expect(usageError(() => parseArgs(['--coun'], specs, 'ping')).message).toMatch(/did you mean --count/);
    expect(usageError(() => parseArgs(['-n=1'], specs, 'ping')).message).toMatch(/unknown option -=/);
  });
  it('keeps negative numbers as values', () => {
    expect(usageError(() => parseArgs(['-i', '-1'], specs, 'ping')).message).toMatch(/from 0 to inf/);
  });
});

function capture(): Output & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', color: false, isTTY: false, out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t) };
  return o;
}

describe('netdiag entry point', () => {
  it('an unknown command is one line on stderr and exit 2', async () => {
    const o = capture();
    expect(await run(['pong'], o)).toBe(2);
    expect(o.stderr).toBe("netdiag: unknown command 'pong' (commands are: ping, traceroute, sockets, ipc, doctor, serve)\n");
    expect(o.stdout).toBe('');
  });
  it('no command prints usage on stderr with exit 2; --help on stdout with exit 0', async () => {
    const a = capture();
    expect(await run([], a)).toBe(2);
    expect(a.stderr).toMatch(/^usage: netdiag <command>/);
    const b = capture();
    expect(await run(['--help'], b)).toBe(0);
    expect(b.stdout).toMatch(/doctor/);
  });
  it('a bad doctor option is a usage error', async () => {
    const o = capture();
    expect(await run(['doctor', '--bogus'], o)).toBe(2);
    expect(o.stderr.trim().split('\n')).toHaveLength(1);
    expect(o.stderr).toMatch(/^netdiag: unknown option --bogus \(/);
  });
});
