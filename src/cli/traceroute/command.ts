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
import { tracerouteMultipath, tracerouteReportStream, tracerouteStream, type TracerouteBackend, type TracerouteEvent, type TracerouteHop, type TracerouteOptions, type TracerouteResult } from '../../traceroute/index.js';
import { formatHelp } from '../args.js';
import { printJson, type Output } from '../output.js';
import { parseInvocation, specs, SUMMARY, USAGE, type Invocation } from './args.js';
import { intermediateLossNote, reportTable } from './report-text.js';
import { rateLimitLegend, routeText } from './route-text.js';
import { hopLine, traceHeader } from './text.js';
import { multipathText } from './multipath-text.js';

/** What one table of a report shows: a cycle event's or the final document's. */
type ReportSnapshot = Pick<TracerouteResult, 'hops' | 'paths' | 'routeChanges'>;

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
    if (inv.mda) return await runMultipath(inv, options, out);
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

/** --mda: the graph when discovery ends (text or JSON); exit 0 when the destination answered. */
async function runMultipath(inv: Invocation, options: TracerouteOptions & { signal: AbortSignal; backend: TracerouteBackend }, out: Output): Promise<number> {
  const { flow: _flow, queries: _queries, discoverMtu: _mtu, method, ...rest } = options;
  const doc = await tracerouteMultipath(inv.host, { ...rest, method: method as 'icmp' | 'udp' | 'tcp', confidence: inv.confidence });
  if (inv.json) printJson(out, doc);
  else out.out(multipathText(doc, { names: !inv.numeric }));
  return doc.reached ? 0 : 1;
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
