// `netdiag ping [options] HOST...`: one host prints like iputils ping, several (or -g, --file,
// -a, -u) like fping -c, --json prints the netdiag.ping/1 document. Order of work: parse the
// flags, read the target list, open the sockets, drop every capability, and only then resolve
// names and read replies. Ctrl-C ends the run and prints what was measured.

import { epochStamp } from './ping-format.js';
import { UsageError } from '../errors.js';
import { dropAllCapabilities } from '../capabilities.js';
import { capabilityDropLine } from './capability-line.js';
import { PingEngine, type PingObserver } from '../ping/engine.js';
import { nativeBackend } from '../ping/native-backend.js';
import { literalFamily, ResolveError, resolveLiteral, resolveTarget } from '../ping/resolve.js';
import { TargetScopeError } from '../targets/destination.js';
import { isInetAtonNumber } from '../packet/address.js';
import { SocketPool } from '../ping/socket-pool.js';
import type { PingEvent, PingTarget } from '../ping/types.js';
import { formatHelp, parseArgs } from './args.js';
import { printJson, type Output } from './output.js';
import { pingOptionSpecs, toPingConfig, type PingCliConfig } from './ping-options.js';
import { FpingPrinter } from './ping-multi.js';
import { targetList } from './ping-targets.js';
import { NameCache, OrderedLines } from './ping-names.js';
import { IputilsPrinter } from './ping-text.js';
import { BufferedWriter } from './ping-writer.js';

const USAGE = 'netdiag ping [options] HOST...';
const SUMMARY =
  'Sends ICMP echo requests. One host prints like iputils ping; several hosts (or -g, --file, -a, -u)\n' +
  'print like fping -c. A probe is lost when its -W timeout expires without a reply; a reply after\n' +
  'that is late. -w ends the whole run (and makes -c the number of replies to wait for).\n' +
  'Exit status: 0 every target answered, 1 some target never answered, 2 usage or setup error.';

/** Receive buffer for runs where many replies queue up before they are read. */
const BIG_RECEIVE_BUFFER = 4 << 20;

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const { options, positionals } = parseArgs(argv, pingOptionSpecs, 'ping');
  if (options.help) {
    out.out(formatHelp(USAGE, SUMMARY, pingOptionSpecs));
    return 0;
  }
  const cfg = toPingConfig(options, positionals, process.geteuid?.() ?? 0);
  const hosts = await targetList(cfg, positionals, signal);
  if (hosts.length === 0) throw new UsageError('the target list is empty', 'give at least one host');

  const pool = new SocketPool(nativeBackend, {
    socket: cfg.socket, ttl: cfg.ttl, tos: cfg.tos, mark: cfg.mark, device: cfg.device, sourceAddress: cfg.sourceAddress, pmtu: cfg.pmtu,
    receiveBuffer: hosts.length > 64 || cfg.engine.interval === 0 || cfg.engine.preload > 16 ? BIG_RECEIVE_BUFFER : undefined,
  });
  const writer = new BufferedWriter(out);
  // -g expands to addresses of one family: nothing to look up or check one by one
  const first = cfg.generate ? literalFamily(hosts[0]!) : 0;
  const uniform = first !== 0 && (cfg.family === null || cfg.family === first) ? first : 0;
  try {
    openSockets(pool, hosts, cfg.family, uniform);
    // from here on no thread that runs code holds a privilege: names and replies come from the network
    const dropped = dropAllCapabilities();
    if (cfg.verbose) out.err(capabilityDropLine(dropped));
    // the kernel switches arrival timestamps on (deferred work since the sockets opened) while names resolve
    const timestampsOn = nativeBackend.timestampsReady?.();
    const { targets, failed } = uniform !== 0 ? literalTargets(hosts, uniform, cfg) : await resolveAll(hosts, cfg, out);
    if (targets.length === 0) return 2;
    const families = new Set<4 | 6>();
    for (let i = 0; i < targets.length && families.size < 2; i++) families.add(targets[i]!.family);
    for (const t of targets) {
      if (!pool.sockets.has(t.family)) throw new UsageError(`${t.target} resolved to ${t.address}, but no IPv${t.family} socket could be opened`, 'use -4 or -6, or run netdiag doctor');
      if (uniform !== 0) break;
    }
    const used = new Map([...pool.sockets].filter(([family]) => families.has(family)));
    const engine = new PingEngine(nativeBackend.clock, used, targets, cfg.engine);
    await timestampsOn;
    const code = cfg.many ? await runMany(engine, cfg, writer, signal) : await runOne(engine, targets[0]!, cfg, writer, out, signal);
    if (cfg.json) {
      writer.flush();
      printJson(out, engine.document(cfg.engine.keepProbes));
    }
    return failed > 0 ? 2 : code;
  } finally {
    writer.flush();
    pool.close();
  }
}

/**
 * Opens the socket of every family the targets may need: the family of each address, both for
 * names (they resolve later, without privilege). A family only a name might need may fail.
 */
function openSockets(pool: SocketPool, hosts: readonly string[], family: 4 | 6 | null, uniform: 4 | 6 | 0): void {
  if (uniform !== 0) {
    pool.socket(uniform);
    return;
  }
  const needed = new Set<4 | 6>();
  const maybe = new Set<4 | 6>();
  for (const h of hosts) {
    const f = literalFamily(h);
    if (f !== 0) {
      if (family === null || family === f) needed.add(f);
    } else if (family !== null) {
      needed.add(family);
    } else {
      maybe.add(4);
      maybe.add(6);
    }
    if (needed.size === 2) break;
  }
  for (const f of needed) pool.socket(f);
  let opened = 0;
  let firstError: unknown = null;
  for (const f of maybe) {
    if (needed.has(f)) continue;
    try {
      pool.socket(f);
      opened++;
    } catch (e) {
      firstError ??= e;
    }
  }
  if (maybe.size > 0 && needed.size === 0 && opened === 0) throw firstError;
}

/** Targets for addresses all known to be literals of one family. */
function literalTargets(hosts: readonly string[], family: 4 | 6, cfg: PingCliConfig): { targets: PingTarget[]; failed: number } {
  const targets = new Array<PingTarget>(hosts.length);
  const where = { device: cfg.device, source: cfg.sourceAddress };
  try {
    // a dotted quad other than 0.0.0.0 is already where probes go; IPv6 may need a scope
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i]!;
      targets[i] = family === 4 && h !== '0.0.0.0' ? { target: h, address: h, family } : resolveLiteral(h, family, where);
    }
  } catch (e) {
    throw e instanceof TargetScopeError ? new UsageError(e.problem, e.fix) : e;
  }
  return { targets, failed: 0 };
}

async function resolveAll(hosts: readonly string[], cfg: PingCliConfig, out: Output): Promise<{ targets: PingTarget[]; failed: number }> {
  // addresses need no lookup: 10,000 of them stay synchronous, without a promise each
  const literal: Array<PingTarget | null> = new Array<PingTarget | null>(hosts.length);
  const lookups: Array<Promise<PingTarget>> = [];
  const where = { device: cfg.device, source: cfg.sourceAddress };
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i]!;
    const f = literalFamily(h);
    if (f !== 0 && (cfg.family === null || cfg.family === f)) {
      try {
        literal[i] = resolveLiteral(h, f, where);
      } catch (e) {
        // a zone that names no interface fails like a name that does not resolve
        literal[i] = null;
        lookups.push(Promise.reject(e));
      }
    } else {
      literal[i] = null;
      lookups.push(resolveTarget(h, cfg.family, where));
    }
  }
  if (lookups.length === 0) return { targets: literal as PingTarget[], failed: 0 };
  const looked = await Promise.allSettled(lookups);
  let next = 0;
  const settled = literal.map((t): PromiseSettledResult<PingTarget> => (t !== null ? { status: 'fulfilled', value: t } : looked[next++]!));
  const targets: PingTarget[] = [];
  let failed = 0;
  for (const r of settled) {
    if (r.status === 'fulfilled') {
      targets.push(r.value);
      continue;
    }
    // a single host that does not resolve is a setup error; among many, the others still run
    if (r.reason instanceof TargetScopeError) {
      if (!cfg.many) throw new UsageError(r.reason.problem, r.reason.fix);
      out.err(`netdiag: ${r.reason.message}\n`);
      failed++;
      continue;
    }
    if (!(r.reason instanceof ResolveError)) throw r.reason;
    if (!cfg.many) throw new UsageError(`cannot resolve ${r.reason.host}: ${r.reason.reason}`, 'check the name, or give an address');
    out.err(`netdiag: ${(r.reason as Error).message}\n`);
    failed++;
  }
  return { targets, failed };
}

function stopOn(signal: AbortSignal, engine: PingEngine): () => void {
  const onAbort = (): void => engine.stop();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

async function runOne(engine: PingEngine, target: PingTarget, cfg: PingCliConfig, writer: BufferedWriter, out: Output, signal: AbortSignal): Promise<number> {
  // iputils shows names only for a target given as a name, and never with -n
  // ('ping 0' is numeric too: getaddrinfo reads it as inet_aton does)
  const names = !cfg.numeric && literalFamily(target.target) === 0 && !isInetAtonNumber(target.target) ? new NameCache() : null;
  const printer = new IputilsPrinter(
    {
      host: target.target, address: target.address, family: target.family, size: cfg.engine.size, quiet: cfg.quiet || cfg.json,
      flood: cfg.flood, timestamps: cfg.timestamps, names, patternText: cfg.patternText,
      source: cfg.sourceAddress ?? null, device: cfg.device ?? null, interval: cfg.engine.interval,
    },
    (text) => {
      writer.flush();
      out.err(text);
    },
  );
  const lines = new OrderedLines(names, (text) => writer.write(text));
  if (!cfg.json) {
    if (names !== null && target.family === 6) await names.lookup(target.address);
    writer.writeResult(printer.header());
  }
  if (!cfg.json && !cfg.quiet) {
    const observer: PingObserver = (e: PingEvent) => lines.push(printer.addressesOf(e), () => printer.line(e));
    engine.observe(observer);
  }
  const unlisten = stopOn(signal, engine);
  // Ctrl-C during name resolution: end with the statistics, without sending anything
  if (signal.aborted) engine.stop();
  else engine.start();
  await engine.done;
  unlisten();
  await lines.flushed();
  const t = engine.targets[0]!;
  if (!cfg.json) writer.writeResult(printer.summary(t, engine.startedAt));
  return t.received > 0 ? 0 : 1;
}

async function runMany(engine: PingEngine, cfg: PingCliConfig, writer: BufferedWriter, signal: AbortSignal): Promise<number> {
  const printer = new FpingPrinter(engine.targets, { quiet: cfg.quiet, alive: cfg.alive, unreachable: cfg.unreachable });
  if (!cfg.json && (!cfg.quiet || cfg.alive)) {
    engine.observe((e) => {
      const text = printer.line(e);
      // -D: the time each line was printed, before it, as ping -D and fping -D do
      if (text) writer.write(cfg.timestamps ? epochStamp(Date.now()) + text : text);
    });
  }
  const unlisten = stopOn(signal, engine);
  // Ctrl-C during name resolution: end with the statistics, without sending anything
  if (signal.aborted) engine.stop();
  else engine.start();
  await engine.done;
  unlisten();
  if (!cfg.json) writer.writeResult(printer.summary());
  return engine.targets.every((t) => t.received > 0) ? 0 : 1;
}
