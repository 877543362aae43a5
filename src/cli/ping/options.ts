// `netdiag ping` flags (contract.md): iputils ping's for one host, fping's for many, turned
// into the library's PingOptions plus what only the text needs. Seconds on the command line,
// milliseconds inside.

import { isIP } from 'node:net';
import { commonOptions, type OptionSpec } from '../args.js';
import { UsageError } from '../../errors.js';
import { parsePattern } from '../../ping/payload.js';
import { engineConfigOf, MAX_PAYLOAD } from '../../ping/options.js';
import { hostProblem, MAX_TARGETS } from '../../target/index.js';
import type { IcmpSocketKind, PingOptions, PmtuDiscovery, TcpMethodRequest } from '../../ping/types.js';

const MAX_SECONDS = 2147483;

export const pingOptionSpecs: OptionSpec[] = [
  { key: 'count', names: ['-c', '--count'], kind: 'integer', value: 'count', min: 1, max: Number.MAX_SAFE_INTEGER, example: '-c 5', help: 'stop after COUNT probes per target (with -w: after COUNT replies); one host: until Ctrl-C, many: 1' },
  { key: 'interval', names: ['-i', '--interval'], kind: 'number', value: 'seconds', min: 0, max: MAX_SECONDS, example: '-i 0.2', help: 'seconds between probes to one target (default 1; 0: next on each reply)' },
  { key: 'timeout', names: ['-W', '--timeout'], kind: 'number', value: 'seconds', min: 0.001, max: MAX_SECONDS, example: '-W 2', help: 'seconds each probe waits for its reply before it counts as lost (one host: 10, many: 1)' },
  { key: 'deadline', names: ['-w', '--deadline'], kind: 'number', value: 'seconds', min: 0.001, max: MAX_SECONDS, example: '-w 5', help: 'end the whole run after this many seconds' },
  { key: 'size', names: ['-s', '--size'], kind: 'integer', value: 'bytes', min: 0, max: MAX_PAYLOAD, example: '-s 1472', help: 'payload bytes (default 56)' },
  { key: 'ttl', names: ['-t', '--ttl'], kind: 'integer', value: 'ttl', min: 1, max: 255, example: '-t 64', help: 'IP time to live / hop limit' },
  { key: 'tos', names: ['-Q', '--tos'], kind: 'integer', value: 'tos', min: 0, max: 255, hex: true, example: '-Q 0x10', help: 'IP type of service / traffic class (decimal or 0x hex)' },
  { key: 'source', names: ['-I', '--interface'], kind: 'string', value: 'iface|addr', example: '-I eth0', help: 'send from this interface or source address' },
  { key: 'ipv4', names: ['-4', '--ipv4'], kind: 'flag', help: 'IPv4 only' },
  { key: 'ipv6', names: ['-6', '--ipv6'], kind: 'flag', help: 'IPv6 only' },
  { key: 'numeric', names: ['-n', '--numeric'], kind: 'flag', help: 'no reverse lookups of addresses' },
  { key: 'quiet', names: ['-q', '--quiet'], kind: 'flag', help: 'only the summary' },
  { key: 'timestamps', names: ['-D'], kind: 'flag', help: 'print the receive time before each line' },
  { key: 'flood', names: ['-f', '--flood'], kind: 'flag', help: 'flood: next probe on each reply or every 10 ms; a dot per probe, a backspace per reply' },
  { key: 'preload', names: ['-l', '--preload'], kind: 'integer', value: 'count', min: 1, max: 65536, example: '-l 3', help: 'probes sent at once before pacing (and in flight when flooding)' },
  { key: 'pattern', names: ['-p', '--pattern'], kind: 'string', value: 'hex', example: '-p ff00', help: 'fill the payload with up to 16 pattern bytes' },
  { key: 'pmtu', names: ['-M'], kind: 'string', value: 'do|dont|want', choices: ['do', 'dont', 'want'], example: '-M do', help: 'path MTU discovery: do (set DF, never fragment), dont, want' },
  { key: 'mark', names: ['-m', '--mark'], kind: 'integer', value: 'mark', min: 0, max: 0xffffffff, example: '-m 7', help: 'SO_MARK of the probes (needs CAP_NET_ADMIN)' },
  { key: 'socket', names: ['--socket'], kind: 'string', value: 'raw|dgram|auto', choices: ['raw', 'dgram', 'auto'], example: '--socket dgram', help: 'raw sockets (CAP_NET_RAW) or ping sockets (ping_group_range); default auto' },
  { key: 'tcp', names: ['--tcp'], kind: 'integer', value: 'port', min: 1, max: 65535, example: '--tcp=443', help: 'TCP ping: a SYN (or connect) to PORT instead of an ICMP echo; --tcp alone is port 80, else write --tcp=PORT' },
  { key: 'tcpMethod', names: ['--tcp-method'], kind: 'string', value: 'syn|connect', choices: ['syn', 'connect', 'auto'], example: '--tcp-method connect', help: 'with --tcp: syn (raw socket, CAP_NET_RAW) or connect (no privilege); default: syn when allowed' },
  { key: 'generate', names: ['-g', '--generate'], kind: 'flag', help: 'targets from a range: -g CIDR, or -g FROM TO' },
  { key: 'file', names: ['--file'], kind: 'string', value: 'file|-', example: '--file hosts.txt', help: 'targets from a file (one per line; - reads stdin)' },
  { key: 'rate', names: ['--rate'], kind: 'number', value: 'pps', min: 0.001, max: 1e9, example: '--rate 1000', help: 'at most PPS probes per second across all targets' },
  { key: 'alive', names: ['-a', '--alive'], kind: 'flag', help: 'many hosts: list the targets that answered' },
  { key: 'unreachable', names: ['-u', '--unreachable'], kind: 'flag', help: 'many hosts: list the targets that never answered' },
  { key: 'verbose', names: ['-v', '--verbose'], kind: 'flag', help: 'also say on stderr what netdiag did with its privileges (capabilities dropped per thread)' },
  ...commonOptions,
];


/**
 * The library's PingOptions (what pingStream and preparedPingBackend get, with the signal
 * added; they read only their own keys) plus what only the command and its text need.
 */
export interface PingCliConfig extends PingOptions {
  /** the library's reading of these options (checked, defaults filled in): the payload size and interval the text shows */
  engine: ReturnType<typeof engineConfigOf>;
  /** several targets (fping-style output) rather than one (iputils-style) */
  many: boolean;
  /** -I as an address or as an interface, for the header */
  sourceAddress?: string;
  device?: string;
  numeric: boolean;
  quiet: boolean;
  timestamps: boolean;
  flood: boolean;
  json: boolean;
  alive: boolean;
  unreachable: boolean;
  /** the -p text as given, for iputils' PATTERN line */
  patternText: string | null;
  generate: boolean;
  file: string | null;
  verbose: boolean;
}

/** Hosts on the command line: refused before any socket opens (on the wire they would mean nothing). */
function checkHosts(hosts: readonly string[]): void {
  if (hosts.length > MAX_TARGETS) throw new UsageError(`more than ${MAX_TARGETS} hosts`, `netdiag takes at most ${MAX_TARGETS} targets per run: split the list`);
  for (const h of hosts) {
    const p = hostProblem(h);
    if (p !== null) throw new UsageError(`the host '${h.length > 60 ? h.slice(0, 57) + '...' : h}' ${p.problem}`, p.fix);
  }
}

/** The port --tcp means when written alone. */
export const DEFAULT_TCP_PORT = 80;

/**
 * --tcp takes its port only attached (--tcp=443): alone it means port 80, so `--tcp HOST` keeps
 * HOST a host. `--tcp 443` is refused rather than read as a host named 443.
 */
export function expandTcpFlag(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a !== '--tcp') {
      out.push(a);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && /^[0-9]+$/.test(next)) {
      throw new UsageError(`--tcp takes its port after '=' (--tcp ${next} would ping a host named ${next})`, `write --tcp=${next}`);
    }
    out.push(`--tcp=${DEFAULT_TCP_PORT}`);
  }
  return out;
}

/** The TCP flags' conflicts with ICMP-only ones, refused with the fix. */
function checkTcpFlags(o: Record<string, unknown>): void {
  if (o.tcp === undefined) {
    if (o.tcpMethod !== undefined) throw new UsageError('--tcp-method needs --tcp', 'e.g. netdiag ping --tcp=443 --tcp-method connect HOST');
    return;
  }
  if (o.size !== undefined) throw new UsageError('-s sets the ICMP payload, and TCP probes carry none', 'drop -s with --tcp');
  if (o.pattern !== undefined) throw new UsageError('-p fills the ICMP payload, and TCP probes carry none', 'drop -p with --tcp');
  if (o.socket !== undefined) throw new UsageError('--socket chooses ICMP sockets', 'with --tcp choose the method with --tcp-method syn|connect');
}

/** iputils' limits for users other than root. */
const MIN_USER_INTERVAL_MS = 2;
const MAX_USER_PRELOAD = 3;

export function toPingConfig(o: Record<string, unknown>, positionals: string[], euid: number): PingCliConfig {
  if (o.ipv4 && o.ipv6) throw new UsageError('only one of -4 and -6 may be given', 'drop one of them');
  checkTcpFlags(o);
  if (o.alive && o.unreachable) throw new UsageError('only one of -a and -u may be given', 'drop one of them; without either every target is listed');
  const generate = o.generate === true;
  const file = (o.file as string | undefined) ?? null;
  if (generate && file !== null) throw new UsageError('-g and --file cannot be combined', 'give the targets one way');
  if (generate && (positionals.length < 1 || positionals.length > 2)) {
    throw new UsageError('-g needs a CIDR block or a FROM and a TO address', 'e.g. netdiag ping -g 10.0.0.0/24, or netdiag ping -g 10.0.0.1 10.0.0.20');
  }
  if (!generate && file === null && positionals.length === 0) throw new UsageError('no host given', 'e.g. netdiag ping 127.0.0.1');
  if (file !== null && positionals.length > 0) throw new UsageError('--file and hosts on the command line cannot be combined', 'put every host in the file');
  if (file === '') throw new UsageError('option --file needs a file name', 'e.g. netdiag ping --file hosts.txt, or --file - for stdin');
  if (!generate) checkHosts(positionals);
  const many = generate || file !== null || positionals.length > 1 || o.alive === true || o.unreachable === true;
  const flood = o.flood === true;
  if (flood && many) throw new UsageError('-f floods one host', 'give one host, or use --rate with many');
  const root = euid === 0;
  const interval = o.interval !== undefined ? (o.interval as number) * 1000 : flood ? 0 : 1000;
  if (!root && interval < MIN_USER_INTERVAL_MS) {
    throw new UsageError(`cannot flood; minimal interval allowed for user is ${MIN_USER_INTERVAL_MS}ms`, 'run as root, or give -i 0.002 or more');
  }
  const preload = (o.preload as number | undefined) ?? 1;
  if (!root && preload > MAX_USER_PRELOAD) {
    throw new UsageError(`cannot set preload to value greater than ${MAX_USER_PRELOAD}: ${preload}`, 'run as root, or give -l 3 or less');
  }
  let pattern: Uint8Array | null = null;
  const patternText = (o.pattern as string | undefined) ?? null;
  if (patternText !== null) {
    pattern = parsePattern(patternText);
    if (pattern === null) throw new UsageError(`patterns must be specified as hex digits: ${patternText}`, 'e.g. netdiag ping -p ff00 HOST');
  }
  const deadline = o.deadline !== undefined ? (o.deadline as number) * 1000 : null;
  const count = (o.count as number | undefined) ?? (many ? 1 : Infinity);
  const source = o.source as string | undefined;
  if (source !== undefined && isIP(source) === 0 && (/^[0-9.:]+$/.test(source) || !/^[^\s/]{1,15}$/.test(source))) {
    throw new UsageError(`-I ${source} is neither an address nor an interface name`, 'e.g. -I eth0 or -I 10.0.0.1');
  }
  const cfg: Omit<PingCliConfig, 'engine'> = {
    count,
    interval,
    timeout: o.timeout !== undefined ? (o.timeout as number) * 1000 : many ? 1000 : 10_000,
    size: (o.size as number | undefined) ?? 56,
    preload,
    probes: o.json === true && !(many && o.quiet === true),
    socket: (o.socket as IcmpSocketKind | 'auto' | undefined) ?? 'auto',
    many,
    numeric: o.numeric === true,
    quiet: o.quiet === true,
    timestamps: o.timestamps === true,
    flood,
    json: o.json === true,
    alive: o.alive === true,
    unreachable: o.unreachable === true,
    patternText,
    generate,
    file,
    verbose: o.verbose === true,
  };
  if (o.tcp !== undefined) {
    delete cfg.size;
    cfg.method = 'tcp';
    cfg.port = o.tcp as number;
    cfg.tcpMethod = (o.tcpMethod as TcpMethodRequest | undefined) ?? 'auto';
  }
  if (deadline !== null) cfg.deadline = deadline;
  if (o.rate !== undefined) cfg.rate = o.rate as number;
  if (pattern !== null) cfg.pattern = pattern;
  if (o.ipv4 || o.ipv6) cfg.family = o.ipv4 ? 4 : 6;
  if (o.ttl !== undefined) cfg.ttl = o.ttl as number;
  if (o.tos !== undefined) cfg.tos = o.tos as number;
  if (o.mark !== undefined) cfg.mark = o.mark as number;
  if (o.pmtu !== undefined) cfg.pmtu = o.pmtu as PmtuDiscovery;
  if (source !== undefined) {
    cfg.source = source;
    if (isIP(source) !== 0) cfg.sourceAddress = source;
    else cfg.device = source;
  }
  return { ...cfg, engine: engineConfigOf(cfg) };
}
