// Command line of `netdiag serve`: its flags turned into what command.ts needs (where to listen,
// the config file and extra targets, the prober's and the HTTP server's options), every mistake
// a UsageError naming the flag.
import { isIP } from 'node:net';
import { UsageError } from '../../errors.js';
import { hostEntries } from '../../serve/host-list.js';
import type { ProberServerOptions } from '../../serve/http-server.js';
import { commonOptions, formatHelp, parseArgs, type OptionSpec } from '../args.js';

export const USAGE = 'netdiag serve [--listen ADDR:PORT] [--config FILE] [--target HOST]... [--compat smokeping] [--gzip remote|when-asked|never]';
const SUMMARY =
  'Probes targets continuously and serves Prometheus metrics on /metrics (text 0.0.4, or OpenMetrics\n' +
  'when asked), blackbox-style /probe?target=&module=[&count=] for targets in probe.allow, /-/healthy,\n' +
  '/-/ready and POST /-/reload. SIGHUP reloads the config; SIGTERM or Ctrl-C stops (exit 0).';

export type GzipPolicy = NonNullable<ProberServerOptions['gzip']>;
const GZIP_POLICIES: GzipPolicy[] = ['remote', 'when-asked', 'never'];

export const specs: OptionSpec[] = [
  { key: 'listen', names: ['--listen'], kind: 'string', value: 'addr:port', example: '--listen 127.0.0.1:9374', help: 'address and port to serve on (default 127.0.0.1:9374; [::1]:9374 for IPv6)' },
  { key: 'config', names: ['--config'], kind: 'string', value: 'file', example: '--config serve.yml', help: 'YAML or JSON config (smokeping_prober\'s file loads unchanged)' },
  { key: 'target', names: ['--target'], kind: 'list', value: 'host', example: '--target 127.0.0.1', help: 'probe this host too (repeatable; a name, an address or a CIDR)' },
  { key: 'compat', names: ['--compat'], kind: 'string', value: 'smokeping', choices: ['smokeping'], example: '--compat smokeping', help: 'also export smokeping_prober\'s metric names and labels' },
  { key: 'socket', names: ['--socket'], kind: 'string', value: 'raw|dgram|auto', choices: ['raw', 'dgram', 'auto'], example: '--socket dgram', help: 'raw sockets (CAP_NET_RAW) or ping sockets (ping_group_range); default auto' },
  {
    key: 'gzip', names: ['--gzip'], kind: 'string', value: GZIP_POLICIES.join('|'), choices: GZIP_POLICIES, example: '--gzip when-asked',
    help: 'gzip /metrics when the scraper accepts it: remote (default; not to loopback scrapers), when-asked or never',
  },
  { key: 'verbose', names: ['-v', '--verbose'], kind: 'flag', help: 'also say on stderr which capabilities were dropped and when the config was reloaded' },
  ...commonOptions.filter((o) => o.key === 'help'),
];

export const DEFAULT_LISTEN = '127.0.0.1:9374';

/** ADDR:PORT, [IPv6]:PORT or :PORT (every address) as host and port, or a UsageError. */
export function parseListen(text: string): { host: string; port: number } {
  const fix = 'e.g. --listen 127.0.0.1:9374, --listen [::1]:9374 or --listen :9374 (every address)';
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`option --listen needs ADDR:PORT, got '${text}'`, fix);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`option --listen: port ${port} is above 65535`, fix);
  if (host !== '' && isIP(host) === 0) throw new UsageError(`option --listen needs an IP address before the port, got '${host}'`, fix);
  if (m[1] !== undefined && isIP(host) !== 6) throw new UsageError(`option --listen: [${host}] is not an IPv6 address`, fix);
  return { host: host === '' ? '::' : host, port };
}

/** Each --target checked on its own, so the message names the flag rather than a config path. */
function checkTargets(targets: readonly string[]): void {
  for (const t of targets) {
    const r = hostEntries(t);
    if (typeof r === 'string') throw new UsageError(`option --target '${t}': ${r}`, 'e.g. --target 127.0.0.1, --target db.internal or --target 192.0.2.0/28');
  }
}

export interface ServeInvocation {
  listen: { host: string; port: number };
  /** --config, or null: the targets alone */
  file: string | null;
  targets: string[];
  compat: 'smokeping' | null;
  socket: 'raw' | 'dgram' | 'auto';
  gzip: GzipPolicy;
  verbose: boolean;
}

/** `netdiag serve`'s arguments, or the help text to print when --help was given. */
export function parseServeInvocation(argv: string[]): ServeInvocation | { help: string } {
  const { options, positionals } = parseArgs(argv, specs, 'serve');
  if (options.help) return { help: formatHelp(USAGE, SUMMARY, specs) };
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, 'give hosts with --target HOST or in --config FILE');
  const listen = parseListen((options.listen as string | undefined) ?? DEFAULT_LISTEN);
  const file = (options.config as string | undefined) ?? null;
  const targets = (options.target as string[] | undefined) ?? [];
  if (file === null && targets.length === 0) throw new UsageError('nothing to probe', 'give --config FILE or --target HOST');
  checkTargets(targets);
  return {
    listen, file, targets,
    compat: (options.compat as 'smokeping' | undefined) ?? null,
    socket: (options.socket as ServeInvocation['socket'] | undefined) ?? 'auto',
    gzip: (options.gzip as GzipPolicy | undefined) ?? 'remote',
    verbose: options.verbose === true,
  };
}
