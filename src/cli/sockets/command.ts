// `netdiag sockets` (alias `ss`): lists sockets from sock_diag (or /proc) like ss. Parses the flags and the
// filter expression, then streams the listing as ss-style text or as one
// netdiag.sockets/1 JSON document; --watch redraws every second until interrupted.
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../errors.js';
import { commonOptions, formatHelp, parseArgs, type OptionSpec } from '../args.js';
import { outputDrained, printBytes, type Output } from '../output.js';
import { parseFilterExpression, parsePort } from './filter-expression.js';
import { parseAddressPrefix } from '../../sockets/inet-address.js';
import { NoSuchProcessError, scanSockets, type SocketScan } from '../../sockets/scan.js';
import { loadCgroupPaths } from '../../sockets/cgroup-paths.js';
import { destroyRows } from './kill.js';
import { SockDiagError } from '../../sockets/netlink/sock-diag-reader.js';
import { loadServices } from '../../sockets/services.js';
import { SsTableWriter } from './ss-table.js';
import { ALL_STATES, SS_DEFAULT_STATES, SS_LISTENING_STATES, stateName } from '../../sockets/states.js';
import type { ListSocketsOptions, PortSelector, SocketFamily, SocketProtocol } from '../../sockets/types.js';

const USAGE = 'netdiag sockets [options] [filter]';
const SUMMARY = `List sockets from sock_diag (netlink) or /proc, like ss: connected sockets by default, -l listening, -a both.
filter: state NAME | exclude NAME | sport OP PORT | dport OP PORT | src ADDR[/LEN] | dst ADDR[/LEN],
joined by 'and'. States: established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait,
closed, close-wait, last-ack, listening, closing, and the groups all, connected,
synchronized, bucket, big. An IPv4 address also matches IPv4-mapped IPv6 sockets.`;

const specs: OptionSpec[] = [
  { key: 'tcp', names: ['-t', '--tcp'], kind: 'flag', help: 'TCP sockets' },
  { key: 'udp', names: ['-u', '--udp'], kind: 'flag', help: 'UDP sockets' },
  { key: 'udplite', names: ['--udplite'], kind: 'flag', help: 'UDP-Lite sockets' },
  { key: 'raw', names: ['-w', '--raw'], kind: 'flag', help: 'raw sockets' },
  { key: 'unix', names: ['-x', '--unix'], kind: 'flag', help: 'unix sockets' },
  { key: 'packet', names: ['-0', '--packet'], kind: 'flag', help: 'packet sockets (AF_PACKET; netlink backend)' },
  { key: 'netlink', names: ['--netlink'], kind: 'flag', help: 'netlink sockets (netlink backend)' },
  { key: 'ipv4', names: ['-4', '--ipv4'], kind: 'flag', help: 'IPv4 sockets only' },
  { key: 'ipv6', names: ['-6', '--ipv6'], kind: 'flag', help: 'IPv6 sockets only' },
  { key: 'listening', names: ['-l', '--listening'], kind: 'flag', help: 'listening and unconnected sockets only' },
  { key: 'all', names: ['-a', '--all'], kind: 'flag', help: 'listening and connected sockets' },
  { key: 'numeric', names: ['-n', '--numeric'], kind: 'flag', help: 'port numbers instead of service names' },
  { key: 'processes', names: ['-p', '--processes'], kind: 'flag', help: 'the processes holding each socket' },
  { key: 'extended', names: ['-e', '--extended'], kind: 'flag', help: 'uid and inode' },
  { key: 'timers', names: ['-o', '--options'], kind: 'flag', help: 'TCP timers' },
  { key: 'noHeader', names: ['-H', '--no-header'], kind: 'flag', help: 'no header line' },
  { key: 'sport', names: ['--sport'], kind: 'list', value: 'PORT[-PORT]', example: '--sport 22', help: 'local port or range (repeat for any of several)' },
  { key: 'dport', names: ['--dport'], kind: 'list', value: 'PORT[-PORT]', example: '--dport 443', help: 'remote port or range' },
  { key: 'src', names: ['--src'], kind: 'list', value: 'ADDR[/LEN]', example: '--src 127.0.0.1', help: 'local address or CIDR' },
  { key: 'dst', names: ['--dst'], kind: 'list', value: 'ADDR[/LEN]', example: '--dst 10.0.0.0/8', help: 'remote address or CIDR' },
  { key: 'pid', names: ['--pid'], kind: 'list', value: 'PID', example: '--pid 812', help: 'only sockets held by this process' },
  { key: 'command', names: ['--command'], kind: 'list', value: 'NAME', example: '--command sshd', help: 'only sockets held by processes with this name' },
  { key: 'netnsPid', names: ['--netns-pid'], kind: 'integer', value: 'PID', min: 1, max: 4194304, example: '--netns-pid 4242', help: 'list the network namespace of this process' },
  { key: 'watch', names: ['--watch'], kind: 'flag', help: 'redraw every second until interrupted' },
  { key: 'backend', names: ['--backend'], kind: 'string', value: 'netlink|proc|auto', choices: ['netlink', 'proc', 'auto'], example: '--backend proc', help: 'where to read sockets from (default auto: netlink, /proc where sock_diag is unavailable)' },
  { key: 'info', names: ['-i', '--info'], kind: 'flag', help: 'TCP internals (rtt, cwnd, retransmits, rates; netlink)' },
  { key: 'memory', names: ['-m', '--memory'], kind: 'flag', help: 'socket memory (skmem; netlink)' },
  { key: 'cgroup', names: ['--cgroup'], kind: 'flag', help: 'the cgroup of each socket (netlink)' },
  { key: 'kill', names: ['-K', '--kill'], kind: 'flag', help: 'close the TCP/UDP sockets the filter matches (SOCK_DESTROY; needs CAP_NET_ADMIN and a filter)' },
  ...commonOptions,
];

interface Flags {
  tcp?: true;
  udp?: true;
  udplite?: true;
  raw?: true;
  unix?: true;
  packet?: true;
  netlink?: true;
  ipv4?: true;
  ipv6?: true;
  listening?: true;
  all?: true;
  numeric?: true;
  processes?: true;
  extended?: true;
  timers?: true;
  noHeader?: true;
  sport?: string[];
  dport?: string[];
  src?: string[];
  dst?: string[];
  pid?: string[];
  command?: string[];
  netnsPid?: number;
  watch?: true;
  backend?: 'netlink' | 'proc' | 'auto';
  info?: true;
  memory?: true;
  cgroup?: true;
  kill?: true;
  json?: true;
  help?: true;
}

/** parseArgs reads '-4' and '-6' as negative numbers: spell them out first. */
function expandFamilyFlags(argv: string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of argv) {
    if (rest || a === '--') {
      rest = true;
      out.push(a);
      continue;
    }
    const m = /^-([46]+)([a-zA-Z][a-zA-Z46]*)?$/.exec(a);
    if (!m) {
      out.push(a);
      continue;
    }
    for (const d of m[1]!) out.push(d === '4' ? '--ipv4' : '--ipv6');
    if (m[2]) out.push(...expandFamilyFlags(['-' + m[2]]));
  }
  return out;
}

/** Which of -a and -l came last (ss applies them in order). */
function lastOfAllOrListening(argv: string[]): 'all' | 'listening' | null {
  let last: 'all' | 'listening' | null = null;
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--all') last = 'all';
    else if (a === '--listening') last = 'listening';
    else if (/^-[a-zA-Z46]+$/.test(a)) {
      for (const ch of a.slice(1)) {
        if (ch === 'a') last = 'all';
        else if (ch === 'l') last = 'listening';
      }
    }
  }
  return last;
}

function parsePortOption(option: string, text: string, resolvePort: (name: string) => number | undefined): PortSelector {
  const example = `e.g. netdiag sockets ${option} 22 or ${option} 1024-65535`;
  const range = /^:?([^-\s]+)-:?([^-\s]+)$/.exec(text);
  if (range) {
    const from = parsePort(range[1]!, resolvePort);
    const to = parsePort(range[2]!, resolvePort);
    if (typeof from !== 'number' || typeof to !== 'number') throw new UsageError(`option ${option} needs a port or a range, got '${text}'`, example);
    if (from > to) throw new UsageError(`option ${option} has an empty range '${text}'`, `put the lower port first, ${example}`);
    return { from, to };
  }
  const port = parsePort(text, resolvePort);
  if (typeof port !== 'number') throw new UsageError(`option ${option} needs a port or a range, got '${text}'`, example);
  return port;
}

function checkAddressOption(option: string, text: string): string {
  if (!parseAddressPrefix(text)) throw new UsageError(`option ${option} needs an IP address or CIDR, got '${text}'`, `e.g. netdiag sockets ${option} 127.0.0.1 or ${option} 10.0.0.0/8`);
  return text;
}

function statesOfMask(mask: number): string[] {
  const names: string[] = [];
  for (let code = 1; code <= 12; code++) if (mask & (1 << code)) names.push(stateName(code, true)!);
  return names;
}

function bitCount(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
}

interface Listing {
  options: ListSocketsOptions;
  showNetid: boolean;
  showState: boolean;
  /** -K: the filter narrows the listing (a state, port, address, process) */
  filtered: boolean;
}

/** Turns flags and filter words into listSockets options, as ss reads its own. */
async function toListing(flags: Flags, positionals: string[], argv: string[]): Promise<Listing> {
  // /etc/services is read only when a port is given by name
  let byName: Map<string, number> | null = null;
  const resolvePort = (name: string): number | undefined => {
    if (byName === null) {
      const services = loadServices('/etc/services');
      byName = new Map<string, number>();
      for (const map of [services.tcp, services.udp]) for (const [port, portName] of map) if (!byName.has(portName)) byName.set(portName, port);
    }
    return byName.get(name);
  };

  const expr = parseFilterExpression(positionals, resolvePort);
  let stateMask = SS_DEFAULT_STATES;
  const order = lastOfAllOrListening(argv);
  if (order === 'all') stateMask = ALL_STATES;
  if (order === 'listening') stateMask = SS_LISTENING_STATES;
  if (expr.stateMask !== null) stateMask = expr.stateMask;
  if (stateMask === 0) throw new UsageError('no socket state is left by this filter', 'drop an exclude or add a state');

  const protocols: SocketProtocol[] = [];
  if (flags.tcp) protocols.push('tcp');
  if (flags.udp) protocols.push('udp');
  if (flags.udplite) protocols.push('udplite');
  if (flags.raw) protocols.push('raw');
  if (flags.unix) protocols.push('unix');
  if (flags.packet) protocols.push('packet');
  if (flags.netlink) protocols.push('netlink');
  if ((flags.packet || flags.netlink) && flags.backend === 'proc') throw new UsageError(`${flags.packet ? '-0' : '--netlink'} needs the netlink backend`, 'drop --backend proc');
  const families: SocketFamily[] = [];
  if (flags.ipv4) families.push('inet');
  if (flags.ipv6) families.push('inet6');
  // ss -4/-6 mean -f inet/inet6: unix sockets only when -x asks for them too
  if (families.length > 0 && flags.unix) families.push('unix');
  if (families.length > 0 && flags.packet) families.push('packet');
  if (families.length > 0 && flags.netlink) families.push('netlink');
  const anyFamily = families.length === 0;
  const allProtocols: SocketProtocol[] = ['tcp', 'udp', 'udplite', 'raw', 'unix'];
  const shownProtocols = protocols.length > 0 ? protocols : anyFamily || families.includes('unix') ? allProtocols : allProtocols.filter((p) => p !== 'unix');

  // --sport/--src repeat as 'any of'; the filter words are joined by 'and': one or the other
  for (const [flag, word, given] of [['--sport', 'sport', expr.localPorts], ['--dport', 'dport', expr.remotePorts], ['--src', 'src', expr.localAddresses], ['--dst', 'dst', expr.remoteAddresses]] as const) {
    const key = flag.slice(2) as 'sport' | 'dport' | 'src' | 'dst';
    if ((flags[key]?.length ?? 0) > 0 && given.length > 0) throw new UsageError(`${flag} and a '${word}' filter word cannot be combined`, `give the condition one way, e.g. ${flag} or '${word} ...'`);
  }
  const localPort = [...(flags.sport ?? []).map((s) => parsePortOption('--sport', s, resolvePort)), ...expr.localPorts];
  const remotePort = [...(flags.dport ?? []).map((s) => parsePortOption('--dport', s, resolvePort)), ...expr.remotePorts];
  const localAddress = [...(flags.src ?? []).map((s) => checkAddressOption('--src', s)), ...expr.localAddresses];
  const remoteAddress = [...(flags.dst ?? []).map((s) => checkAddressOption('--dst', s)), ...expr.remoteAddresses];
  const pids = (flags.pid ?? []).map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 4194304) throw new UsageError(`option --pid needs a process id, got '${p}'`, 'e.g. netdiag sockets --pid 812');
    return Number(p);
  });
  const commands = flags.command ?? [];
  for (const c of commands) if (c === '') throw new UsageError('option --command needs a name', 'e.g. netdiag sockets --command sshd');

  const options: ListSocketsOptions = {
    states: statesOfMask(stateMask) as ListSocketsOptions['states'],
    owners: Boolean(flags.processes),
  };
  if (protocols.length > 0) options.protocols = protocols;
  if (!anyFamily) options.families = families;
  if (localPort.length > 0) options.localPort = localPort;
  if (remotePort.length > 0) options.remotePort = remotePort;
  if (localAddress.length > 0) options.localAddress = localAddress;
  if (remoteAddress.length > 0) options.remoteAddress = remoteAddress;
  if (pids.length > 0) options.pids = pids;
  if (commands.length > 0) options.commands = commands;
  if (flags.netnsPid !== undefined) options.netnsPid = flags.netnsPid;
  // like ss: PROC_ROOT points at another procfs (a container's, or test fixtures)
  if (process.env.PROC_ROOT) options.procRoot = process.env.PROC_ROOT;
  if (flags.backend !== undefined) options.backend = flags.backend;
  if (flags.info) options.tcpInfo = true;
  if (flags.memory) options.memory = true;
  // -K closes what sock_diag lists (tables it cannot list come from /proc and are refused)
  if (flags.kill) options.backend = netlinkFor('-K', flags.backend);
  else if ((flags.info || flags.memory || flags.cgroup) && flags.backend === 'proc') {
    throw new UsageError(`${flags.info ? '-i' : flags.memory ? '-m' : '--cgroup'} needs the netlink backend, /proc does not have it`, 'drop --backend proc');
  }
  const filtered = expr.stateMask !== null || localPort.length + remotePort.length + localAddress.length + remoteAddress.length + pids.length + commands.length > 0;

  // ss's Netid column counts its socket tables: tcp, udp, raw and three unix ones
  const tables = shownProtocols.reduce((n, p) => n + (p === 'unix' ? 3 : p === 'packet' ? 2 : 1), 0);
  return { options, showNetid: tables > 1, showState: bitCount(stateMask) > 1, filtered };
}

/** -K works on netlink only. */
function netlinkFor(flag: string, backend: Flags['backend']): 'netlink' | 'auto' {
  if (backend === 'proc') throw new UsageError(`${flag} needs the netlink backend`, 'drop --backend proc');
  return backend ?? 'auto';
}

function startScan(listing: Listing, signal: AbortSignal, kill = false, tableOnly = false): SocketScan {
  try {
    return scanSockets({ ...listing.options, signal }, { keepIds: kill, tableOnly });
  } catch (e) {
    if (e instanceof NoSuchProcessError) {
      throw new UsageError(`option --netns-pid: no process with pid ${e.pid}`, 'give the pid of a running process inside the namespace, e.g. from ip netns pids NAME');
    }
    throw e;
  }
}

function screenWidth(out: Output): number | null {
  if (out.isTTY && process.stdout.columns) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : null;
}

async function printText(listing: Listing, flags: Flags, out: Output, signal: AbortSignal): Promise<void> {
  // the table shows tos, shutdown and cgroup only with -e or --cgroup
  const scan = startScan(listing, signal, Boolean(flags.kill), !flags.extended && !flags.cgroup);
  let cgroups: Map<number, string> | null = null;
  const table = new SsTableWriter(
    {
      numeric: Boolean(flags.numeric),
      processes: Boolean(flags.processes),
      extended: Boolean(flags.extended),
      // ss -e shows what -o does too (its show_options)
      timers: Boolean(flags.timers || flags.extended),
      header: !flags.noHeader,
      showNetid: listing.showNetid,
      showState: listing.showState,
      screenWidth: screenWidth(out),
      serviceName: (protocol, port) => scan.serviceName(protocol, port),
      tcpInfo: Boolean(flags.info),
      memory: Boolean(flags.memory),
      cgroup: Boolean(flags.cgroup),
      cgroupName: (id) => (cgroups ??= loadCgroupPaths()).get(id) ?? String(id),
    },
    scan,
    (bytes) => printBytes(out, bytes),
  );
  try {
    for await (const rows of scan.rows()) {
      // -K: only what was closed is printed, as ss does
      table.add(flags.kill ? destroyRows(scan, rows) : rows);
      await outputDrained(out); // a slow reader paces the scan instead of stdout buffering it all
    }
  } finally {
    scan.closeDiag();
  }
  table.end();
  for (const w of scan.warnings) out.err(`netdiag: ${w}\n`);
  const unreadable = scan.ownersUnreadable ?? [];
  if (flags.processes && unreadable.length > 0) {
    const fix = process.getuid?.() === 0 ? 'even root needs ptrace access to them: another user namespace or a security module denies it' : 'run as root to see them';
    out.err(`netdiag: could not read the descriptors of ${unreadable.length} process${unreadable.length === 1 ? '' : 'es'} (pid ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', ...' : ''}); their sockets show no process (${fix})\n`);
  }
}

async function printJson(listing: Listing, flags: Flags, out: Output, signal: AbortSignal): Promise<void> {
  const kill = Boolean(flags.kill);
  const scan = startScan(listing, signal, kill);
  out.out('{\n  "schema": "netdiag.sockets/1",\n  "sockets": [');
  let first = true;
  try {
    for await (const rows of scan.rows()) {
      let text = '';
      for (const s of scan.entriesOf(kill ? destroyRows(scan, rows) : rows)) {
        text += (first ? '\n    ' : ',\n    ') + JSON.stringify(s);
        first = false;
      }
      out.out(text);
      await outputDrained(out);
    }
  } finally {
    scan.closeDiag();
  }
  out.out(first ? ']' : '\n  ]');
  if (scan.withOwners) out.out(`,\n  "ownersUnreadable": ${JSON.stringify(scan.ownersUnreadable ?? [])}`);
  // known once the tables were read; the order of members does not matter to JSON
  out.out(`,\n  "backend": ${JSON.stringify(scan.backend ?? 'proc')}`);
  out.out('\n}\n');
  for (const w of scan.warnings) out.err(`netdiag: ${w}\n`);
}

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const expanded = expandFamilyFlags(argv);
  const { options, positionals } = parseArgs(expanded, specs, 'sockets');
  const flags = options as Flags;
  if (flags.help) {
    out.out(formatHelp(USAGE, SUMMARY, specs));
    return 0;
  }
  if (flags.watch && flags.json) throw new UsageError('--watch and --json cannot be combined', 'run netdiag sockets --json once per listing');
  const listing = await toListing(flags, positionals, expanded);
  if (flags.kill && !listing.filtered) {
    throw new UsageError('-K closes every socket the filter matches and no filter was given', "add one, e.g. netdiag sockets -K dport = :8080 or -K state established '( sport = :22 )'");
  }
  if (flags.kill && flags.watch) throw new UsageError('-K and --watch cannot be combined', 'run netdiag sockets -K once');

  try {
    if (!flags.watch) {
      if (flags.json) await printJson(listing, flags, out, signal);
      else await printText(listing, flags, out, signal);
      return 0;
    }
    while (!signal.aborted) {
      // home the cursor and clear the screen, then draw the new listing
      if (out.isTTY) out.out('\x1b[H\x1b[2J');
      await printText(listing, flags, out, signal);
      await sleep(1000, undefined, { signal });
    }
    return 0;
  } catch (e) {
    if (signal.aborted) {
      if (flags.watch) return 0;
      out.err('netdiag: interrupted\n');
      return 2;
    }
    if (e instanceof SockDiagError) throw new UsageError(e.problem, flags.backend === 'netlink' ? 'use --backend auto or --backend proc' : e.fix);
    throw e;
  }
}
