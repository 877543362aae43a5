// Public traceroute API: a trace (Promise of the netdiag.traceroute/1 document), a report of
// per-hop statistics over cycles, and streaming forms of both. Unreachable destinations and
// silent hops are results, not exceptions; bad options throw TypeError/RangeError naming the
// option; a method the process may not use throws ERR_NETDIAG_PRIVILEGE naming the fix. A
// signal aborted while the run goes ends it early with what was learned (`aborted: true`);
// one aborted before it starts sends nothing and fails with an AbortError (src/abort.ts).
import { throwIfAborted } from '../abort.js';
import { runAsEventQueue } from '../runtime/event-queue.js';
import { systemBackend, type TracerouteBackend } from './backend.js';
import { resolveOptions, resolveReportOptions, type ResolvedOptions } from './options.js';
import { runReport } from './report-run.js';
import { openSession, type Session } from './session.js';
import { runTrace } from './trace-run.js';
import type { TracerouteEvent, TracerouteOptions, TracerouteReportOptions, TracerouteResult } from './types.js';

export type * from './types.js';
export type { TracerouteBackend, TransportRequest } from './backend.js';
export type { TraceClock } from './clock.js';
export type { ProbeTransport, ProbeRequest, ProbeReply, SendOutcome } from './transport.js';
export { preparedBackend, systemBackend } from './backend.js';
export { systemTraceClock } from './clock.js';
export { parseWaitArgument, DEFAULT_WAIT } from './wait-policy.js';
export { ReverseDnsCache } from '../runtime/reverse-dns.js';

type Options = TracerouteOptions & { backend?: TracerouteBackend };

function backendFor(opts: ResolvedOptions): TracerouteBackend {
  return opts.backend ?? systemBackend({ names: opts.resolveNames });
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

async function withSession<T>(target: string, opts: ResolvedOptions, run: (s: Session) => Promise<T>): Promise<T> {
  // every entry point starts here (the streams on their first next()): no lookup, no socket
  throwIfAborted(opts.signal);
  const session = await openSession(target, opts, backendFor(opts));
  try {
    return await run(session);
  } finally {
    session.transport.close();
  }
}

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

/** mtr-style report: `cycles` rounds of one probe per hop, `intervalMs` apart; hops carry stats. */
export async function tracerouteReport(target: string, options: TracerouteReportOptions & { backend?: TracerouteBackend } = {}): Promise<TracerouteResult> {
  const opts = resolveReportOptions(options);
  return withSession(target, opts, (s) => runReport(s, opts, () => {}, opts.signal));
}

/** The report as events: each probe, a `cycle` event with the statistics after every cycle, end. */
export function tracerouteReportStream(target: string, options: TracerouteReportOptions & { backend?: TracerouteBackend } = {}): AsyncIterableIterator<TracerouteEvent> {
  const opts = resolveReportOptions(options);
  return runAsEventQueue<TracerouteEvent>(async (emit, stop) => {
    await withSession(target, opts, (s) => runReport(s, opts, emit, anySignal(opts.signal, stop)));
  }, 'traceroute failed');
}
export { tracerouteMultipath } from './mda/run.js';
export type * from './mda/types.js';
