// The trace comparisons, shared by bench/traceroute.mjs and bench/quick.js: inside the source
// namespace of a Chain, `node bin/netdiag.js traceroute ...` and the tool as whole processes,
// alternating, with `node -e 0` (Node's start-up) timed the same way.
import { fileURLToPath } from 'node:url';
import { cli } from './measure.mjs';

const timer = fileURLToPath(new URL('./time-commands.mjs', import.meta.url));
/** the timing child decides the measured environment as measure.mjs does here */
const keep = process.argv.includes('--keep-ca-certs') ? ['--keep-ca-certs'] : [];
const node = process.execPath;

/** Hop lines of traceroute-style text output ("  3  10.x.3.2  0.05 ms ..."). */
function hopLines(text) {
  return text.split('\n').filter((l) => /^\s*\d+\s/.test(l));
}

/**
 * `netdiag traceroute -n [-I] TARGET` vs `traceroute -n [-I] TARGET`, both exit 0 only when
 * the destination answered. methods: 'udp' (both tools' default) and/or 'icmp' (-I).
 * Returns { [method]: { netdiag, traceroute, node, netdiagHops, tracerouteHops } } in seconds.
 */
export function traceWholeProcess(chain, runs, methods = ['udp', 'icmp']) {
  const out = {};
  for (const method of methods) {
    const flag = method === 'icmp' ? ['-I'] : [];
    const spec = {
      runs,
      sides: {
        netdiag: { cmd: node, args: [cli, 'traceroute', '-n', ...flag, chain.target] },
        traceroute: { cmd: 'traceroute', args: ['-n', ...flag, chain.target] },
        node: { cmd: node, args: ['-e', '0'] },
      },
    };
    const r = chain.inSource(timer, [JSON.stringify(spec), ...keep]);
    out[method] = {
      netdiag: r.netdiag.wall, traceroute: r.traceroute.wall, node: r.node.wall,
      netdiagHops: hopLines(r.netdiag.stdout).length, tracerouteHops: hopLines(r.traceroute.stdout).length,
    };
  }
  return out;
}

/** `netdiag traceroute --report -I -n --cycles 10` vs `mtr -r -n -c 10` (and mtr at netdiag's 0.25 s interval). */
export function reportWholeProcess(chain, runs) {
  const spec = {
    runs,
    warmup: false, // ten cycles take seconds; neighbour tables are warm from the traces
    sides: {
      netdiag: { cmd: node, args: [cli, 'traceroute', '--report', '-I', '-n', '--cycles', '10', chain.target], timeoutMs: 120_000 },
      mtr: { cmd: 'mtr', args: ['-r', '-n', '-c', '10', chain.target], timeoutMs: 120_000 },
      mtrSameInterval: { cmd: 'mtr', args: ['-r', '-n', '-c', '10', '-i', '0.25', chain.target], timeoutMs: 120_000 },
    },
  };
  const r = chain.inSource(timer, [JSON.stringify(spec), ...keep]);
  return { netdiag: r.netdiag.wall, mtr: r.mtr.wall, mtrSameInterval: r.mtrSameInterval.wall, netdiagText: r.netdiag.stdout, mtrText: r.mtr.stdout };
}
