// A simulated path to run the real engine against: netdiag/testing's createSimulatedPath()
// (src/testing/simulated-path.ts: a TUN device in a fresh loopback namespace, answered by the
// PathResponder), plus trace(): the compiled CLI run inside the namespace, since a process
// cannot change its own namespace.
import { join } from 'node:path';
import { createSimulatedPath } from '../../src/testing/simulated-path.js';
import { cliPath, worldReadableRoot } from '../helpers/built-package.js';
import type { LoopbackNamespace, ProcessResult, RunAs } from '../helpers/topology.js';
import type { PathResponder, SimHop, SimScenario } from './path-responder.js';

export interface SimNetwork {
  ns: LoopbackNamespace;
  responder: PathResponder;
  /** the engine's own addresses inside the namespace */
  source: { v4: string; v6: string };
  /** hop k's addresses (1-based), and the destination's */
  hop(k: number): { v4: string; v6: string };
  destination: { v4: string; v6: string };
  /** a scenario of n routers with these per-hop settings */
  scenario(n: number, perHop?: Record<number, Partial<SimHop>>, destination?: Partial<SimScenario['destination']>): SimScenario;
  /**
   * Runs `netdiag traceroute --json ...args` in the namespace and parses the document. Unless
   * args say otherwise, the adaptive waits get factors of 100 (-w 3,100,100): the responder is
   * JS in another busy process, and its jitter must not look like loss next to sub-ms RTTs.
   */
  trace(args: string[], user?: RunAs): Promise<{ result: ProcessResult; doc: TraceDoc | null }>;
  destroy(): Promise<void>;
}

export interface TraceDoc {
  reached: boolean;
  method: string;
  socket: string;
  flow: string | null;
  hops: Array<{ ttl: number; probes: Array<{ address: string | null; rtt: number | null; status: string; annotation: string | null;
    icmp: { type: number; code: number } | null; mpls: Array<{ label: number; exp: number; s: number; ttl: number }>; extensions: string | null; flags: string[]; mtu: number | null }>;
    stats?: { sent: number; received: number; loss: number } }>;
}

export async function createSimNetwork(): Promise<SimNetwork> {
  const sim = await createSimulatedPath();
  const ns = sim.ns;
  return {
    ns,
    responder: sim.responder,
    source: sim.source,
    hop: (k) => sim.hop(k),
    destination: sim.destination,
    scenario: (count, perHop, dest) => sim.scenario(count, perHop, dest),
    async trace(args, user) {
      const root = user ? worldReadableRoot() : null;
      const cli = root ? join(root, 'bin/netdiag.js') : cliPath();
      const waits = args.includes('-w') ? [] : ['-w', '3,100,100'];
      const result = await ns.run(ns.ns, process.execPath, [cli, 'traceroute', '--json', '-n', ...waits, ...args], { user, timeoutMs: 60_000 });
      let doc: TraceDoc | null = null;
      try {
        doc = JSON.parse(result.stdout) as TraceDoc;
      } catch {
        doc = null;
      }
      return { result, doc };
    },
    destroy: () => sim.destroy(),
  };
}
