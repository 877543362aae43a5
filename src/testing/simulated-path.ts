// A simulated path behind a TUN device: what kernels in namespaces cannot be made to do (per-hop
// delay and jitter without netem, MPLS labels, NAT-rewritten quotes, duplicates, late and
// malformed answers, unreachable codes). The TUN is opened by this process with the test addon
// (netdiag_test.node, src/testing/tun-addon.ts) and moved into a fresh loopback namespace where
// 10.X.1.0/24 and fdXX:1::/64 are routed into it; the PathResponder answers from our end of it.
// Code under test runs inside the namespace (runFunction, run, start): a process cannot change
// its own namespace. Nothing leaves the namespace.
import { native } from '../native.js';
import { testingAddon } from './tun-addon.js';
import { LoopbackNamespace, loopbackNamespace } from './loopback.js';
import { PathResponder, type SimHop, type SimScenario } from './path-responder.js';
import { runChecked } from './process.js';

export type { SimHop, SimScenario } from './path-responder.js';
export { PathResponder } from './path-responder.js';

export interface SimulatedPathOptions {
  /** Naming prefix of the namespace (default 'ndsim'). */
  prefix?: string;
}

export class SimulatedPath {
  /** The namespace: run the code under test in `ns.ns` (ns.runFunction, ns.run, ns.start). */
  readonly ns: LoopbackNamespace;
  /** Answers the probes; replace what it does with setScenario(). */
  readonly responder: PathResponder;
  /** The addresses the code under test sends from. */
  readonly source: { v4: string; v6: string };
  readonly destination: { v4: string; v6: string };
  private readonly fd: number;
  private closed: Promise<void> | null = null;

  private constructor(ns: LoopbackNamespace, responder: PathResponder, fd: number) {
    this.ns = ns;
    this.responder = responder;
    this.fd = fd;
    const x = ns.octet;
    const hx = x.toString(16).padStart(2, '0');
    this.source = { v4: `10.${x}.0.1`, v6: `fd${hx}:0:0:1::1` };
    this.destination = { v4: `10.${x}.1.200`, v6: `fd${hx}:1::c8` };
  }

  /** Hop k's addresses (1-based; up to 199). */
  hop(k: number): { v4: string; v6: string } {
    if (!Number.isInteger(k) || k < 1 || k > 199) throw new RangeError(`hop must be 1–199, got ${k}`);
    return { v4: `10.${this.ns.octet}.1.${k}`, v6: `fd${this.ns.octet.toString(16).padStart(2, '0')}:1::${k.toString(16)}` };
  }

  /** A scenario of `count` hops with per-hop settings (keyed by hop number) and destination ones. */
  scenario(count: number, perHop: Record<number, Partial<SimHop>> = {}, destination: Partial<SimScenario['destination']> = {}): SimScenario {
    return {
      hops: Array.from({ length: count }, (_, i) => ({ ...this.hop(i + 1), ...perHop[i + 1] })),
      destination: { ...this.destination, ...destination },
    };
  }

  /** Makes the path behave as `s` from now on. */
  setScenario(s: SimScenario): void {
    this.responder.setScenario(s);
  }

  static async create(opts: SimulatedPathOptions = {}): Promise<SimulatedPath> {
    const ns = await loopbackNamespace({ prefix: opts.prefix ?? 'ndsim' });
    const n = native();
    let tun: { fd: number; name: string } | null = null;
    let responder: PathResponder | null = null;
    try {
      const x = ns.octet;
      const hx = x.toString(16).padStart(2, '0');
      tun = testingAddon().openTun(`ndsim${ns.id}`);
      // the device moves into the namespace; its fd stays with this process
      await runChecked('ip', ['link', 'set', tun.name, 'netns', ns.ns]);
      for (const args of [
        ['link', 'set', tun.name, 'up'],
        ['addr', 'add', `10.${x}.0.1/32`, 'dev', tun.name],
        ['-6', 'addr', 'add', `fd${hx}:0:0:1::1/128`, 'dev', tun.name, 'nodad'],
        ['route', 'add', `10.${x}.1.0/24`, 'dev', tun.name, 'src', `10.${x}.0.1`],
        ['-6', 'route', 'add', `fd${hx}:1::/64`, 'dev', tun.name, 'src', `fd${hx}:0:0:1::1`],
      ]) await ns.ip(ns.ns, args);
      await ns.sysctl(ns.ns, { 'net.ipv4.conf.all.rp_filter': '0', [`net.ipv4.conf.${tun.name}.rp_filter`]: '0' });
      responder = new PathResponder(tun.fd, { hops: [], destination: { v4: `10.${x}.1.200`, v6: `fd${hx}:1::c8` } });
      responder.start();
      return new SimulatedPath(ns, responder, tun.fd);
    } catch (e) {
      responder?.close();
      if (tun) n.close(tun.fd);
      await ns.destroy();
      throw e;
    }
  }

  /** Stops the responder, closes the TUN and deletes the namespace. Idempotent. */
  destroy(): Promise<void> {
    if (!this.closed) {
      this.responder.close();
      native().close(this.fd);
      this.closed = this.ns.destroy();
    }
    return this.closed;
  }

  close(): Promise<void> {
    return this.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }
}

/**
 * Builds a simulated path (needs /dev/net/tun and the test addon, built from source).
 *   await using sim = await createSimulatedPath();
 *   sim.setScenario(sim.scenario(5, { 3: { delayMs: 40, mpls: [{ label: 16, exp: 0, s: 1, ttl: 1 }] } }));
 *   await sim.ns.run(sim.ns.ns, 'traceroute', ['-n', sim.destination.v4]);
 */
export function createSimulatedPath(opts: SimulatedPathOptions = {}): Promise<SimulatedPath> {
  return SimulatedPath.create(opts);
}
