// The library surface over a simulated network: options checked at the call (TypeError /
// RangeError naming the option), the streaming form (events and async iteration), abort,
// and setup failures (privilege) as rejections.
import { describe, expect, it } from 'vitest';
import { ping, pingMany, pingStream } from '../../src/ping/index.js';
import { startRun } from '../../src/ping/api.js';
import { FakeNetwork, echoResponder } from '../helpers/ping-fake-network.js';
import { PrivilegeError } from '../../src/errors.js';
import type { PingEvent } from '../../src/ping/types.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('options are checked at the call', () => {
  it('rejects bad targets and options, naming them', async () => {
    await expect(ping('')).rejects.toThrow(RangeError);
    await expect(ping(42 as unknown as string)).rejects.toThrow(/target must be a host name or address/);
    await expect(pingMany([])).rejects.toThrow(/targets must be at least one host/);
    await expect(pingMany(['a', 7 as unknown as string])).rejects.toThrow(/targets\[1\]/);
    await expect(ping('127.0.0.1', { count: 0 })).rejects.toThrow(/options\.count/);
    await expect(ping('127.0.0.1', { size: 'big' as unknown as number })).rejects.toThrow(TypeError);
    await expect(ping('127.0.0.1', { size: 70000 })).rejects.toThrow(/options\.size must be an integer from 0 to 65507/);
    await expect(ping('127.0.0.1', { socket: 'packet' as 'raw' })).rejects.toThrow(/options\.socket/);
    await expect(ping('127.0.0.1', { pattern: 'xyz' })).rejects.toThrow(/options\.pattern/);
    await expect(ping('127.0.0.1', { count: Infinity })).rejects.toThrow(/finite unless a deadline or a signal/);
    await expect(ping('127.0.0.1', { family: 5 as 4 })).rejects.toThrow(/options\.family must be 4 or 6/);
    await expect(ping('127.0.0.1', { source: 'a b' })).rejects.toThrow(/options\.source/);
    expect(() => pingStream('127.0.0.1', { timeout: -1 })).toThrow(/options\.timeout/);
  });
});

describe('streaming', () => {
  it('yields every probe as it happens and resolves with the document', async () => {
    const net = new FakeNetwork(echoResponder(0.5));
    const run = startRun(['10.0.0.1', 'fd00::1'], { count: 2, interval: 100 }, net);
    const seen: string[] = [];
    const consumed = (async () => {
      for await (const e of run) seen.push(`${e.type}:${e.target.address}:${e.seq}`);
    })();
    await tick();
    net.clock.advance(200);
    const doc = await run.result;
    await consumed;
    expect(doc.schema).toBe('netdiag.ping/1');
    expect(doc.socket).toBe('raw');
    expect(doc.targets.map((t) => [t.address, t.received])).toEqual([['10.0.0.1', 2], ['fd00::1', 2]]);
    expect(seen).toEqual([
      'sent:10.0.0.1:1', 'sent:fd00::1:1', 'reply:10.0.0.1:1', 'reply:fd00::1:1',
      'sent:10.0.0.1:2', 'sent:fd00::1:2', 'reply:10.0.0.1:2', 'reply:fd00::1:2',
    ]);
  });

  it("emits 'event' and 'end', and builds no events when nobody listens", async () => {
    const net = new FakeNetwork(echoResponder(0.5));
    const run = startRun(['10.0.0.1'], { count: 1 }, net);
    const events: PingEvent[] = [];
    run.on('event', (e: PingEvent) => events.push(e));
    let ended = false;
    run.on('end', () => (ended = true));
    await tick();
    net.clock.advance(1);
    await run.result;
    expect(events.map((e) => e.type)).toEqual(['sent', 'reply']);
    expect(ended).toBe(true);
  });

  it('ends early on abort and resolves with what was measured', async () => {
    const net = new FakeNetwork(echoResponder(0.5));
    const ac = new AbortController();
    const run = startRun(['10.0.0.1'], { count: Infinity, interval: 1000, signal: ac.signal }, net);
    await tick();
    net.clock.advance(2500);
    ac.abort();
    const doc = await run.result;
    expect(doc.targets[0]).toMatchObject({ transmitted: 3, received: 3, loss: 0 });
    expect(net.sockets.every((s) => s.closed)).toBe(true);
  });

  it('leaving a for-await loop early stops the run', async () => {
    const net = new FakeNetwork(echoResponder(0.5));
    const run = startRun(['10.0.0.1'], { count: 100, interval: 10 }, net);
    const got = (async () => {
      let n = 0;
      for await (const e of run) if (e.type === 'reply' && ++n === 3) break;
      return n;
    })();
    await tick();
    for (let i = 0; i < 10; i++) {
      net.clock.advance(10);
      await tick();
    }
    expect(await got).toBe(3);
    const doc = await run.result;
    expect(doc.targets[0]!.transmitted).toBeLessThan(100);
  });

  it('rejects (and throws from the iterator) when the privilege is missing', async () => {
    const net = new FakeNetwork();
    net.chooseMode = () => {
      throw new PrivilegeError('raw ICMP sockets need CAP_NET_RAW', 'sudo setcap cap_net_raw+ep node');
    };
    const run = startRun(['10.0.0.1'], {}, net);
    await expect(run.result).rejects.toMatchObject({ code: 'ERR_NETDIAG_PRIVILEGE' });
    const iterate = async (): Promise<void> => {
      for await (const _ of run) void _;
    };
    await expect(iterate()).rejects.toThrow(/CAP_NET_RAW/);
  });
});
