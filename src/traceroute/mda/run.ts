// Multipath discovery: a session whose transport carries per-probe flows, the probe pool on
// it, MDA hop by hop, the netdiag.multipath/1 document at the end — or what was learned when the
// signal aborts. A transport that cannot choose flows is refused before any probe.
import { throwIfAborted } from '../../abort.js';
import { optionRangeError } from '../../errors.js';
import { systemBackend } from '../backend.js';
import { openSession, type Session } from '../session.js';
import { MultipathDiscovery } from './discovery.js';
import { systemFirstHopRule, type FirstHopRule } from './first-hop.js';
import { MULTIPATH_GAP_LIMIT, resolveMultipathOptions, type ResolvedMultipathOptions } from './options.js';
import { ProbePool } from './probe-pool.js';
import { multipathResult } from './result.js';
import type { MultipathOptions, MultipathResult } from './types.js';
import type { TracerouteBackend } from '../backend.js';

/** What the source's routing table says about its own next hops towards an address (first-hop.ts). */
export type FirstHopSource = (family: 4 | 6, address: string) => FirstHopRule;

export type MultipathRunOptions = MultipathOptions & { backend?: TracerouteBackend; firstHop?: FirstHopSource; random?: () => number };

/**
 * Finds every path to target that per-flow (ECMP) and per-packet load balancers spread probes
 * over, with the MDA stopping rule at `confidence` percent (default 95).
 */
export async function tracerouteMultipath(target: string, options: MultipathRunOptions = {}): Promise<MultipathResult> {
  const runner = await MultipathRunner.open(target, options);
  try {
    return await runner.discover();
  } finally {
    runner.close();
  }
}

/**
 * One destination's transport and probe pool, shared by every discovery run on it (the cycles
 * of a watch: the same flows, and the waits learned so far). An abort of the signal ends the
 * discovery under way with what it found and every later one at once.
 */
export class MultipathRunner {
  private failure: Error | null = null;
  private aborted = false;
  private readonly pool: ProbePool;
  private readonly onAbort = (): void => {
    this.aborted = true;
    this.pool.close();
  };

  private constructor(private readonly s: Session, private readonly opts: ResolvedMultipathOptions, private readonly firstHop: FirstHopRule, private readonly random: () => number) {
    this.pool = new ProbePool(s.transport, s.clock, { window: opts.window, wait: opts.wait, packetLength: s.packetLength }, (e) => {
      this.failure = e;
    });
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (opts.signal?.aborted) this.aborted = true;
    else this.pool.start();
  }

  /** Opens the session; refuses a transport that cannot choose flows before any probe. */
  static async open(target: string, options: MultipathRunOptions): Promise<MultipathRunner> {
    const opts = resolveMultipathOptions(options);
    throwIfAborted(opts.signal);
    const backend = opts.backend ?? systemBackend({ names: opts.resolveNames });
    const s = await openSession(target, opts, backend, true);
    try {
      if ((s.transport.flowIds ?? 0) <= 0) throw optionRangeError('method', 'a method whose probes can carry a chosen flow (icmp, udp, tcp)', s.transport.method);
      // the routing table only speaks for the first TTL when that is hop 1 (tests pass their own)
      const firstHop: FirstHopRule = opts.firstTtl !== 1 ? 'stopping-rule' : (options.firstHop ?? systemFirstHopRule)(s.family, s.address);
      return new MultipathRunner(s, opts, firstHop, options.random ?? Math.random);
    } catch (e) {
      s.transport.close();
      throw e;
    }
  }

  /** The signal aborted or the transport failed: no discovery sends any more. */
  get stopped(): boolean {
    return this.aborted || this.failure !== null;
  }

  /** The session clock's time, ms (monotonic). */
  now(): number {
    return this.s.clock.now();
  }

  /** Waits `ms`, or less when the signal aborts. */
  pause(ms: number): Promise<void> {
    const { clock } = this.s;
    const signal = this.opts.signal;
    return new Promise<void>((resolve) => {
      const t = clock.setTimer(done, ms);
      function done(): void {
        clock.clearTimer(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** One discovery from scratch (flows from 0 on): the netdiag.multipath/1 document. */
  async discover(): Promise<MultipathResult> {
    const { s, opts } = this;
    const { transport, clock } = s;
    const started = clock.now();
    const sentBefore = this.pool.sent;
    const discovery = new MultipathDiscovery(
      { firstTtl: opts.firstTtl, maxTtl: opts.maxTtl, confidence: opts.confidence, flowLimit: transport.flowIds!, gapLimit: MULTIPATH_GAP_LIMIT, algorithm: opts.algorithm,
        firstHopSingle: this.firstHop === 'routing-table', random: this.random },
      (ttl, flow) => this.pool.probe(ttl, flow),
      () => this.stopped,
      (ms) => this.pause(ms),
    );
    if (!this.stopped) await discovery.run();
    if (this.failure) throw this.failure;
    const result = multipathResult(
      { target: s.target, address: s.address, family: s.family, method: transport.method as MultipathResult['method'], socket: transport.socket,
        packetLength: s.packetLength, firstTtl: opts.firstTtl, maxTtl: opts.maxTtl, confidence: opts.confidence, algorithm: opts.algorithm, firstHop: this.firstHop,
        flowLabels: transport.flowLabelStatus?.(discovery.flowsUsed) ?? null },
      discovery, this.pool.sent - sentBefore, this.aborted, clock.now() - started,
    );
    if (s.names) {
      const interfaces = result.hops.flatMap((h) => h.interfaces);
      const found = await s.names.waitAll(interfaces.map((i) => i.address));
      for (const i of interfaces) i.name = found.get(i.address) ?? null;
    }
    return result;
  }

  close(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.pool.close();
    this.s.transport.close();
  }
}
