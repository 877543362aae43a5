// --report/--watch text: mtr's table after the last cycle, or redrawn after every cycle (only
// the newest table while stdout is backlogged), and the note on loss at intermediate hops.
// Loaded by command.ts only when a report is asked for.
import { hostname } from 'node:os';
import type { TracerouteEvent, TracerouteResult } from '../../traceroute/types.js';
import type { Output } from '../output.js';
import type { Invocation } from './args.js';
import { intermediateLossNote, reportTable } from './report-text.js';
import { rateLimitLegend, routeText } from './route-text.js';

/** What one table of a report shows: a cycle event's or the final document's. */
type ReportSnapshot = Pick<TracerouteResult, 'hops' | 'paths' | 'routeChanges'>;

export async function printReport(events: AsyncIterable<TracerouteEvent>, inv: Invocation, out: Output): Promise<TracerouteResult> {
  const started = new Date();
  const textOpts = { names: !inv.numeric, localHost: hostname(), started };
  const redraw = inv.watch && out.isTTY && !inv.json;
  const body = (s: ReportSnapshot): string => reportTable(s.hops, textOpts) + (rateLimitLegend(s.hops) ?? '') + routeText(s.paths ?? [], s.routeChanges ?? []);
  const table = (s: ReportSnapshot): string => (redraw ? '\x1b[H\x1b[2J' : '') + body(s) + (redraw ? '' : '\n');
  let result: TracerouteResult | null = null;
  // a table is a snapshot the next cycle supersedes: while stdout is backlogged (a stalled pipe
  // or terminal) it is held, not queued, and only the newest held one is printed at the end
  let held: ReportSnapshot | null = null;
  for await (const e of events) {
    if (e.type === 'cycle' && inv.watch && !inv.json) {
      if (out.backlogged === true) held = e;
      else {
        out.out(table(e));
        held = null;
      }
    } else if (e.type === 'end') result = e.result;
  }
  if (held) out.out(table(held));
  if (!result) throw new Error('the report ended without a result');
  if (!inv.json && !inv.watch) {
    out.out(body(result));
  }
  if (!inv.json) {
    const note = intermediateLossNote(result.hops, result.reached);
    if (note) out.out(note);
  }
  return result;
}
