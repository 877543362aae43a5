// The trace entry points (re-exported by index.ts). Kept apart from the report's and the
// multipath discovery's so that `netdiag traceroute` loads only the code of a trace.
import { runAsEventQueue } from '../runtime/event-queue.js';
import type { TracerouteBackend } from './backend.js';
import { resolveOptions } from './options.js';
import { runTrace } from './trace-run.js';
import type { TracerouteEvent, TracerouteOptions, TracerouteResult } from './types.js';
import { anySignal, withSession } from './with-session.js';

type Options = TracerouteOptions & { backend?: TracerouteBackend };

/** Traces the path to target: hops in TTL order until the destination (or maxTtl). */
export async function traceroute(target: string, options: Options = {}): Promise<TracerouteResult> {
  const opts = resolveOptions(options);
  return withSession(target, opts, (s) => runTrace(s, () => {}, opts.signal));
}

/** The same trace as events: start, each probe's outcome and each hop in TTL order, end. */
export function tracerouteStream(target: string, options: Options = {}): AsyncIterableIterator<TracerouteEvent> {
  const opts = resolveOptions(options);
  return runAsEventQueue<TracerouteEvent>(async (emit, stop) => {
    await withSession(target, opts, (s) => runTrace(s, emit, anySignal(opts.signal, stop)));
  }, 'traceroute failed');
}
