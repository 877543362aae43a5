// `netdiag ping [options] HOST...`: one host prints like iputils ping, several (or -g, --file,
// -a, -u) like fping -c, --json prints the netdiag.ping/1 document. Order of work: parse the
// flags, read the target list, open the sockets (preparedPingBackend), drop every capability,
// and only then start the run (pingStream's), which resolves names and reads replies; this file
// prints its events, its status and its document. Ctrl-C ends the run and prints what was measured.

import { dropAllCapabilities } from '../../capabilities.js';
import { ResolveError, UsageError } from '../../errors.js';
import { isInetAtonNumber } from '../../packet/address.js';
import { startRun } from '../../ping/api.js';
import { literalFamily } from '../../ping/resolve.js';
import type { PingRun } from '../../ping/run.js';
import { MissingSocketError } from '../../ping/socket-pool.js';
import { preparedPingBackend } from '../../ping/system-backend.js';
import type { PingRunStatus } from '../../ping/types.js';
import type { ReverseDnsCache } from '../../runtime/reverse-dns.js';
import { TargetScopeError } from '../../target/destination.js';
import { formatHelp, parseArgs } from '../args.js';
import { capabilityDropLine } from '../capability-line.js';
import { printJson, type Output } from '../output.js';
import { BufferedWriter } from './buffered-writer.js';
import { FpingPrinter } from './fping-text.js';
import { IputilsPrinter } from './iputils-text.js';
import { epochStamp } from './number-format.js';
import { expandTcpFlag, pingOptionSpecs, toPingConfig, type PingCliConfig } from './options.js';
import { OrderedLines } from './ordered-lines.js';
import { targetList } from './target-list.js';

const USAGE = 'netdiag ping [options] HOST...';
const SUMMARY =
  'Sends ICMP echo requests, or with --tcp[=PORT] TCP handshakes (open: SYN-ACK, closed: RST, filtered:\n' +
  'no answer or an ICMP error). One host prints like iputils ping; several hosts (or -g, --file, -a, -u)\n' +
  'print like fping -c. A probe is lost when its -W timeout expires without a reply; a reply after\n' +
  'that is late. -w ends the whole run (and makes -c the number of replies to wait for).\n' +
  'Exit status: 0 every target answered, 1 some target never answered, 2 usage or setup error.';

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const { options, positionals } = parseArgs(expandTcpFlag(argv), pingOptionSpecs, 'ping');
  if (options.help) {
    out.out(formatHelp(USAGE, SUMMARY, pingOptionSpecs));
    return 0;
  }
  const cfg = toPingConfig(options, positionals, process.geteuid?.() ?? 0);
  const hosts = await targetList(cfg, positionals, signal);
  if (hosts.length === 0) throw new UsageError('the target list is empty', 'give at least one host');

  const backend = preparedPingBackend(hosts, { ...cfg, signal });
  const writer = new BufferedWriter(out);
  // a single host that does not resolve is a setup error; among many, the others still run
  let unresolved = 0;
  const onUnresolved = cfg.many
    ? (e: Error): void => {
      unresolved++;
      out.err(`netdiag: ${e.message}\n`);
    }
    : undefined;
  try {
    // from here on no thread that runs code holds a privilege: names and replies come from the network
    const dropped = dropAllCapabilities();
    if (cfg.verbose) out.err(capabilityDropLine(dropped));
    const names = cfg.many ? null : await namesFor(cfg, hosts[0]!);
    // the run pingStream would start, minus its check of each host: every source of hosts
    // (command line, --file, -g) checked its own already, and 10,000 of them add up
    const pinging = startRun(hosts, { ...cfg, signal, onUnresolved }, backend);
    // the printers attach before the run can start ('start' comes after an await at the earliest)
    const code = cfg.many ? await printMany(pinging, cfg, writer) : await printOne(pinging, names, cfg, writer, out);
    if (cfg.json) {
      writer.flush();
      printJson(out, await pinging.result);
    }
    return unresolved > 0 ? 2 : code;
  } catch (e) {
    // every target failed to resolve: each one has said so already
    if (unresolved > 0 && unresolved === hosts.length && e instanceof ResolveError) return 2;
    // a %zone naming no interface is a usage error of the command line, as is a family left without a socket
    if (e instanceof TargetScopeError) throw new UsageError(e.problem, e.fix);
    if (e instanceof MissingSocketError) throw new UsageError(e.message, 'use -4 or -6, or run netdiag doctor');
    throw e;
  } finally {
    writer.flush();
    backend.close();
  }
}

/**
 * The reverse-DNS cache of one host's lines: iputils shows names only for a target given as a
 * name, and never with -n ('ping 0' is numeric too: getaddrinfo reads it as inet_aton does).
 * Loaded only then: node:dns costs every other run its start-up time.
 */
async function namesFor(cfg: PingCliConfig, host: string): Promise<ReverseDnsCache | null> {
  if (cfg.numeric || literalFamily(host) !== 0 || isInetAtonNumber(host)) return null;
  const { ReverseDnsCache } = await import('../../runtime/reverse-dns.js');
  return new ReverseDnsCache();
}

/** iputils' lines as events come, its statistics at the end; the exit code. */
async function printOne(pinging: PingRun, names: ReverseDnsCache | null, cfg: PingCliConfig, writer: BufferedWriter, out: Output): Promise<number> {
  let printer: IputilsPrinter | null = null;
  let lines: OrderedLines | null = null;
  pinging.once('start', (s: PingRunStatus) => {
    const target = s.targets[0]!.info;
    const p = new IputilsPrinter(
      {
        host: target.target, address: target.address, family: target.family, size: cfg.engine.size, quiet: cfg.quiet || cfg.json,
        tcp: s.method === 'icmp' ? null : { port: s.port!, method: s.method, timeout: cfg.engine.timeout },
        flood: cfg.flood, timestamps: cfg.timestamps, names, patternText: cfg.patternText,
        source: cfg.sourceAddress ?? null, device: cfg.device ?? null, interval: cfg.engine.interval,
      },
      (text) => {
        writer.flush();
        out.err(text);
      },
    );
    const ordered = new OrderedLines(names, (text) => writer.write(text));
    // the IPv6 header shows the target's name: the lines after it wait for it (probing does not)
    if (!cfg.json) ordered.push(names !== null && target.family === 6 ? [target.address] : [], () => p.header());
    if (!cfg.json && !cfg.quiet) pinging.on('event', (e) => ordered.push(p.addressesOf(e), () => p.line(e)));
    printer = p;
    lines = ordered;
  });
  const status = await pinging.finished;
  await lines!.flushed();
  const t = status.targets[0]!;
  if (!cfg.json) writer.writeResult(printer!.summary(t, status.startedAt));
  return t.received > 0 ? 0 : 1;
}

/** fping's lines as events come, its summary at the end; the exit code. */
async function printMany(pinging: PingRun, cfg: PingCliConfig, writer: BufferedWriter): Promise<number> {
  let printer: FpingPrinter | null = null;
  pinging.once('start', (s: PingRunStatus) => {
    const p = new FpingPrinter(s.targets, { quiet: cfg.quiet, alive: cfg.alive, unreachable: cfg.unreachable, tcpPort: s.method === 'icmp' ? null : s.port });
    if (!cfg.json && (!cfg.quiet || cfg.alive)) {
      pinging.on('event', (e) => {
        const text = p.line(e);
        // -D: the time each line was printed, before it, as ping -D and fping -D do
        if (text) writer.write(cfg.timestamps ? epochStamp(Date.now()) + text : text);
      });
    }
    printer = p;
  });
  const status = await pinging.finished;
  if (!cfg.json) writer.writeResult(printer!.summary());
  return status.targets.every((t) => t.received > 0) ? 0 : 1;
}
