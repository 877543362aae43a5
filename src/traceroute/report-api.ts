// The report entry points (re-exported by index.ts): mtr-style cycles with per-hop statistics.
import { runAsEventQueue } from '../runtime/event-queue.js';
import type { TracerouteBackend } from './backend.js';
import { resolveReportOptions } from './options.js';
import { runReport } from './report-run.js';
import type { TracerouteEvent, TracerouteReportOptions, TracerouteResult } from './types.js';
import { anySignal, withSession } from './with-session.js';

type ReportOptions = TracerouteReportOptions & { backend?: TracerouteBackend };

/** mtr-style report: `cycles` rounds of one probe per hop, `intervalMs` apart; hops carry stats. */
export async function tracerouteReport(target: string, options: ReportOptions = {}): Promise<TracerouteResult> {
  const opts = resolveReportOptions(options);
  return withSession(target, opts, (s) => runReport(s, opts, () => {}, opts.signal));
}

/** The report as events: each probe, a `cycle` event with the statistics after every cycle, end. */
export function tracerouteReportStream(target: string, options: ReportOptions = {}): AsyncIterableIterator<TracerouteEvent> {
  const opts = resolveReportOptions(options);
  return runAsEventQueue<TracerouteEvent>(async (emit, stop) => {
    await withSession(target, opts, (s) => runReport(s, opts, emit, anySignal(opts.signal, stop)));
  }, 'traceroute failed');
}
