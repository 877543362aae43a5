// A simulated path to run the real engine against: a TUN device opened by this process (the
// test addon's openTun, src/testing-addon.ts) and moved into a fresh network namespace (the
// loopback namespace of the topology helper: lo up, rate limits off, ping_group_range
// open), where the test prefix 10.X.1.0/24 and fdXX:1::/64 are routed into it. Nothing leaves the namespace; the
// PathResponder answers from the TUN's other end. The engine runs inside the namespace as a
// child process (the compiled CLI), since a process cannot change its own namespace.
import { native } from '../../src/native.js';
import { testingAddon } from '../../src/testing-addon.js';
import { cliPath, worldReadableRoot } from '../helpers/built-package.js';
import { loopbackNamespace, type LoopbackNamespace, type ProcessResult, type RunAs } from '../helpers/topology.js';
import { join } from 'node:path';
import { PathResponder, type SimHop, type SimScenario } from './path-responder.js';

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
  const ns = await loopbackNamespace({ prefix: 'ndsim' });
  const x = ns.octet;
  const hx = x.toString(16).padStart(2, '0');
  const source = { v4: `10.${x}.0.1`, v6: `fd${hx}:0:0:1::1` };
  const hop = (k: number) => ({ v4: `10.${x}.1.${k}`, v6: `fd${hx}:1::${k.toString(16)}` });
  const destination = { v4: `10.${x}.1.200`, v6: `fd${hx}:1::c8` };
  const n = native();
  let tun: { fd: number; name: string } | null = null;
  let responder: PathResponder | null = null;
  try {
    tun = testingAddon().openTun(`ndsim${ns.id}`);
    // the device moves, the fd stays with us
    const { runChecked } = await import('../helpers/process.js');
    await runChecked('ip', ['link', 'set', tun.name, 'netns', ns.ns]);
    for (const args of [
      ['link', 'set', tun.name, 'up'],
      ['addr', 'add', `${source.v4}/32`, 'dev', tun.name],
      ['-6', 'addr', 'add', `${source.v6}/128`, 'dev', tun.name, 'nodad'],
      ['route', 'add', `10.${x}.1.0/24`, 'dev', tun.name, 'src', source.v4],
      ['-6', 'route', 'add', `fd${hx}:1::/64`, 'dev', tun.name, 'src', source.v6],
    ]) await ns.ip(ns.ns, args);
    await ns.sysctl(ns.ns, { 'net.ipv4.conf.all.rp_filter': '0', [`net.ipv4.conf.${tun.name}.rp_filter`]: '0' });
    responder = new PathResponder(tun.fd, { hops: [], destination });
    responder.start();
  } catch (e) {
    responder?.close();
    if (tun) n.close(tun.fd);
    await ns.destroy();
    throw e;
  }
  const fd = tun.fd;
  const r = responder;
  return {
    ns, responder: r, source, hop, destination,
    scenario(count, perHop = {}, dest = {}) {
      return { hops: Array.from({ length: count }, (_, i) => ({ ...hop(i + 1), ...perHop[i + 1] })), destination: { ...destination, ...dest } };
    },
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
    async destroy() {
      r.close();
      n.close(fd);
      await ns.destroy();
    },
  };
}
