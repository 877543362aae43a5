// `netdiag serve`'s command line: --listen, --gzip and the rest parsed into what the command
// runs with, and a bad value refused through the entry point as one line with exit code 2.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { parseListen, parseServeInvocation } from '../../src/cli/serve/args.js';
import { UsageError } from '../../src/errors.js';

function capture(): Output & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', color: false, isTTY: false, out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t) };
  return o;
}

describe('serve command line', () => {
  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:9374')).toEqual({ host: '127.0.0.1', port: 9374 });
    expect(parseListen('[::1]:9374')).toEqual({ host: '::1', port: 9374 });
    expect(parseListen(':9374')).toEqual({ host: '::', port: 9374 });
    for (const bad of ['9374', 'localhost:9374', '::1:9374', '[127.0.0.1]:1', '1.2.3.4:99999', '1.2.3.4:']) {
      expect(() => parseListen(bad)).toThrow(UsageError);
    }
  });

  it('takes --gzip remote, when-asked or never; remote when not given', () => {
    expect(parseServeInvocation(['--target', '127.0.0.1'])).toMatchObject({ gzip: 'remote', listen: { host: '127.0.0.1', port: 9374 }, file: null, socket: 'auto', compat: null });
    for (const policy of ['remote', 'when-asked', 'never']) {
      expect(parseServeInvocation(['--target', '127.0.0.1', '--gzip', policy])).toMatchObject({ gzip: policy });
      expect(parseServeInvocation(['--target', '127.0.0.1', `--gzip=${policy}`])).toMatchObject({ gzip: policy });
    }
    expect(() => parseServeInvocation(['--target', '127.0.0.1', '--gzip', 'always'])).toThrow(UsageError);
  });

  it.each([
    [['--gzip', 'always'], "netdiag: option --gzip must be one of remote, when-asked, never, got 'always' (e.g. netdiag serve --gzip when-asked)\n"],
    [['--gzip'], 'netdiag: option --gzip needs a remote|when-asked|never (e.g. netdiag serve --gzip when-asked)\n'],
    [['--gzip', ''], "netdiag: option --gzip must be one of remote, when-asked, never, got '' (e.g. netdiag serve --gzip when-asked)\n"],
  ])('refuses %j before anything is opened: one line naming --gzip and its choices, exit 2', async (flags, message) => {
    const o = capture();
    expect(await run(['serve', '--target', '127.0.0.1', ...flags], o)).toBe(2);
    expect(o.stderr).toBe(message);
    expect(o.stdout).toBe('');
  });

  it('says --gzip and its choices in --help', async () => {
    const o = capture();
    expect(await run(['serve', '--help'], o)).toBe(0);
    expect(o.stdout).toMatch(/^usage: netdiag serve .*\[--gzip remote\|when-asked\|never\]$/m);
    expect(o.stdout).toMatch(/^ {2}--gzip remote\|when-asked\|never\n? +gzip \/metrics .*remote \(default.*\), when-asked or never$/m);
  });
});
