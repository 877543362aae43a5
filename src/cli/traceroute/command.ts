// `netdiag traceroute [options] HOST [packetlen]` (alias trace): Linux traceroute's flags and
// text, mtr-style --report/--watch, --json. Opens its sockets first, drops every capability,
// then resolves names and reads answers. Exit 0 reached, 1 not reached, 2 error.
import { dropAllCapabilities } from '../../capabilities.js';
import { addressFamily, withoutZone } from '../../packet/address.js';
import { UsageError } from '../../errors.js';
import { TargetScopeError } from '../../target/destination.js';
import { capabilityDropLine } from '../capability-line.js';
import type { ReverseDnsCache } from '../../runtime/reverse-dns.js';
import { preparedBackend, type TracerouteBackend } from '../../traceroute/backend.js';
import { tracerouteStream } from '../../traceroute/trace-api.js';
import type { TracerouteEvent, TracerouteHop, TracerouteOptions, TracerouteResult } from '../../traceroute/types.js';
import { formatHelp } from '../args.js';
import { printJson, type Output } from '../output.js';
import { parseInvocation, specs, SUMMARY, USAGE, type Invocation } from './args.js';
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
    // an IPv6 address given as such: its flow labels are leased before the capabilities go
    flowLabelsFor: inv.mda && addressFamily(withoutZone(inv.host)) === 6 ? inv.host : undefined,
  }, { names: !inv.numeric });
  // sockets are open: nothing after this needs a capability, least of all parsing packets
  const dropped = dropAllCapabilities();
  if (inv.verbose) out.err(capabilityDropLine(dropped));
  try {
    const options = { ...o, signal, backend };
    if (inv.mda) return await runMultipath(inv, options, out);
    // reports and multipath discovery load their code only when asked for: a plain trace
    // does not parse it at start-up
    const result = inv.report ? await runReport(inv, options, out) : await printTrace(tracerouteStream(inv.host, options), inv, out, backend.names);
    if (inv.json) printJson(out, result);
    return result.reached ? 0 : 1;
  } catch (e) {
    // a %zone naming no interface is a usage error of the command line
    throw e instanceof TargetScopeError ? new UsageError(e.problem, e.fix) : e;
  } finally {
    backend.close();
  }
}

/** --mda: the graph when discovery ends (text or JSON), or each cycle's with --report/--watch; exit 0 when the destination answered. */
async function runMultipath(inv: Invocation, options: TracerouteOptions & { signal: AbortSignal; backend: TracerouteBackend }, out: Output): Promise<number> {
  const { flow: _flow, queries: _queries, discoverMtu: _mtu, method, ...rest } = options;
  const mda = { ...rest, method: method as 'icmp' | 'udp' | 'tcp', confidence: inv.confidence, algorithm: inv.algorithm };
  if (inv.report) {
    const [{ MultipathHistory, tracerouteMultipathCycles }, { printMultipathCycles }] = await Promise.all([import('../../traceroute/mda/watch.js'), import('./multipath-watch-output.js')]);
    const history = new MultipathHistory();
    const cycles = tracerouteMultipathCycles(inv.host, { ...mda, cycles: inv.cycles ?? (inv.watch ? Infinity : 10), intervalMs: inv.intervalMs }, history);
    return printMultipathCycles(cycles, history, inv, out);
  }
  const [{ tracerouteMultipath }, { multipathText }] = await Promise.all([import('../../traceroute/mda/run.js'), import('./multipath-text.js')]);
  const doc = await tracerouteMultipath(inv.host, mda);
  if (inv.json) printJson(out, doc);
  else out.out(multipathText(doc, { names: !inv.numeric }));
  return doc.reached ? 0 : 1;
}

/** --report/--watch: the mtr-style table(s). */
async function runReport(inv: Invocation, options: TracerouteOptions & { signal: AbortSignal; backend: TracerouteBackend }, out: Output): Promise<TracerouteResult> {
  const [{ tracerouteReportStream }, { printReport }] = await Promise.all([import('../../traceroute/report-api.js'), import('./report-output.js')]);
  const events = tracerouteReportStream(inv.host, { ...options, cycles: inv.cycles ?? (inv.watch ? Infinity : undefined), intervalMs: inv.intervalMs });
  return printReport(events, inv, out);
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
