// The text netdiag ping prints: iputils ping's lines for one host, fping's for many, and the
// number formats behind them (checked against what those tools print).
import { describe, expect, it } from 'vitest';
import { epochStamp, fpingTime, iputilsTime, printfG } from '../../src/cli/ping/number-format.js';
import { FpingPrinter } from '../../src/cli/ping/fping-text.js';
import { OrderedLines } from '../../src/cli/ping/ordered-lines.js';
import { ReverseDnsCache as NameCache } from '../../src/runtime/reverse-dns.js';
import { IputilsPrinter, type TextOptions } from '../../src/cli/ping/iputils-text.js';
import { TargetState } from '../../src/ping/target-state.js';
import type { PingEvent, PingReply, PingTarget } from '../../src/ping/types.js';

const T4: PingTarget = { target: '127.0.0.1', address: '127.0.0.1', family: 4 };
const T6: PingTarget = { target: '::1', address: '::1', family: 6 };

function reply(rtt: number, extra: Partial<PingReply> = {}): PingReply {
  return { rtt, ttl: 64, tos: 0, bytes: 64, from: '127.0.0.1', flags: [], receivedAt: 1795290685310.523, mismatch: null, ...extra };
}

function textOptions(o: Partial<TextOptions> = {}): TextOptions {
  return {
    host: '127.0.0.1', address: '127.0.0.1', family: 4, size: 56, quiet: false, flood: false, timestamps: false, names: null,
    patternText: null, source: null, device: null, interval: 1000, ...o,
  };
}

function printer(o: Partial<TextOptions> = {}, err: string[] = []): IputilsPrinter {
  return new IputilsPrinter(textOptions(o), (t) => void err.push(t));
}

/** A target with replies of these RTTs (µs) booked, as the engine books them. */
function booked(info: PingTarget, rttsUs: number[], extra: Partial<TargetState> = {}): TargetState {
  const t = new TargetState(0, info, false);
  for (const us of rttsUs) t.stats.add(us / 1000);
  t.transmitted = rttsUs.length;
  t.received = rttsUs.length;
  Object.assign(t, extra);
  return t;
}

describe('number formats', () => {
  it('prints times as iputils does: 3 decimals under 1 ms, fewer as they grow', () => {
    expect([26, 999, 1000, 1234, 9994, 9995, 12345, 99949, 99950, 123456].map(iputilsTime)).toEqual([
      '0.026', '0.999', '1.00', '1.23', '9.99', '10.0', '12.3', '99.9', '100', '123',
    ]);
  });

  it("prints the loss as C's %g of a float", () => {
    expect([0, 100, 50, 100 / 3, 200 / 3, 12.5, 0.00001, 1 / 7].map(printfG)).toEqual(['0', '100', '50', '33.3333', '66.6667', '12.5', '1e-05', '0.142857']);
  });

  it('prints fping times and -D stamps', () => {
    expect([0.033, 1.5, 12.24, 123.4].map(fpingTime)).toEqual(['0.033', '1.50', '12.2', '123']);
    expect(epochStamp(1795290685310.523)).toBe('[1795290685.310523] ');
  });
});

describe('iputils lines', () => {
  it('prints the header for IPv4 and IPv6, with -p PATTERN and -I source', () => {
    expect(printer().header()).toBe('PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n');
    expect(printer({ host: '::1', address: '::1', family: 6 }).header()).toBe('PING ::1(::1) 56 data bytes\n');
    expect(printer({ host: 'localhost', size: 8, patternText: 'abc' }).header()).toBe('PATTERN: 0xab0c\nPING localhost (127.0.0.1) 8(36) bytes of data.\n');
    expect(printer({ source: '10.0.0.1' }).header()).toBe('PING 127.0.0.1 (127.0.0.1) from 10.0.0.1 : 56(84) bytes of data.\n');
  });

  it('prints reply lines with flags, -D, truncation and wrong payload bytes', () => {
    const p = printer();
    const ev = (r: PingReply, type: 'reply' | 'late' = 'reply'): PingEvent => ({ type, index: 0, target: T4, seq: 1, reply: r });
    expect(p.line(ev(reply(0.026)))).toBe('64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.026 ms\n');
    expect(p.line(ev(reply(0.031, { flags: ['dup', 'different-address'], from: '127.0.0.2' })))).toBe(
      '64 bytes from 127.0.0.2: icmp_seq=1 ttl=64 time=0.031 ms (DUP!) (DIFFERENT ADDRESS!)\n',
    );
    expect(p.line(ev(reply(0.031, { flags: ['corrupted'] })))).toContain(' (BAD CHECKSUM!)');
    expect(p.line(ev(reply(1500), 'late'))).toBe('64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=1500 ms (LATE!)\n');
    expect(p.line(ev(reply(0.02, { bytes: 40 })))).toBe('40 bytes from 127.0.0.1: icmp_seq=1 ttl=64 (truncated)\n');
    expect(p.line(ev(reply(0.02, { mismatch: { offset: 20, expected: 0x14, actual: 0xee } })))).toBe(
      '64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.020 ms\nwrong data byte #20 should be 0x14 but was 0xee\n',
    );
    expect(printer({ timestamps: true }).line(ev(reply(0.014)))).toBe('[1795290685.310523] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.014 ms\n');
    // iputils times a reply only when the payload holds a timeval (16 bytes)
    expect(printer({ size: 8 }).line(ev(reply(0.02, { bytes: 16 })))).toBe('16 bytes from 127.0.0.1: icmp_seq=1 ttl=64\n');
  });

  it('prints ICMP errors with the router, and local errors on stderr', () => {
    const err: string[] = [];
    const p = printer({}, err);
    const error = (type: number | null, message: string, from: string | null): PingEvent => ({
      type: 'error', index: 0, target: T4, seq: 2, error: { type, code: type === null ? null : 1, message, mtu: null }, from, rtt: null, receivedAt: null,
    });
    expect(p.line(error(3, 'Destination Host Unreachable', '10.0.3.2'))).toBe('From 10.0.3.2 icmp_seq=2 Destination Host Unreachable\n');
    expect(p.line(error(null, 'local error: message too long, mtu=1400', null))).toBe('');
    expect(err).toEqual(['netdiag: local error: message too long, mtu=1400\n']);
  });

  it('prints "name (address)" when the target was a name', async () => {
    const names = new NameCache();
    const p = printer({ host: 'localhost', names });
    const lines: string[] = [];
    const ordered = new OrderedLines(names, (t) => void lines.push(t));
    const ev: PingEvent = { type: 'reply', index: 0, target: T4, seq: 1, reply: reply(0.019) };
    ordered.push(p.addressesOf(ev), () => p.line(ev));
    ordered.push([], () => 'after\n');
    await ordered.flushed();
    // 127.0.0.1 is "localhost" in /etc/hosts on any sane Linux
    expect(lines).toEqual([`64 bytes from ${names.peek('127.0.0.1') ? `${names.peek('127.0.0.1')} (127.0.0.1)` : '127.0.0.1'}: icmp_seq=1 ttl=64 time=0.019 ms\n`, 'after\n']);
  });

  it('prints flood dots and backspaces', () => {
    const p = printer({ flood: true });
    const seq: PingEvent[] = [
      { type: 'sent', index: 0, target: T4, seq: 1, sentAt: 0 },
      { type: 'reply', index: 0, target: T4, seq: 1, reply: reply(0.003) },
      { type: 'sent', index: 0, target: T4, seq: 2, sentAt: 0 },
      { type: 'reply', index: 0, target: T4, seq: 2, reply: reply(0.003, { flags: ['corrupted'] }) },
      { type: 'timeout', index: 0, target: T4, seq: 2 },
    ];
    expect(seq.map((e) => p.line(e)).join('')).toBe('.\b \b.\bC');
  });

  it('prints the statistics block exactly as iputils does', () => {
    // ping -c 3 -i 0.2 127.0.0.1 on the test VM: times 26, 31, 29 µs
    const t = booked(T4, [26, 31, 29], { lastSentAt: 406.2 });
    expect(printer().summary(t, 0)).toBe(
      '\n--- 127.0.0.1 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 406ms\nrtt min/avg/max/mdev = 0.026/0.028/0.031/0.002 ms\n',
    );
    const lossy = booked(T6, [14, 37], { transmitted: 3, lost: 1, duplicates: 1, errors: 2, lastSentAt: 2001 });
    expect(printer({ host: '::1', family: 6 }).summary(lossy, 0)).toBe(
      '\n--- ::1 ping statistics ---\n3 packets transmitted, 2 received, +1 duplicates, +2 errors, 33.3333% packet loss, time 2001ms\nrtt min/avg/max/mdev = 0.014/0.025/0.037/0.011 ms\n',
    );
    const none = booked(T4, [], { transmitted: 2, received: 0, lost: 2, lastSentAt: 1000 });
    expect(printer().summary(none, 0)).toBe('\n--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1000ms\n\n');
  });

  it('adds pipe and ipg/ewma as iputils does', () => {
    // ping -c 15 -i 0: ipg/ewma 0.015/0.006 from times below over 0.210 ms
    const t = booked(T4, [23, 5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 4], { lastSentAt: 0.21, pipe: 2 });
    expect(printer({ interval: 0 }).summary(t, 0).split('\n')[3]).toBe('rtt min/avg/max/mdev = 0.003/0.004/0.023/0.004 ms, pipe 2, ipg/ewma 0.015/0.006 ms');
  });
});

describe('fping lines', () => {
  const a: PingTarget = { target: '127.0.0.1', address: '127.0.0.1', family: 4 };
  const b: PingTarget = { target: '127.0.0.10', address: '127.0.0.10', family: 4 };

  function targets(): TargetState[] {
    return [new TargetState(0, a, false), new TargetState(1, b, false)];
  }

  it('prints a line per probe, names padded to one width', () => {
    const ts = targets();
    const p = new FpingPrinter(ts, { quiet: false, alive: false, unreachable: false });
    ts[0]!.transmitted = 1;
    ts[0]!.received = 1;
    ts[0]!.stats.add(0.033);
    expect(p.line({ type: 'reply', index: 0, target: a, seq: 1, reply: reply(0.033) })).toBe('127.0.0.1  : [0], 64 bytes, 0.033 ms (0.033 avg, 0% loss)\n');
    ts[1]!.transmitted = 1;
    expect(p.line({ type: 'timeout', index: 1, target: b, seq: 1 })).toBe('127.0.0.10 : [0], timed out (NaN avg, 100% loss)\n');
    expect(p.line({ type: 'reply', index: 0, target: a, seq: 1, reply: reply(0.05, { flags: ['dup'] }) })).toBe('127.0.0.1  : duplicate for [0], 64 bytes, 0.050 ms\n');
    expect(p.line({
      type: 'error', index: 1, target: b, seq: 1, error: { type: 3, code: 1, message: 'Destination Host Unreachable', mtu: null }, from: '10.0.0.1', rtt: 1, receivedAt: 0,
    })).toBe('127.0.0.10 : [0], Destination Host Unreachable from 10.0.0.1\n');
    expect(p.summary()).toBe('\n127.0.0.1  : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.033/0.033/0.033\n127.0.0.10 : xmt/rcv/%loss = 1/0/0%\n');
  });

  it('-a lists targets as they answer, -u those that never did', () => {
    const ts = targets();
    const p = new FpingPrinter(ts, { quiet: false, alive: true, unreachable: true });
    ts[0]!.received = 1;
    expect(p.line({ type: 'reply', index: 0, target: a, seq: 1, reply: reply(0.033) })).toBe('127.0.0.1\n');
    expect(p.line({ type: 'timeout', index: 1, target: b, seq: 1 })).toBe('');
    expect(p.summary()).toBe('127.0.0.10\n');
  });
});
