// The caps on every input (README "Limits") and the texts of what netdiag refuses: numbers as
// iputils and fping read them, target files read as bounded streams that stop on abort, hosts
// that cannot be targets, the library's arrays, and failure lines that name their own cause.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseNumberText, type OptionSpec } from '../../src/cli/args.js';
import { describeFailure, printable, printableLine } from '../../src/cli/failure-text.js';
import { run } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { InputError, InterruptedError, UsageError } from '../../src/errors.js';
import { pingMany, pingStream } from '../../src/ping/api.js';
import { MAX_TARGETS, MAX_TARGET_FILE_LINES, MAX_TARGET_LINE_BYTES, hostProblem, mappedIPv4 } from '../../src/target/index.js';
import { MAX_RANGE_ADDRESSES } from '../../src/cli/ping/address-range.js';
import { TargetListParser, readTargetFile } from '../../src/cli/ping/target-file.js';

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error('no UsageError');
}

describe('numeric flags', () => {
  const integer: OptionSpec = { key: 'c', names: ['-c'], kind: 'integer', min: 1, max: 1000, help: '' };
  const seconds: OptionSpec = { key: 'i', names: ['-i'], kind: 'number', min: 0, max: 100, help: '' };
  const tos: OptionSpec = { key: 'q', names: ['-Q'], kind: 'integer', min: 0, max: 255, hex: true, help: '' };
  const specs = [integer, seconds, tos];
  const value = (flag: string, raw: string): unknown => parseArgs([flag, raw], specs, 'ping').options[{ '-c': 'c', '-i': 'i', '-Q': 'q' }[flag]!];

  it('take plain decimal, as iputils and fping do', () => {
    expect(value('-c', '5')).toBe(5);
    expect(value('-c', '007')).toBe(7);
    expect(value('-i', '0.2')).toBe(0.2);
    expect(value('-i', '.5')).toBe(0.5);
    expect(value('-i', '0')).toBe(0);
    expect(value('-Q', '16')).toBe(16);
  });

  it('refuse what only JavaScript reads as a number, naming the option', () => {
    for (const raw of ['0x10', '0b11', '0o7', '1e3', ' 5', '5 ', '+5', 'Infinity', '1_000']) {
      expect(usageMessage(() => value('-c', raw)), raw).toMatch(new RegExp(`^option -c needs a number( in decimal digits)?, got '${raw.replace(/[+]/g, '\\+')}'`));
    }
    expect(usageMessage(() => value('-i', '1e-3'))).toMatch(/needs a number in decimal digits, got '1e-3'/);
    expect(usageMessage(() => value('-c', '1.0'))).toMatch(/needs a whole number/);
  });

  it('refuse a sign where the range has no negative numbers, -0 included', () => {
    expect(usageMessage(() => value('-i', '-0'))).toBe("option -i must be from 0 to 100, got '-0' (e.g. netdiag ping -i VALUE)");
    expect(usageMessage(() => value('-c', '-0'))).toMatch(/must be from 1 to 1000, got '-0'/);
    expect(parseNumberText('-x', '-3', { kind: 'integer', min: -5, max: 5 }, '')).toBe(-3);
  });

  it('take 0x hex only where the option says so (-Q, traceroute -t)', () => {
    expect(value('-Q', '0x10')).toBe(16);
    expect(value('-Q', '0XfF')).toBe(255);
    expect(usageMessage(() => value('-Q', '0x100'))).toMatch(/must be from 0 to 255/);
    expect(usageMessage(() => value('-Q', '0x'))).toMatch(/needs a number/);
    expect(usageMessage(() => value('-c', '0x10'))).toMatch(/in decimal digits, got/);
  });
});

describe('target files', () => {
  const parseWith = (caps: ConstructorParameters<typeof TargetListParser>[0], ...chunks: Array<string | Buffer>): string[] => {
    const p = new TargetListParser(caps);
    for (const c of chunks) p.push(typeof c === 'string' ? Buffer.from(c) : c);
    return p.end();
  };
  const parse = (...chunks: Array<string | Buffer>): string[] => parseWith(undefined, ...chunks);
  const inputError = (f: () => unknown): InputError => {
    try {
      f();
    } catch (e) {
      if (e instanceof InputError) return e;
      throw e;
    }
    throw new Error('no InputError');
  };

  it('share one target cap with -g and the library', () => {
    expect(MAX_RANGE_ADDRESSES).toBe(MAX_TARGETS);
  });

  it('join lines split across chunks and keep the first word', () => {
    expect(parse('127.0.', '0.1 x\n#c\n\n ::1\r', '\n127.0.0.2')).toEqual(['127.0.0.1', '::1', '127.0.0.2']);
  });

  it('cap the length of a line, across chunks, at the byte', () => {
    const half = Buffer.alloc(MAX_TARGET_LINE_BYTES / 2, 0x23); // '#': a comment, so only the length counts
    expect(parse(half, half, '\n')).toEqual([]);
    const e = inputError(() => parse(half, half, '#'));
    expect(e.problem).toBe(`line 1 is longer than ${MAX_TARGET_LINE_BYTES} bytes`);
    expect(inputError(() => parse(Buffer.alloc(1 << 20))).problem).toMatch(/^line 1 is longer/);
  });

  it('cap the number of lines and of targets', () => {
    const small = { targets: 2, lines: 5, lineBytes: MAX_TARGET_LINE_BYTES };
    expect(parseWith(small, '\n\n#\n127.0.0.1\n::1')).toEqual(['127.0.0.1', '::1']);
    expect(inputError(() => parseWith(small, '\n\n\n\n\n\n')).problem).toBe('more than 5 lines');
    expect(inputError(() => parseWith(small, 'a\nb\nc\n')).problem).toBe('more than 2 targets');
    // the real caps (the CLI test feeds an endless stdin up to the target cap)
    expect(inputError(() => parse(Buffer.alloc(MAX_TARGET_FILE_LINES + 1, 0x0a))).problem).toBe(`more than ${MAX_TARGET_FILE_LINES} lines`);
  });

  it('refuse a binary file by the line of its first bad host', () => {
    const e = inputError(() => parse('127.0.0.1\n\x7fELF\x02\x01\x1b[2J\n'));
    expect(e.problem).toBe('line 2: the host holds white space or control characters');
    expect(inputError(() => parse('::ffff:127.0.0.1\n')).fix).toBe('give the IPv4 address 127.0.0.1, one per line');
  });

  it('stop reading an endless stream when the signal aborts, and not before', async () => {
    const endless = new PassThrough();
    endless.write('127.0.0.1\n');
    const ac = new AbortController();
    const reading = readTargetFile('-', endless, ac.signal);
    setImmediate(() => ac.abort());
    await expect(reading).rejects.toThrow(InterruptedError);
    expect(endless.destroyed).toBe(true);
    await expect(readTargetFile('-', Readable.from(['::1\n']), ac.signal)).rejects.toThrow(/interrupted before the targets were read/);
    expect(await readTargetFile('-', Readable.from(['::1\n']), new AbortController().signal)).toEqual(['::1']);
  });
});

describe('hosts', () => {
  it('an IPv4-mapped IPv6 literal is refused with the IPv4 address to give', () => {
    for (const m of ['::ffff:127.0.0.1', '::FFFF:7f00:1', '0:0:0:0:0:ffff:127.0.0.1']) expect(mappedIPv4(m), m).toBe('127.0.0.1');
    for (const a of ['::1', '64:ff9b::7f00:1', '::127.0.0.1', '1::ffff:127.0.0.1', 'ffff::1', 'example.invalid']) expect(mappedIPv4(a), a).toBeNull();
  });

  it('empty, too long, white space and control bytes are refused', () => {
    expect(hostProblem('')!.problem).toBe('is empty');
    expect(hostProblem('a'.repeat(256))!.problem).toBe('is longer than 255 characters');
    expect(hostProblem('a'.repeat(253))).toBeNull();
    expect(hostProblem('a b')!.problem).toMatch(/white space/);
    expect(hostProblem('\x85')!.problem).toMatch(/control/);
    expect(hostProblem('fe80::1%eth0')).toBeNull();
  });
});

describe('the library refuses bad target arrays at the call, naming the option', () => {
  it('holes, the empty string and a mapped address', async () => {
    const holes = pingMany(new Array(3));
    await expect(holes).rejects.toThrow(TypeError);
    await expect(holes).rejects.toThrow('option targets[0] must be a host name or address, got undefined');
    await expect(pingMany(['127.0.0.1', ''])).rejects.toThrow(/option targets\[1\] must be a host name or address \(this one is empty/);
    expect(() => pingStream(['::ffff:127.0.0.1'])).toThrow(/targets\[0\] .*give the IPv4 address 127.0.0.1/);
  });

  it(`more than ${MAX_TARGETS} hosts`, async () => {
    const many = new Array<string>(MAX_TARGETS + 1).fill('127.0.0.1');
    const refused = pingMany(many);
    await expect(refused).rejects.toThrow(RangeError);
    await expect(refused).rejects.toThrow(`option targets must be at most ${MAX_TARGETS} hosts, got "${MAX_TARGETS + 1} hosts"`);
  });
});

describe('failure lines', () => {
  const system = (syscall: string, code: string, errno: number): Error =>
    Object.assign(new Error(`${code}: strerror text, ${syscall}`), { code, errno, syscall });

  it('explain each system error by its own cause; doctor only for privileges', () => {
    expect(describeFailure(system('setsockopt', 'ENODEV', 19), 'ping')).toBe('setsockopt failed with ENODEV: no such network interface (check the name given to -I: ip link lists the interfaces)');
    expect(describeFailure(system('setsockopt', 'ENODEV', 19), 'traceroute')).toMatch(/given to -i:/);
    expect(describeFailure(system('bind', 'EADDRNOTAVAIL', 99), 'traceroute')).toBe('bind failed with EADDRNOTAVAIL: the source address is not an address of this host (give -s an address that ip addr lists, or leave it out)');
    expect(describeFailure(system('socket', 'EPERM', 1), 'ping')).toMatch(/run netdiag doctor/);
    // TCP probes' source ports ran out; elsewhere (seqpacket) the error's own text stands
    expect(describeFailure(system('bind', 'EADDRINUSE', 98), 'traceroute')).toMatch(/no run of free local TCP ports .*ip_local_port_range\)$/);
    expect(describeFailure(system('bind', 'EADDRINUSE', 98), 'seqpacket')).toBe('bind failed with EADDRINUSE: strerror text (set NETDIAG_DEBUG=1 for details)');
    expect(describeFailure(system('recvmsg', 'EIO', 5), 'ping')).toBe('recvmsg failed with EIO: strerror text (set NETDIAG_DEBUG=1 for details)');
    const lookup = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: 'x.invalid' });
    expect(describeFailure(lookup, 'traceroute')).toBe('cannot resolve x.invalid: Name or service not known (check the name, or give an address)');
  });

  it("call V8's own errors internal, never a usage mistake of some flag", () => {
    expect(describeFailure(new RangeError('Invalid string length'), 'ping')).toMatch(/^internal error: Invalid string length \(please report it/);
    expect(describeFailure(new TypeError("Cannot read properties of null (reading 'length')"), 'ping')).toMatch(/^internal error: /);
    const option = Object.assign(new RangeError('option count must be ...'), { code: 'ERR_OUT_OF_RANGE' });
    expect(describeFailure(option, 'ping')).toBe('option count must be ... (see netdiag ping --help)');
  });

  it('write control bytes as \\xNN', () => {
    expect(printable('a\x1b[2J\x07\x9b\tb\n')).toBe('a\\x1b[2J\\x07\\x9b\tb\n');
    expect(printableLine('a\nb\tc\r')).toBe('a\\nb\\tc\\x0d');
  });

  it('ping --file with a binary file: one line, no control bytes', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-binary-'));
    try {
      const file = join(dir, 'x\x1b[31m.bin');
      writeFileSync(file, Buffer.from([0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]));
      const o = { stdout: '', stderr: '', color: false, isTTY: false } as Output & { stdout: string; stderr: string };
      o.out = (t) => void (o.stdout += t);
      o.err = (t) => void (o.stderr += t);
      expect(await run(['ping', '--file', file], o, new AbortController().signal)).toBe(2);
      expect(o.stdout).toBe('');
      expect(o.stderr).toBe(`netdiag: --file ${dir}/x\\x1b[31m.bin: line 1: the host holds white space or control characters (give a host name or address, one per line)\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
