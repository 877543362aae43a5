// TCP ping at the boundaries: library options that name what is wrong, isReachable's
// host:port spellings, the --tcp[=PORT] and --tcp-method flags, and the text for one host
// (iputils-like) and many (fping-like) that says open, closed and filtered plainly.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { FpingPrinter } from '../../src/cli/ping/fping-text.js';
import { IputilsPrinter } from '../../src/cli/ping/iputils-text.js';
import { expandTcpFlag, pingOptionSpecs, toPingConfig } from '../../src/cli/ping/options.js';
import { UsageError } from '../../src/errors.js';
import { splitHostPort } from '../../src/ping/api.js';
import { normalizeOptions } from '../../src/ping/options.js';
import { TargetState } from '../../src/ping/target-state.js';
import type { PingEvent, PingTarget } from '../../src/ping/types.js';

describe('library options', () => {
  it('fills in TCP defaults', () => {
    const o = normalizeOptions({ method: 'tcp' });
    expect([o.method, o.port, o.tcpMethod, o.engine.size]).toEqual(['tcp', 80, 'auto', 0]);
    expect(normalizeOptions({ method: 'tcp', port: 5432, tcpMethod: 'connect' })).toMatchObject({ port: 5432, tcpMethod: 'connect' });
    expect(normalizeOptions({})).toMatchObject({ method: 'icmp', port: null });
  });

  it.each([
    [{ method: 'udp' }, RangeError, /options\.method/],
    [{ method: 'tcp', port: 0 }, RangeError, /options\.port/],
    [{ method: 'tcp', port: 65536 }, RangeError, /options\.port/],
    [{ method: 'tcp', port: 80.5 }, RangeError, /options\.port/],
    [{ method: 'tcp', port: '80' }, TypeError, /options\.port/],
    [{ port: 80 }, RangeError, /options\.port must be left out unless method is "tcp"/],
    [{ tcpMethod: 'syn' }, RangeError, /options\.tcpMethod/],
    [{ method: 'tcp', tcpMethod: 'rst' }, RangeError, /options\.tcpMethod/],
    [{ method: 'tcp', size: 100 }, RangeError, /options\.size/],
    [{ method: 'tcp', pattern: 'ff' }, RangeError, /options\.pattern/],
    [{ method: 'tcp', socket: 'raw' }, RangeError, /options\.socket.*tcpMethod/],
  ])('refuses %j naming the option', (opts, type, text) => {
    expect(() => normalizeOptions(opts)).toThrow(type);
    expect(() => normalizeOptions(opts)).toThrow(text);
  });
});

describe('isReachable host spellings', () => {
  it.each([
    ['db.internal:5432', 'db.internal', 5432],
    ['127.0.0.1:80', '127.0.0.1', 80],
    ['[::1]:5432', '::1', 5432],
    ['[fe80::1%eth0]:22', 'fe80::1%eth0', 22],
    ['::1', '::1', null],
    ['fe80::1:22', 'fe80::1:22', null],
    ['db.internal', 'db.internal', null],
    ['host:', 'host:', null],
    ['host:http', 'host:http', null],
  ])('%s', (text, host, port) => {
    expect(splitHostPort(text)).toEqual({ host, port });
  });
});

describe('--tcp and --tcp-method', () => {
  function config(argv: string[], euid = 0) {
    const { options, positionals } = parseArgs(expandTcpFlag(argv), pingOptionSpecs, 'ping');
    return toPingConfig(options, positionals, euid);
  }

  it('--tcp alone is port 80 and keeps the next word a host; --tcp=PORT sets the port', () => {
    expect(config(['--tcp', '127.0.0.1'])).toMatchObject({ method: 'tcp', port: 80, tcpMethod: 'auto' });
    expect(config(['--tcp=443', '--tcp-method', 'connect', '-c', '2', '::1'])).toMatchObject({ method: 'tcp', port: 443, tcpMethod: 'connect', count: 2 });
    expect(config(['127.0.0.1', '--tcp'])).toMatchObject({ port: 80 });
    expect(config(['127.0.0.1']).method).toBeUndefined();
    // after --, words are hosts
    expect(expandTcpFlag(['--', '--tcp'])).toEqual(['--', '--tcp']);
  });

  it('leaves the payload size out for TCP (the engine sends bare SYNs)', () => {
    const cfg = config(['--tcp', '127.0.0.1']);
    expect(cfg.size).toBeUndefined();
    expect(cfg.engine.size).toBe(0);
  });

  it.each([
    [['--tcp', '443', '127.0.0.1'], /--tcp=443/],
    [['--tcp-method', 'syn', '127.0.0.1'], /--tcp-method needs --tcp/],
    [['--tcp', '-s', '10', '127.0.0.1'], /drop -s/],
    [['--tcp', '-p', 'ff', '127.0.0.1'], /drop -p/],
    [['--tcp', '--socket', 'dgram', '127.0.0.1'], /--tcp-method/],
  ])('refuses %j with the fix', (argv, fix) => {
    let err: unknown;
    try {
      config(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(String((err as Error).message) + String((err as UsageError).fix)).toMatch(fix);
  });
});

describe('text', () => {
  const info: PingTarget = { target: 'db', address: '10.0.0.5', family: 4 };
  const reply = (seq: number, state: 'open' | 'closed', rtt: number): PingEvent => ({
    type: 'reply', index: 0, target: info, seq,
    reply: { rtt, ttl: 64, tos: 0, bytes: 20, from: '10.0.0.5', flags: [], receivedAt: 0, mismatch: null, state },
  });
  const events: PingEvent[] = [
    reply(1, 'open', 0.052),
    reply(2, 'closed', 0.031),
    { type: 'timeout', index: 0, target: info, seq: 3 },
    { type: 'error', index: 0, target: info, seq: 4, from: '10.0.0.1', rtt: 0.3, receivedAt: 0, error: { type: 3, code: 13, message: 'Packet filtered', mtu: null } },
  ];

  it('one host: iputils layout, the port state on every line, closed in the statistics', () => {
    const p = new IputilsPrinter({
      host: 'db', address: '10.0.0.5', family: 4, size: 0, quiet: false, flood: false, timestamps: false, names: null, patternText: null,
      source: null, device: null, interval: 1000, tcp: { port: 443, method: 'tcp-syn', timeout: 1000 },
    }, () => {});
    expect(p.header()).toBe('PING db (10.0.0.5) TCP port 443 (syn).\n');
    expect(events.map((e) => p.line(e)).join('')).toBe(
      'port 443 open: seq=1 time=0.052 ms\n' +
      'port 443 closed: seq=2 time=0.031 ms\n' +
      'port 443 filtered: seq=3 no answer within 1000 ms\n' +
      'port 443 filtered: seq=4 from 10.0.0.1: Packet filtered\n',
    );
    const t = new TargetState(0, info, false, undefined, true);
    Object.assign(t, { transmitted: 4, received: 2, closed: 1, lost: 2, lastSentAt: 3000 });
    t.stats.add(0.052);
    t.stats.add(0.031);
    expect(p.summary(t, 0)).toBe(
      '\n--- db ping statistics ---\n4 packets transmitted, 2 received, 1 closed, 50% packet loss, time 3000ms\nrtt min/avg/max/mdev = 0.031/0.041/0.052/0.010 ms\n',
    );
  });

  it('many hosts: fping layout with the port state, and closed counts in the summary', () => {
    const t = new TargetState(0, info, false, undefined, true);
    const p = new FpingPrinter([t], { quiet: false, alive: false, unreachable: false, tcpPort: 443 });
    Object.assign(t, { transmitted: 1, received: 1 });
    t.stats.add(0.052);
    expect(p.line(events[0]!)).toBe('db : [0], port 443 open, 0.052 ms (0.052 avg, 0% loss)\n');
    Object.assign(t, { transmitted: 2, received: 2, closed: 1 });
    expect(p.line(events[1]!)).toMatch(/^db : \[1\], port 443 closed, 0\.031 ms/);
    expect(p.line(events[2]!)).toMatch(/^db : \[2\], port 443 filtered, timed out/);
    expect(p.summary()).toMatch(/^\ndb : xmt\/rcv\/%loss = 2\/2\/0%, closed 1, min\/avg\/max = 0\.052\/0\.052\/0\.052\n$/);
  });
});
