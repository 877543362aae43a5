// A running ping, for the streaming form: an EventEmitter ('event' for every PingEvent as it
// happens, 'end' with the document) and an async iterator over the same events; `result`
// settles with the document. Aborting (signal or stop()) ends the run early with what was
// measured; only setup failures (a name that does not resolve, a missing privilege) reject,
// and a signal aborted before the run starts (src/abort.ts: nothing is sent, AbortError).

import { EventEmitter } from 'node:events';
import { throwIfAborted } from '../abort.js';
import type { PingBackend } from './backend.js';
import { PingEngine } from './engine.js';
import type { NormalizedOptions } from './options.js';
import { resolveTargets } from './resolve.js';
import { SocketPool } from './socket-pool.js';
import type { PingDocument, PingEvent } from './types.js';

/** Receive buffer for runs where many replies can queue up before they are read. */
const BIG_RECEIVE_BUFFER = 4 << 20;

export class PingRun extends EventEmitter implements AsyncIterable<PingEvent> {
  /** the netdiag.ping/1 document, when the run has ended */
  readonly result: Promise<PingDocument>;
  private engine: PingEngine | null = null;
  private stopped = false;

  constructor(hosts: readonly string[], opts: NormalizedOptions, backend: PingBackend) {
    super();
    this.result = this.execute(hosts, opts, backend);
    // the iterator and 'end' report failures; an unobserved `result` must not crash the process
    this.result.catch(() => {});
  }

  /** Ends the run now; `result` resolves with what was measured. */
  stop(): void {
    this.stopped = true;
    this.engine?.stop();
  }

  private async execute(hosts: readonly string[], opts: NormalizedOptions, backend: PingBackend): Promise<PingDocument> {
    const signal = opts.signal;
    throwIfAborted(signal);
    const targets = await resolveTargets(hosts, opts.family, { device: opts.device, source: opts.sourceAddress });
    const many = targets.length > 64 || opts.engine.interval === 0 || opts.engine.preload > 16;
    const pool = new SocketPool(backend, {
      socket: opts.socket, ttl: opts.ttl, tos: opts.tos, mark: opts.mark, device: opts.device,
      sourceAddress: opts.sourceAddress, pmtu: opts.pmtu, receiveBuffer: many ? BIG_RECEIVE_BUFFER : undefined,
    });
    try {
      for (const t of targets) pool.socket(t.family);
      await backend.timestampsReady?.();
      const engine = new PingEngine(backend.clock, pool.sockets, targets, opts.engine);
      this.engine = engine;
      // events are built only while someone listens (a flood makes hundreds of thousands)
      const observer = (e: PingEvent): void => void this.emit('event', e);
      const listen = (): void => engine.observe(this.listenerCount('event') > 0 ? observer : null);
      this.on('newListener', (name: string) => name === 'event' && engine.observe(observer));
      this.on('removeListener', (name: string) => name === 'event' && listen());
      listen();
      const onAbort = (): void => engine.stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      // aborted while names resolved: end with an empty run rather than send a first probe
      if (this.stopped || signal?.aborted) engine.stop();
      else engine.start();
      await engine.done;
      signal?.removeEventListener('abort', onAbort);
      const doc = engine.document(opts.engine.keepProbes);
      this.emit('end', doc);
      return doc;
    } finally {
      pool.close();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<PingEvent> {
    let queue: PingEvent[] = [];
    let head = 0;
    let waiting: ((r: IteratorResult<PingEvent>) => void) | null = null;
    let failed: ((e: unknown) => void) | null = null;
    let finished = false;
    let failure: unknown = null;
    const onEvent = (e: PingEvent): void => {
      if (waiting) {
        const w = waiting;
        waiting = failed = null;
        w({ value: e, done: false });
      } else {
        queue.push(e);
      }
    };
    this.on('event', onEvent);
    const settle = (): void => {
      finished = true;
      this.off('event', onEvent);
      if (waiting) {
        const w = waiting, f = failed;
        waiting = failed = null;
        if (failure !== null) f!(failure);
        else w({ value: undefined, done: true });
      }
    };
    this.result.then(settle, (e: unknown) => {
      failure = e ?? new Error('ping failed');
      settle();
    });
    return {
      next: () => {
        if (head < queue.length) {
          const value = queue[head++]!;
          if (head === queue.length) {
            queue = [];
            head = 0;
          }
          return Promise.resolve({ value, done: false });
        }
        if (finished) return failure !== null ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          waiting = resolve;
          failed = reject;
        });
      },
      return: () => {
        // leaving the loop early ends the run
        this.stop();
        this.off('event', onEvent);
        queue = [];
        head = 0;
        finished = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
