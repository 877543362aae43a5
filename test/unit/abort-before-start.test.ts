// One abort rule for every public call (src/abort.ts): a signal aborted before the call starts
// opens and sends nothing, and the call fails with an AbortError (name 'AbortError', code
// 'ABORT_ERR', the signal's reason as cause), as Node's own APIs do.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { isReachable, ping, pingMany, pingStream } from '../../src/ping/index.js';
import { startRun } from '../../src/ping/api.js';
import { systemPingBackend } from '../../src/ping/system-backend.js';
import { traceroute, tracerouteReport, tracerouteReportStream, tracerouteStream, type TracerouteBackend } from '../../src/traceroute/index.js';
import { listSockets } from '../../src/sockets/index.js';
import { connectWith } from '../../src/seqpacket/connect.js';
import { systemBackend as seqpacketSystemBackend, type SeqpacketBackend } from '../../src/seqpacket/backend.js';
import { FakeNetwork } from '../helpers/ping-fake-network.js';

const pingNativeBackend = systemPingBackend();

const reason = new Error('caller gave up');
const aborted = (): AbortSignal => AbortSignal.abort(reason);

function expectAbortError(e: unknown): void {
  expect(e).toBeInstanceOf(Error);
  expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  expect((e as Error).cause).toBe(reason);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('the call resolved instead of rejecting');
}

/** Fails the test if the ping layer opens a socket or asks which socket kind to use. */
function forbidPingSockets(): void {
  vi.spyOn(pingNativeBackend, 'chooseMode').mockImplementation(() => {
    throw new Error('chooseMode called for an aborted call');
  });
  vi.spyOn(pingNativeBackend, 'openSocket').mockImplementation(() => {
    throw new Error('openSocket called for an aborted call');
  });
}

/** A traceroute backend that counts every use: an aborted call must use none of it. */
function countingTraceBackend(): TracerouteBackend & { uses: string[] } {
  const uses: string[] = [];
  return {
    uses,
    clock: { now: () => 0 } as unknown as TracerouteBackend['clock'],
    names: null,
    openTransport: () => {
      uses.push('openTransport');
      throw new Error('openTransport called for an aborted call');
    },
    resolveTarget: async () => {
      uses.push('resolveTarget');
      throw new Error('resolveTarget called for an aborted call');
    },
    timestampsReady: async () => void uses.push('timestampsReady'),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('an already-aborted signal: nothing is sent, the call fails with AbortError', () => {
  it('ping', async () => {
    forbidPingSockets();
    expectAbortError(await rejection(ping('127.0.0.1', { signal: aborted() })));
    expect(pingNativeBackend.openSocket).not.toHaveBeenCalled();
  });

  it('pingMany', async () => {
    forbidPingSockets();
    expectAbortError(await rejection(pingMany(['127.0.0.1', '::1'], { signal: aborted() })));
    expect(pingNativeBackend.openSocket).not.toHaveBeenCalled();
  });

  it('isReachable (rejects; it does not answer true or false)', async () => {
    forbidPingSockets();
    expectAbortError(await rejection(isReachable('127.0.0.1', { signal: aborted() })));
    expect(pingNativeBackend.openSocket).not.toHaveBeenCalled();
  });

  it('pingStream: result rejects, the iterator throws, no event and no socket', async () => {
    forbidPingSockets();
    const run = pingStream('127.0.0.1', { signal: aborted() });
    const events: unknown[] = [];
    run.on('event', (e) => events.push(e));
    let thrown: unknown = null;
    try {
      for await (const e of run) events.push(e);
    } catch (e) {
      thrown = e;
    }
    expectAbortError(thrown);
    expectAbortError(await rejection(run.result));
    expect(events).toEqual([]);
  });

  it('a ping run on any backend sends no probe', async () => {
    const net = new FakeNetwork();
    const run = startRun(['10.0.0.1'], { count: 3, signal: aborted() }, net);
    expectAbortError(await rejection(run.result));
    expect(net.sockets).toEqual([]);
    expect(net.sent).toEqual([]);
  });

  it('traceroute and tracerouteReport', async () => {
    const backend = countingTraceBackend();
    expectAbortError(await rejection(traceroute('127.0.0.1', { backend, signal: aborted() })));
    expectAbortError(await rejection(tracerouteReport('127.0.0.1', { backend, signal: aborted() })));
    expect(backend.uses).toEqual([]);
  });

  it('tracerouteStream and tracerouteReportStream: the first next() throws', async () => {
    const backend = countingTraceBackend();
    expectAbortError(await rejection(tracerouteStream('127.0.0.1', { backend, signal: aborted() }).next()));
    expectAbortError(await rejection(tracerouteReportStream('127.0.0.1', { backend, signal: aborted() }).next()));
    expect(backend.uses).toEqual([]);
  });

  it('listSockets', async () => {
    const procRoot = join(import.meta.dirname, '../fixtures/proc');
    expectAbortError(await rejection(listSockets({ procRoot, signal: aborted() })));
  });

  it('connectSeqpacket: no socket is created; error AbortError, then close', async () => {
    const real = seqpacketSystemBackend();
    const calls: string[] = [];
    const backend = new Proxy(real, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(key));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as SeqpacketBackend;
    const socket = connectWith(backend, '@netdiag-abort-test-nobody-listens', { signal: aborted() });
    const events: string[] = [];
    let error: unknown = null;
    socket.on('error', (e) => {
      events.push('error');
      error = e;
    });
    await new Promise<void>((resolve) => socket.once('close', () => resolve(void events.push('close'))));
    expectAbortError(error);
    expect(events).toEqual(['error', 'close']);
    expect(calls).toEqual([]);
    expect(socket.destroyed).toBe(true);
  });
});
