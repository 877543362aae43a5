// `netdiag serve [--listen ADDR:PORT] [--config FILE] [--target HOST]... [--compat smokeping]`:
// a thin wrapper around createProber. Order of work as in ping: read the config, open the
// sockets (prober.open), drop every capability, then look names up, probe and listen.
// SIGHUP and POST /-/reload re-read the config file (a bad one is refused with the reason and
// the running one kept); SIGTERM/SIGINT (the signal main.ts gives) end the probes, close the
// listener and exit 0.

import { isIP } from 'node:net';
import { once } from 'node:events';
import { dropAllCapabilities } from '../../capabilities.js';
import { UsageError } from '../../errors.js';
import { ConfigError } from '../../serve/config-error.js';
import { configOfHosts, loadConfigFile, withGroups, type ServeConfig } from '../../serve/config.js';
import { hostEntries } from '../../serve/host-list.js';
import { createProberServer } from '../../serve/http-server.js';
import { createProber } from '../../serve/prober.js';
import { commonOptions, formatHelp, parseArgs, type OptionSpec } from '../args.js';
import { capabilityDropLine } from '../capability-line.js';
import type { Output } from '../output.js';

const USAGE = 'netdiag serve [--listen ADDR:PORT] [--config FILE] [--target HOST]... [--compat smokeping]';
const SUMMARY =
  'Probes targets continuously and serves Prometheus metrics on /metrics (text 0.0.4, or OpenMetrics\n' +
  'when asked), blackbox-style /probe?target=&module=[&count=] for targets in probe.allow, /-/healthy,\n' +
  '/-/ready and POST /-/reload. SIGHUP reloads the config; SIGTERM or Ctrl-C stops (exit 0).';

const specs: OptionSpec[] = [
  { key: 'listen', names: ['--listen'], kind: 'string', value: 'addr:port', example: '--listen 127.0.0.1:9374', help: 'address and port to serve on (default 127.0.0.1:9374; [::1]:9374 for IPv6)' },
  { key: 'config', names: ['--config'], kind: 'string', value: 'file', example: '--config serve.yml', help: 'YAML or JSON config (smokeping_prober\'s file loads unchanged)' },
  { key: 'target', names: ['--target'], kind: 'list', value: 'host', example: '--target 127.0.0.1', help: 'probe this host too (repeatable; a name, an address or a CIDR)' },
  { key: 'compat', names: ['--compat'], kind: 'string', value: 'smokeping', choices: ['smokeping'], example: '--compat smokeping', help: 'also export smokeping_prober\'s metric names and labels' },
  { key: 'socket', names: ['--socket'], kind: 'string', value: 'raw|dgram|auto', choices: ['raw', 'dgram', 'auto'], example: '--socket dgram', help: 'raw sockets (CAP_NET_RAW) or ping sockets (ping_group_range); default auto' },
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

function readConfig(file: string | undefined, targets: string[]): ServeConfig {
  if (file === undefined) return configOfHosts(targets);
  const fromFile = loadConfigFile(file);
  // --target adds a group to the file's
  return targets.length === 0 ? fromFile : withGroups(fromFile, configOfHosts(targets).targets);
}

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const { options, positionals } = parseArgs(argv, specs, 'serve');
  if (options.help) {
    out.out(formatHelp(USAGE, SUMMARY, specs));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, 'give hosts with --target HOST or in --config FILE');
  const listen = parseListen((options.listen as string | undefined) ?? DEFAULT_LISTEN);
  const file = options.config as string | undefined;
  const targets = (options.target as string[] | undefined) ?? [];
  if (file === undefined && targets.length === 0) throw new UsageError('nothing to probe', 'give --config FILE or --target HOST');
  const verbose = options.verbose === true;
  checkTargets(targets);

  let config: ServeConfig;
  try {
    config = readConfig(file, targets);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message, file ? 'fix the config file' : 'give --target a host name, address or CIDR');
    throw e;
  }
  const prober = createProber(config, { compat: (options.compat as 'smokeping' | undefined) ?? null, socket: (options.socket as 'raw' | 'dgram' | 'auto' | undefined) ?? 'auto' });
  prober.on('warning', (message: string) => out.err(`netdiag serve: ${message}\n`));
  prober.open();
  // from here on no thread holds a privilege: names, replies and HTTP requests come from the network
  const dropped = dropAllCapabilities();
  if (verbose) out.err(capabilityDropLine(dropped));

  const reload = async (): Promise<void> => {
    if (file === undefined) throw new Error('there is no config file to reload');
    await prober.reload(() => readConfig(file, targets));
    if (verbose) out.err(`netdiag serve: reloaded ${file}\n`);
  };
  const onHup = (): void => {
    reload().catch((e: unknown) => out.err(`netdiag serve: reload refused, the running config is kept: ${(e as Error).message}\n`));
  };
  const server = createProberServer(prober, file !== undefined ? { reload } : {});
  try {
    await prober.start();
    server.listen(listen.port, listen.host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  } catch (e) {
    await prober.stop();
    server.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new UsageError(`${listen.host}:${listen.port} is in use`, 'give another --listen ADDR:PORT');
    if (err.code === 'EADDRNOTAVAIL') throw new UsageError(`${listen.host} is not an address of this host`, 'give --listen an address that ip addr lists');
    throw e;
  }
  const where = server.address();
  const shown = typeof where === 'object' && where ? `${where.family === 'IPv6' ? `[${where.address}]` : where.address}:${where.port}` : String(where);
  const count = prober.config.targets.reduce((n, g) => n + g.hosts.length, 0);
  out.err(`netdiag serve: listening on http://${shown}/metrics (${count} target${count === 1 ? '' : 's'}, ${prober.socketMode} sockets)\n`);
  process.on('SIGHUP', onHup);
  try {
    if (!signal.aborted) await once(signal, 'abort');
  } finally {
    process.off('SIGHUP', onHup);
  }
  // graceful stop: no new connections, probes end, idle keep-alive connections close
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await prober.stop();
  const forced = setTimeout(() => server.closeAllConnections(), 5000);
  await closed;
  clearTimeout(forced);
  return 0;
}
