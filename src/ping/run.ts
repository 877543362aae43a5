// A running ping, for the streaming form: an EventEmitter ('start' with the run's read-only
// status once the targets are resolved and the sockets open, 'event' for every PingEvent as it
// happens, 'end' with the document) and an async iterator over the same events; `finished`
// settles with the final status, `result` with the document (built when first asked for: text
// output of ten thousand targets reads the status and never needs it). Aborting (signal or stop()) ends the run early with what was
// measured; only setup failures (a name that does not resolve, a missing privilege) reject,
// and a signal aborted before the run starts (src/abort.ts: nothing is sent, AbortError).

import { EventEmitter } from 'node:events';
import { throwIfAborted } from '../abort.js';
import { ResolveError } from '../errors.js';
import { AsyncEventQueue } from '../runtime/event-queue.js';
import type { PingBackend } from './backend.js';
import { PingEngine } from './engine.js';
import type { NormalizedOptions } from './options.js';
import { resolveTargets } from './resolve.js';
import { MissingSocketError, poolOptionsOf, SocketPool } from './socket-pool.js';
import type { PingDocument, PingEvent, PingRunStatus, PingTarget } from './types.js';

export class PingRun extends EventEmitter implements AsyncIterable<PingEvent> {
  /** the run's final status, when it has ended; rejects as `result` does */
  readonly finished: Promise<PingRunStatus>;
  private document: Promise<PingDocument> | null = null;
  private engine: PingEngine | null = null;
  private stopped = false;

  constructor(hosts: readonly string[], private readonly opts: NormalizedOptions, backend: PingBackend) {
    super();
    this.finished = this.execute(hosts, opts, backend);
    // `result` and the iterator report failures; an unobserved run must not crash the process
    this.finished.catch(() => {});
  }

  /** the netdiag.ping/1 document, when the run has ended */
  get result(): Promise<PingDocument> {
    // the engine holds still once ended: the document reads the same whenever it is built
    this.document ??= this.finished.then(() => this.engine!.document(this.opts.engine.keepProbes));
    return this.document;
  }

  /** Ends the run now; `result` resolves with what was measured. */
  stop(): void {
    this.stopped = true;
    this.engine?.stop();
  }

  private async execute(hosts: readonly string[], opts: NormalizedOptions, backend: PingBackend): Promise<PingRunStatus> {
    const signal = opts.signal;
    throwIfAborted(signal);
    const where = { device: opts.device, source: opts.sourceAddress };
    // awaited even when synchronous: listeners attach before anything is reported
    const targets = await resolveTargets(hosts, opts.family, where, backend, opts.onUnresolved);
    // every target was reported to onUnresolved: nothing to ping
    if (targets.length === 0) throw new ResolveError(hosts.length === 1 ? hosts[0]! : `any of ${hosts.length} targets`, 'none resolved');
    const pool = new SocketPool(backend, poolOptionsOf(opts, targets.length));
    try {
      openFor(pool, targets);
      await backend.timestampsReady?.();
      const engine = new PingEngine(backend.clock, pool.sockets, targets, opts.engine);
      this.engine = engine;
      // events are built only while someone listens (a flood makes hundreds of thousands)
      const observer = (e: PingEvent): void => void this.emit('event', e);
      const listen = (): void => engine.observe(this.listenerCount('event') > 0 ? observer : null);
      this.on('newListener', (name: string) => name === 'event' && engine.observe(observer));
      this.on('removeListener', (name: string) => name === 'event' && listen());
      listen();
      this.emit('start', engine);
      const onAbort = (): void => engine.stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      // aborted while names resolved: end with an empty run rather than send a first probe
      if (this.stopped || signal?.aborted) engine.stop();
      else engine.start();
      await engine.done;
      signal?.removeEventListener('abort', onAbort);
      if (this.listenerCount('end') > 0) this.emit('end', engine.document(opts.engine.keepProbes));
      return engine;
    } finally {
      pool.close();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<PingEvent> {
    const onEvent = (e: PingEvent): void => queue.push(e);
    const queue = new AsyncEventQueue<PingEvent>({
      // leaving the loop early ends the run
      returned: () => {
        this.off('event', onEvent);
        this.stop();
      },
    });
    this.on('event', onEvent);
    this.finished.then(
      () => {
        this.off('event', onEvent);
        queue.end();
      },
      (e: unknown) => {
        this.off('event', onEvent);
        queue.fail(e ?? new Error('ping failed'));
      },
    );
    return queue;
  }
}

/** Opens the socket of every family the targets use; a family the backend could not prepare names its first target. */
function openFor(pool: SocketPool, targets: readonly PingTarget[]): void {
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (pool.sockets.has(t.family)) continue;
    try {
      pool.socket(t.family);
    } catch (e) {
      throw e instanceof MissingSocketError && e.target === null ? new MissingSocketError(t.family, t, { cause: e.cause }) : e;
    }
  }
}
