// What every traceroute entry point (trace-api.ts, report-api.ts) does around its run: the
// backend, the session opened and closed, and the caller's signal joined with the stream's stop.
import { throwIfAborted } from '../abort.js';
import { systemBackend, type TracerouteBackend } from './backend.js';
import type { ResolvedOptions } from './options.js';
import { openSession, type Session } from './session.js';

export function backendFor(opts: ResolvedOptions): TracerouteBackend {
  return opts.backend ?? systemBackend({ names: opts.resolveNames });
}

export function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

export async function withSession<T>(target: string, opts: ResolvedOptions, run: (s: Session) => Promise<T>): Promise<T> {
  // every entry point starts here (the streams on their first next()): no lookup, no socket
  throwIfAborted(opts.signal);
  const session = await openSession(target, opts, backendFor(opts));
  try {
    return await run(session);
  } finally {
    session.transport.close();
  }
}
