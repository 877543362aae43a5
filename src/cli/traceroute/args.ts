// Command line of `netdiag traceroute`: Linux traceroute's flags (plus --tcp-connect, --paris/
// --classic, mtr-style --report/--cycles/--interval/--watch) turned into library options, every
// mistake a UsageError naming the flag.
import { isIP } from 'node:net';
import { UsageError } from '../../errors.js';
import { parseWaitArgument } from '../../traceroute/wait-policy.js';
import { MAX_PACKET_LENGTH } from '../../traceroute/options.js';
import type { TracerouteMethod, TracerouteOptions } from '../../traceroute/types.js';
import { commonOptions, parseArgs, parseNumberText, type OptionSpec } from '../args.js';
import { hostProblem } from '../../target/host-text.js';

export const specs: OptionSpec[] = [
  { key: 'icmp', names: ['-I', '--icmp'], kind: 'flag', help: 'ICMP echo probes (raw socket, or a ping socket without privilege)' },
  { key: 'udp', names: ['-U', '--udp'], kind: 'flag', help: 'UDP probes (the default; unprivileged via the error queue)' },
  { key: 'tcp', names: ['-T', '--tcp'], kind: 'flag', help: 'TCP SYN probes (raw socket: CAP_NET_RAW)' },
  { key: 'tcpConnect', names: ['--tcp-connect'], kind: 'flag', help: 'TCP connect() probes (no privilege needed)' },
  { key: 'socket', names: ['--socket'], kind: 'string', value: 'kind', choices: ['auto', 'raw', 'dgram'], example: '--socket dgram', help: 'raw, dgram (ping/UDP socket) or auto (default)' },
  { key: 'port', names: ['-p', '--port'], kind: 'integer', value: 'port', min: 1, max: 65535, example: '-p 443', help: 'destination port (UDP 33434, TCP 80)' },
  { key: 'first', names: ['-f', '--first'], kind: 'integer', value: 'first_ttl', min: 1, max: 255, example: '-f 3', help: 'start from this hop (default 1)' },
  { key: 'max', names: ['-m', '--max-hops'], kind: 'integer', value: 'max_ttl', min: 1, max: 255, example: '-m 20', help: 'at most this many hops (default 30)' },
  { key: 'queries', names: ['-q', '--queries'], kind: 'integer', value: 'nqueries', min: 1, max: 10, example: '-q 1', help: 'probes per hop (default 3)' },
  { key: 'wait', names: ['-w', '--wait'], kind: 'string', value: 'MAX,HERE,NEAR', example: '-w 5,3,10', help: 'wait at most MAX s; HERE/NEAR times the RTT of an answer from this/a later hop (default 5,3,10; one value: no adaptation)' },
  { key: 'sim', names: ['-N', '--sim-queries'], kind: 'integer', value: 'squeries', min: 1, max: 512, example: '-N 32', help: 'probes in flight at once (default 16)' },
  { key: 'numeric', names: ['-n'], kind: 'flag', help: 'do not resolve addresses to names' },
  { key: 'v4', names: ['-4', '--ipv4'], kind: 'flag', help: 'IPv4' },
  { key: 'v6', names: ['-6', '--ipv6'], kind: 'flag', help: 'IPv6' },
  { key: 'source', names: ['-s', '--source'], kind: 'string', value: 'src_addr', example: '-s 192.0.2.10', help: 'send from this address' },
  { key: 'device', names: ['-i', '--interface'], kind: 'string', value: 'device', example: '-i eth0', help: 'send through this interface' },
  { key: 'tos', names: ['-t', '--tos'], kind: 'integer', value: 'tos', min: 0, max: 255, hex: true, example: '-t 16', help: 'IPv4 TOS / IPv6 traffic class' },
  { key: 'mtu', names: ['--mtu'], kind: 'flag', help: 'discover the path MTU (DF set, one probe at a time; shows F=<mtu>)' },
  { key: 'extensions', names: ['-e', '--extensions'], kind: 'flag', help: 'show ICMP extensions (RFC 4884), MPLS labels (RFC 4950)' },
  { key: 'paris', names: ['--paris'], kind: 'flag', help: 'one flow for every probe, so load balancers keep one path (default)' },
  { key: 'classic', names: ['--classic'], kind: 'flag', help: 'a new flow per probe (port or checksum changes), like classic traceroute' },
  { key: 'report', names: ['--report'], kind: 'flag', help: 'mtr-style report: per-hop Loss%, Snt, Last, Avg, Best, Wrst, StDev, Javg' },
  { key: 'cycles', names: ['--cycles'], kind: 'integer', value: 'N', min: 1, max: 1_000_000, example: '--cycles 10', help: 'report cycles (default 10; --watch: until interrupted)' },
  { key: 'interval', names: ['--interval'], kind: 'number', value: 's', min: 0, max: 3600, example: '--interval 1', help: 'seconds between report cycles (default 0.25, with --mda 5; routers rate-limit ICMP to ~1/s after a burst of 6)' },
  { key: 'watch', names: ['--watch'], kind: 'flag', help: 'report that redraws after every cycle until interrupted' },
  { key: 'mda', names: ['--mda'], kind: 'flag', help: 'multipath discovery (MDA): vary the flow to find every load-balanced path (with -I, -U or -T)' },
  { key: 'confidence', names: ['--confidence'], kind: 'number', value: 'PCT', min: 50, max: 99.9999, example: '--confidence 99', help: 'with --mda: rule out a missed next hop at this confidence (default 95)' },
  { key: 'mdaFull', names: ['--mda-full'], kind: 'flag', help: 'with --mda: the per-interface MDA at every hop instead of MDA-Lite (more probes)' },
  { key: 'verbose', names: ['-v', '--verbose'], kind: 'flag', help: 'also say on stderr what netdiag did with its privileges (capabilities dropped per thread)' },
  ...commonOptions,
];

export const USAGE = 'netdiag traceroute [options] HOST [packetlen]';
export const SUMMARY = 'Trace the path to HOST with probes of increasing TTL (ICMP, UDP, TCP), many in flight at once.';

/** -4 and -6 look like negative numbers to the shared parser: give them their long names. */
function normalizeArgv(argv: string[]): string[] {
  return argv.map((a) => (a === '-4' ? '--ipv4' : a === '-6' ? '--ipv6' : a));
}

export interface Invocation {
  host: string;
  options: TracerouteOptions;
  families: (4 | 6)[];
  json: boolean;
  numeric: boolean;
  report: boolean;
  watch: boolean;
  cycles: number | undefined;
  intervalMs: number | undefined;
  verbose: boolean;
  /** multipath discovery */
  mda: boolean;
  /** --confidence, percent (--mda only) */
  confidence: number | undefined;
  /** --mda-full: the per-interface MDA everywhere; MDA-Lite otherwise */
  algorithm: 'lite' | 'full';
}

function methodOf(o: Record<string, unknown>): TracerouteMethod {
  const chosen = (['icmp', 'udp', 'tcp', 'tcpConnect'] as const).filter((k) => o[k]);
  if (chosen.length > 1) throw new UsageError(`choose one probe method, got ${chosen.map((k) => (k === 'tcpConnect' ? '--tcp-connect' : `-${k[0]!.toUpperCase()}`)).join(' and ')}`, 'e.g. netdiag traceroute -I HOST');
  const m = chosen[0] ?? 'udp';
  return m === 'tcpConnect' ? 'tcp-connect' : m;
}

/** The invocation, or null when --help was asked for. */
export function parseInvocation(argv: string[]): Invocation | null {
  const { options: o, positionals } = parseArgs(normalizeArgv(argv), specs, 'traceroute');
  if (o.help) return null;
  if (positionals.length === 0) throw new UsageError('no host given', `usage: ${USAGE}`);
  if (positionals.length > 2) throw new UsageError(`too many arguments: ${positionals.slice(2).join(' ')}`, `usage: ${USAGE}`);
  const host = positionals[0]!;
  const problem = hostProblem(host);
  if (problem !== null) throw new UsageError(`the host '${host.length > 60 ? host.slice(0, 57) + '...' : host}' ${problem.problem}`, problem.fix);
  let packetLength: number | undefined;
  if (positionals[1] !== undefined) {
    packetLength = parseNumberText('packetlen', positionals[1], { kind: 'integer', min: 0, max: MAX_PACKET_LENGTH }, 'e.g. netdiag traceroute HOST 1400');
  }
  if (o.v4 && o.v6) throw new UsageError('-4 and -6 exclude each other', 'give one of them, or neither');
  if (o.paris && o.classic) throw new UsageError('--paris and --classic exclude each other', 'give one of them');
  const method = methodOf(o);
  const report = Boolean(o.report || o.watch);
  if ((o.cycles !== undefined || o.interval !== undefined) && !report) throw new UsageError('--cycles and --interval belong to report mode', 'add --report or --watch');
  if (o.queries !== undefined && report) throw new UsageError('-q does not combine with --report/--watch (a report sends one probe per hop per cycle)', 'use --cycles to send more');
  if (o.mtu && report) throw new UsageError('--mtu does not combine with --report/--watch', 'trace with --mtu on its own');
  if (o.mtu && (method === 'tcp' || method === 'tcp-connect')) throw new UsageError('--mtu needs ICMP or UDP probes (TCP probes have a fixed size)', 'use -I or -U with --mtu');
  checkMultipath(o, method);
  let wait: TracerouteOptions['wait'];
  if (o.wait !== undefined) {
    const w = parseWaitArgument(String(o.wait));
    if (!w) throw new UsageError(`option -w needs MAX[,HERE,NEAR] in seconds, got '${String(o.wait)}'`, 'e.g. netdiag traceroute -w 5,3,10 HOST');
    wait = w;
  }
  let family: 4 | 6 | undefined = o.v4 ? 4 : o.v6 ? 6 : undefined;
  const literal = isIP(host.replace(/%.*$/, ''));
  if (literal && family !== undefined && literal !== family) throw new UsageError(`${host} is an IPv${literal} address, but -${family} was given`, `drop -${family}`);
  if (literal) family = literal as 4 | 6;
  const options: TracerouteOptions = {
    method, socket: (o.socket as 'auto' | 'raw' | 'dgram' | undefined) ?? 'auto', family,
    flow: o.classic ? 'classic' : 'paris',
    port: o.port as number | undefined, firstTtl: o.first as number | undefined, maxTtl: o.max as number | undefined,
    queries: o.queries as number | undefined, window: o.sim as number | undefined, wait, packetLength,
    source: o.source as string | undefined, device: o.device as string | undefined, tos: o.tos as number | undefined,
    discoverMtu: Boolean(o.mtu), extensions: Boolean(o.extensions), resolveNames: !o.numeric,
  };
  if (options.source !== undefined) {
    const sourceFamily = isIP(options.source);
    if (!sourceFamily) throw new UsageError(`-s needs an IP address, got '${options.source}'`, 'e.g. -s 192.0.2.10');
    if (family !== undefined && family !== sourceFamily) throw new UsageError(`-s ${options.source} is IPv${sourceFamily}, the target is IPv${family}`, 'give a source of the same family');
    // a source address decides the family of a target name
    family = sourceFamily as 4 | 6;
    options.family = family;
  }
  return {
    host, options, families: family ? [family] : [4, 6], json: Boolean(o.json), numeric: Boolean(o.numeric), report,
    watch: Boolean(o.watch), cycles: o.cycles as number | undefined,
    intervalMs: o.interval === undefined ? undefined : (o.interval as number) * 1000,
    verbose: o.verbose === true,
    mda: o.mda === true,
    confidence: o.confidence as number | undefined,
    algorithm: o.mdaFull === true ? 'full' : 'lite',
  };
}

/** --mda picks its own flows and sends as many probes per hop as the stopping rule needs. */
function checkMultipath(o: Record<string, unknown>, method: TracerouteMethod): void {
  if (!o.mda) {
    if (o.confidence !== undefined) throw new UsageError('--confidence belongs to multipath discovery', 'add --mda');
    if (o.mdaFull) throw new UsageError('--mda-full belongs to multipath discovery', 'add --mda');
    return;
  }
  if (method === 'tcp-connect') {
    throw new UsageError('--mda cannot use --tcp-connect: the kernel picks the source port of each connect(), so no flow can be chosen', 'use -T (TCP SYN, needs CAP_NET_RAW), -U or -I');
  }
  if (o.mtu) throw new UsageError('--mda does not combine with --mtu', 'run --mtu on its own');
  if (o.queries !== undefined) throw new UsageError('-q does not combine with --mda (the stopping rule decides how many probes each hop needs)', 'use --confidence to ask for more certainty');
  if (o.classic || o.paris) throw new UsageError('--mda chooses a flow per probe itself', 'drop --paris/--classic');
}
