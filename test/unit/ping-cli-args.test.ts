// `netdiag ping` argument errors: exit 2 and one line on stderr naming the option, before any
// socket is opened; and the flag conversions (seconds to ms, defaults per mode, iputils' limits
// for users other than root).
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { toPingConfig } from '../../src/cli/ping/options.js';
import { parseArgs } from '../../src/cli/args.js';
import { pingOptionSpecs } from '../../src/cli/ping/options.js';
import { UsageError } from '../../src/errors.js';

function capture(): Output & { stdout: string; stderr: string } {
  const o = {
    stdout: '', stderr: '', color: false, isTTY: false,
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t),
  };
  return o;
}

async function ping(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = capture();
  const code = await run(['ping', ...argv], o, new AbortController().signal);
  return { code, stdout: o.stdout, stderr: o.stderr };
}

function config(argv: string[], euid = 0) {
  const { options, positionals } = parseArgs(argv, pingOptionSpecs, 'ping');
  return toPingConfig(options, positionals, euid);
}

describe('usage errors exit 2 with one line', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no host given/],
    [['-c', '0', 'h'], /-c must be from 1/],
    [['-c', 'x', 'h'], /-c needs a number/],
    [['-c', '1.5', 'h'], /-c needs a whole number/],
    [['-W', '0', 'h'], /-W must be from 0.001/],
    [['-s', '70000', 'h'], /-s must be from 0 to 65507/],
    [['-t', '0', 'h'], /-t must be from 1 to 255/],
    [['-t', '256', 'h'], /-t must be from 1 to 255/],
    [['-Q', '300', 'h'], /-Q must be from 0 to 255/],
    [['-M', 'maybe', 'h'], /-M must be one of do, dont, want/],
    [['--socket', 'packet', 'h'], /--socket must be one of raw, dgram, auto/],
    [['-p', 'zz', 'h'], /patterns must be specified as hex digits: zz/],
    [['-4', '-6', 'h'], /only one of -4 and -6/],
    [['-g', 'a', 'b', 'c'], /-g needs a CIDR block or a FROM and a TO/],
    [['-g', '10.0.0.0/33'], /prefix length .* must be 0 to 32/],
    [['-g', '10.0.0.9', '10.0.0.1'], /ends before it starts/],
    [['-g', '10.0.0.1', '::1'], /mixes IPv4 and IPv6/],
    [['-g', '::/64'], /more than the 1048576/],
    [['-f', 'a', 'b'], /-f floods one host/],
    [['--rate', '0', 'h'], /--rate must be from 0.001/],
    [['-l', '0', 'h'], /-l must be from 1 to 65536/],
    [['-x', 'h'], /unknown option -x/],
    [['--file'], /--file needs a file/],
    [['--file', '/nonexistent/targets'], /cannot read \/nonexistent\/targets: ENOENT/],
    [['-I', '1.2.3', 'h'], /neither an address nor an interface name/],
  ];
  for (const [argv, message] of cases) {
    it(`netdiag ping ${argv.join(' ')}`, async () => {
      const r = await ping(...argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.startsWith('netdiag: ')).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    });
  }

  it('--help prints the options and exits 0', async () => {
    const r = await ping('--help');
    expect(r.code).toBe(0);
    for (const flag of ['-c, --count', '-W, --timeout', '-w, --deadline', '--rate', '-g, --generate', '--socket', '-M']) expect(r.stdout).toContain(flag);
  });
});

describe('flags to configuration', () => {
  it('one host: iputils defaults (until Ctrl-C, 1 s interval, 10 s per probe)', () => {
    const c = config(['127.0.0.1']);
    expect(c.many).toBe(false);
    expect(c.engine).toMatchObject({ count: Infinity, interval: 1000, timeout: 10_000, deadline: null, size: 56, preload: 1 });
  });

  it('several hosts, -g, --file, -a or -u: fping-style, one probe each, 1 s timeout', () => {
    for (const argv of [['a', 'b'], ['-g', '10.0.0.0/30'], ['--file', 'x'], ['-a', 'a'], ['-u', 'a']]) {
      const c = config(argv);
      expect(c.many).toBe(true);
      expect(c.engine).toMatchObject({ count: 1, timeout: 1000 });
    }
  });

  it('turns seconds into milliseconds and reads -Q in hex', () => {
    const c = config(['-c', '3', '-i', '0.2', '-W', '1.5', '-w', '4', '-Q', '0x10', '--rate', '50', 'h']);
    expect(c.engine).toMatchObject({ count: 3, interval: 200, timeout: 1500, deadline: 4000, rate: 50 });
    expect(c.tos).toBe(16);
  });

  it('-f floods (interval 0) unless -i says otherwise; -I is an address or an interface', () => {
    expect(config(['-f', 'h']).engine.interval).toBe(0);
    expect(config(['-f', '-i', '0.01', 'h']).engine.interval).toBe(10);
    expect(config(['-I', '10.0.0.1', 'h'])).toMatchObject({ sourceAddress: '10.0.0.1' });
    expect(config(['-I', 'eth0', 'h'])).toMatchObject({ device: 'eth0' });
  });

  it('reads -4 and -6 as flags, alone or in a cluster, but not as an option value', () => {
    const parsed = parseArgs(['-6', '-4n', 'h', '--', '-6'], pingOptionSpecs, 'ping');
    expect(parsed.options).toMatchObject({ ipv6: true, ipv4: true, numeric: true });
    expect(parsed.positionals).toEqual(['h', '-6']);
    expect(config(['-6n', 'h'])).toMatchObject({ family: 6, numeric: true });
  });

  it('holds users other than root to iputils limits (2 ms interval, preload 3)', () => {
    expect(() => config(['-f', 'h'], 1000)).toThrow(UsageError);
    expect(() => config(['-i', '0.001', 'h'], 1000)).toThrow(/minimal interval allowed for user is 2ms/);
    expect(() => config(['-l', '4', 'h'], 1000)).toThrow(/preload to value greater than 3/);
    expect(config(['-l', '4', '-i', '0.001', 'h'], 0).engine).toMatchObject({ preload: 4, interval: 1 });
  });

  it('keeps probes for --json, except in the many-host summary (-q)', () => {
    expect(config(['--json', 'h']).engine.keepProbes).toBe(true);
    expect(config(['--json', '-q', 'a', 'b']).engine.keepProbes).toBe(false);
    expect(config(['h']).engine.keepProbes).toBe(false);
  });
});
