// `netdiag traceroute [options] HOST [packetlen]` (alias trace): Linux traceroute's flags and
// text, mtr-style --report/--watch, --json. Opens its sockets first, drops every capability,
// then resolves names and reads answers. Exit 0 reached, 1 not reached, 2 error.
import { hostname } from 'node:os';
import { dropAllCapabilities } from '../../capabilities.js';
import { UsageError } from '../../errors.js';
import { TargetScopeError } from '../../target/destination.js';
import { capabilityDropLine } from '../capability-line.js';
import type { ReverseDnsCache } from '../../runtime/reverse-dns.js';
import { preparedBackend } from '../../traceroute/backend.js';
import { tracerouteReportStream, tracerouteStream, type TracerouteEvent, type TracerouteHop, type TracerouteResult } from '../../traceroute/index.js';
import { formatHelp } from '../args.js';
import { printJson, type Output } from '../output.js';
import { parseInvocation, specs, SUMMARY, USAGE, type Invocation } from './args.js';
import { intermediateLossNote, reportTable } from './report-text.js';
import { hopLine, traceHeader } from './text.js';

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const inv = parseInvocation(argv);
  if (!inv) {
    out.out(formatHelp(USAGE, SUMMARY, specs));
    return 0;
  }
  const o = inv.options;
  const backend = preparedBackend(inv.families, {
    method: o.method!, socket: o.socket ?? 'auto', tos: o.tos, device: o.device, source: o.source, pmtu: o.discoverMtu ? 'probe' : 'dont',
  }, { names: !inv.numeric });
  // sockets are open: nothing after this needs a capability, least of all parsing packets
  const dropped = dropAllCapabilities();
  if (inv.verbose) out.err(capabilityDropLine(dropped));
  try {
    const options = { ...o, signal, backend };
    const events = inv.report
      ? tracerouteReportStream(inv.host, { ...options, cycles: inv.cycles ?? (inv.watch ? Infinity : undefined), intervalMs: inv.intervalMs })
      : tracerouteStream(inv.host, options);
    const result = inv.report ? await printReport(events, inv, out) : await printTrace(events, inv, out, backend.names);
    if (inv.json) printJson(out, result);
    return result.reached ? 0 : 1;
  } catch (e) {
    // a %zone naming no interface is a usage error of the command line
    throw e instanceof TargetScopeError ? new UsageError(e.problem, e.fix) : e;
  } finally {
    backend.close();
  }
}

async function printTrace(events: AsyncIterable<TracerouteEvent>, inv: Invocation, out: Output, names: ReverseDnsCache | null): Promise<TracerouteResult> {
  const textOpts = { names: !inv.numeric, extensions: Boolean(inv.options.extensions) };
  let printing = Promise.resolve();
  let result: TracerouteResult | null = null;
  for await (const e of events) {
    if (inv.json) {
      if (e.type === 'end') result = e.result;
      continue;
    }
    if (e.type === 'start') out.out(traceHeader(e.target, e.address, e.maxTtl, e.packetLength));
    else if (e.type === 'hop') printing = printing.then(() => printHop(e.hop, names, textOpts, out));
    else if (e.type === 'end') {
      result = e.result;
      // an interrupted trace still shows the probes of the hop in progress
      const last = e.result.hops[e.result.hops.length - 1];
      if (e.result.aborted && last && last.probes.length < (inv.options.queries ?? 3)) printing = printing.then(() => printHop(last, names, textOpts, out));
    }
  }
  await printing;
  if (!result) throw new Error('the trace ended without a result');
  return result;
}

/** Prints a hop once its names are known (bounded wait); probes carry on meanwhile. */
async function printHop(hop: TracerouteHop, names: ReverseDnsCache | null, textOpts: { names: boolean; extensions: boolean }, out: Output): Promise<void> {
  if (textOpts.names && names) {
    for (const p of hop.probes) if (p.address) p.name = await names.wait(p.address);
  }
  out.out(hopLine(hop, textOpts));
}

export async function printReport(events: AsyncIterable<TracerouteEvent>, inv: Invocation, out: Output): Promise<TracerouteResult> {
  const started = new Date();
  const textOpts = { names: !inv.numeric, localHost: hostname(), started };
  const redraw = inv.watch && out.isTTY && !inv.json;
  const table = (hops: TracerouteHop[]): string => (redraw ? '\x1b[H\x1b[2J' : '') + reportTable(hops, textOpts) + (redraw ? '' : '\n');
  let result: TracerouteResult | null = null;
  // a table is a snapshot the next cycle supersedes: while stdout is backlogged (a stalled pipe
  // or terminal) it is held, not queued, and only the newest held one is printed at the end
  let held: TracerouteHop[] | null = null;
  for await (const e of events) {
    if (e.type === 'cycle' && inv.watch && !inv.json) {
      if (out.backlogged === true) held = e.hops;
      else {
        out.out(table(e.hops));
        held = null;
      }
    } else if (e.type === 'end') result = e.result;
  }
  if (held) out.out(table(held));
  if (!result) throw new Error('the report ended without a result');
  if (!inv.json && !inv.watch) {
    out.out(reportTable(result.hops, textOpts));
  }
  if (!inv.json) {
    const note = intermediateLossNote(result.hops, result.reached);
    if (note) out.out(note);
  }
  return result;
}
