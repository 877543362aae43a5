// The run the CLI drives (src/ping/run.ts) on the fake network: names resolve through the
// backend, targets that do not resolve can be reported and left out (fping's way), the 'start'
// status holds the figures text output prints, and the document is the same whenever asked for.
import { describe, expect, it } from 'vitest';
import { startRun, pingStream } from '../../src/ping/api.js';
import { ResolveError } from '../../src/errors.js';
import { MissingSocketError } from '../../src/ping/socket-pool.js';
import type { PingRunStatus } from '../../src/ping/types.js';
import { FakeNetwork, echoResponder } from '../helpers/ping-fake-network.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the ping run', () => {
  it('resolves names through the backend and reads addresses itself', async () => {
    const net = new FakeNetwork(echoResponder(0.5));
    net.names.set('router.test', { address: '10.0.0.7', family: 4 });
    const run = pingStream(['router.test', '10.0.0.1'], { count: 1, backend: net });
    await tick();
    net.clock.advance(1);
    const doc = await run.result;
    expect(doc.targets.map((t) => [t.target, t.address, t.received])).toEqual([['router.test', '10.0.0.7', 1], ['10.0.0.1', '10.0.0.1', 1]]);
  });

  it('fails on the first target that does not resolve, unless onUnresolved takes it', async () => {
    const failing = startRun(['10.0.0.1', 'nowhere.test'], { count: 1 }, new FakeNetwork());
    await expect(failing.result).rejects.toThrow(ResolveError);

    const net = new FakeNetwork(echoResponder(0.5));
    const reported: string[] = [];
    const run = startRun(['nowhere.test', '10.0.0.1', 'fe80::1%nosuchif0', 'gone.test'], { count: 1, onUnresolved: (e) => reported.push(e.constructor.name + ' ' + e.message) }, net);
    await tick();
    net.clock.advance(1);
    const doc = await run.result;
    expect(doc.targets.map((t) => t.target)).toEqual(['10.0.0.1']);
    // in the order of the targets, each once
    expect(reported.map((r) => r.split(' ')[0])).toEqual(['ResolveError', 'TargetScopeError', 'ResolveError']);
    expect(reported[0]).toContain('cannot resolve nowhere.test');
    expect(reported[2]).toContain('cannot resolve gone.test');
  });

  it('fails when no target is left', async () => {
    const run = startRun(['nowhere.test'], { count: 1, onUnresolved: () => {} }, new FakeNetwork());
    await expect(run.result).rejects.toThrow(ResolveError);
    await expect(run.finished).rejects.toThrow(ResolveError);
  });

  it("gives its live status at 'start'; the end figures agree with the document", async () => {
    const net = new FakeNetwork(echoResponder(0.5));
    const run = startRun(['10.0.0.1', '10.0.0.2'], { count: 3, interval: 100, probes: false }, net);
    let atStart: PingRunStatus | null = null;
    const transmittedAtStart: number[] = [];
    run.once('start', (s: PingRunStatus) => {
      atStart = s;
      transmittedAtStart.push(...s.targets.map((t) => t.transmitted));
    });
    await tick();
    net.clock.advance(300);
    const status = await run.finished;
    expect(status).toBe(atStart);
    expect(transmittedAtStart).toEqual([0, 0]);
    expect(status.startedAt).toBeGreaterThanOrEqual(0);
    const doc = await run.result;
    for (let i = 0; i < 2; i++) {
      const t = status.targets[i]!, r = doc.targets[i]!;
      expect([t.info.target, t.transmitted, t.received, t.loss, t.stats.count]).toEqual([r.target, r.transmitted, r.received, r.loss, 3]);
      expect(t.lastSentAt - status.startedAt).toBe(200);
    }
    // asked again, the document is the same one
    expect(await run.result).toBe(doc);
  });

  it('names the target that needs a family its backend could not prepare', async () => {
    // what preparedPingBackend does for a family that failed to open before the run
    const net = new FakeNetwork();
    const open = net.openSocket.bind(net);
    net.openSocket = (o) => {
      if (o.family === 6) throw new MissingSocketError(6, null);
      return open(o);
    };
    net.names.set('v6only.test', { address: 'fd00::9', family: 6 });
    const run = startRun(['10.0.0.1', 'v6only.test'], { count: 1 }, net);
    await expect(run.result).rejects.toThrow('v6only.test resolved to fd00::9, but no IPv6 socket could be opened');
    // the socket that did open is closed again
    expect(net.sockets.map((s) => s.closed)).toEqual([true]);
  });
});
