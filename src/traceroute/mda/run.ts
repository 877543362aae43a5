// One multipath discovery: a session whose transport carries per-probe flows, the probe pool on
// it, MDA hop by hop, the netdiag.multipath/1 document at the end — or what was learned when the
// signal aborts. A transport that cannot choose flows is refused before any probe.
import { throwIfAborted } from '../../abort.js';
import { optionRangeError } from '../../errors.js';
import { systemBackend } from '../backend.js';
import { openSession } from '../session.js';
import { MultipathDiscovery } from './discovery.js';
import { systemFirstHopRule, type FirstHopRule } from './first-hop.js';
import { MULTIPATH_GAP_LIMIT, resolveMultipathOptions } from './options.js';
import { ProbePool } from './probe-pool.js';
import { multipathResult } from './result.js';
import type { MultipathOptions, MultipathResult } from './types.js';
import type { TracerouteBackend } from '../backend.js';

/** What the source's routing table says about its own next hops towards an address (first-hop.ts). */
export type FirstHopSource = (family: 4 | 6, address: string) => FirstHopRule;

/**
 * Finds every path to target that per-flow (ECMP) and per-packet load balancers spread probes
 * over, with the MDA stopping rule at `confidence` percent (default 95).
 */
export async function tracerouteMultipath(
  target: string, options: MultipathOptions & { backend?: TracerouteBackend; firstHop?: FirstHopSource; random?: () => number } = {},
): Promise<MultipathResult> {
  const opts = resolveMultipathOptions(options);
  throwIfAborted(opts.signal);
  const backend = opts.backend ?? systemBackend({ names: opts.resolveNames });
  const s = await openSession(target, opts, backend, true);
  const { transport, clock, signal } = { ...s, signal: opts.signal };
  try {
    const flowLimit = transport.flowIds ?? 0;
    if (flowLimit <= 0) throw optionRangeError('method', 'a method whose probes can carry a chosen flow (icmp, udp, tcp)', transport.method);
    // the routing table only speaks for the first TTL when that is hop 1 (tests pass their own)
    const firstHop: FirstHopRule = opts.firstTtl !== 1 ? 'stopping-rule' : (options.firstHop ?? systemFirstHopRule)(s.family, s.address);
    const started = clock.now();
    let failure: Error | null = null;
    let aborted = false;
    const pool = new ProbePool(transport, clock, { window: opts.window, wait: opts.wait, packetLength: s.packetLength }, (e) => {
      failure = e;
    });
    const onAbort = (): void => {
      aborted = true;
      pool.close();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const discovery = new MultipathDiscovery(
      { firstTtl: opts.firstTtl, maxTtl: opts.maxTtl, confidence: opts.confidence, flowLimit, gapLimit: MULTIPATH_GAP_LIMIT, algorithm: opts.algorithm, firstHopSingle: firstHop === 'routing-table',
        random: options.random ?? Math.random },
      (ttl, flow) => pool.probe(ttl, flow),
      () => aborted || failure !== null,
      (ms) => new Promise<void>((resolve) => {
        const t = clock.setTimer(done, ms);
        function done(): void {
          clock.clearTimer(t);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      }),
    );
    try {
      if (signal?.aborted) aborted = true;
      else {
        pool.start();
        await discovery.run();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      pool.close();
    }
    if (failure) throw failure;
    const result = multipathResult(
      { target: s.target, address: s.address, family: s.family, method: transport.method as MultipathResult['method'], socket: transport.socket,
        packetLength: s.packetLength, firstTtl: opts.firstTtl, maxTtl: opts.maxTtl, confidence: opts.confidence, algorithm: opts.algorithm, firstHop,
        flowLabels: transport.flowLabelStatus?.(discovery.flowsUsed) ?? null },
      discovery, pool.sent, aborted, clock.now() - started,
    );
    if (s.names) {
      const interfaces = result.hops.flatMap((h) => h.interfaces);
      const found = await s.names.waitAll(interfaces.map((i) => i.address));
      for (const i of interfaces) i.name = found.get(i.address) ?? null;
    }
    return result;
  } finally {
    transport.close();
  }
}
