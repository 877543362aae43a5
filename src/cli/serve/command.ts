// `netdiag serve` (its flags: args.ts): a thin wrapper around createProber and the HTTP server.
// Order of work as in ping: read the config, open the sockets (prober.open), drop every
// capability, then look names up, probe and listen.
// SIGHUP and POST /-/reload re-read the config file (a bad one is refused with the reason and
// the running one kept); SIGTERM/SIGINT (the signal main.ts gives) end the probes, close the
// listener and exit 0.

import { once } from 'node:events';
import { dropAllCapabilities } from '../../capabilities.js';
import { UsageError } from '../../errors.js';
import { ConfigError } from '../../serve/config-error.js';
import { configOfHosts, loadConfigFile, withGroups, type ServeConfig } from '../../serve/config.js';
import { createProberServer } from '../../serve/http-server.js';
import { createProber } from '../../serve/prober.js';
import { capabilityDropLine } from '../capability-line.js';
import type { Output } from '../output.js';
import { parseServeInvocation } from './args.js';

function readConfig(file: string | null, targets: string[]): ServeConfig {
  if (file === null) return configOfHosts(targets);
  const fromFile = loadConfigFile(file);
  // --target adds a group to the file's
  return targets.length === 0 ? fromFile : withGroups(fromFile, configOfHosts(targets).targets);
}

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const invocation = parseServeInvocation(argv);
  if ('help' in invocation) {
    out.out(invocation.help);
    return 0;
  }
  const { listen, file, targets, verbose } = invocation;

  let config: ServeConfig;
  try {
    config = readConfig(file, targets);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message, file ? 'fix the config file' : 'give --target a host name, address or CIDR');
    throw e;
  }
  const prober = createProber(config, { compat: invocation.compat, socket: invocation.socket });
  prober.on('warning', (message: string) => out.err(`netdiag serve: ${message}\n`));
  prober.open();
  // from here on no thread holds a privilege: names, replies and HTTP requests come from the network
  const dropped = dropAllCapabilities();
  if (verbose) out.err(capabilityDropLine(dropped));

  const reload = async (): Promise<void> => {
    if (file === null) throw new Error('there is no config file to reload');
    await prober.reload(() => readConfig(file, targets));
    if (verbose) out.err(`netdiag serve: reloaded ${file}\n`);
  };
  const onHup = (): void => {
    reload().catch((e: unknown) => out.err(`netdiag serve: reload refused, the running config is kept: ${(e as Error).message}\n`));
  };
  const server = createProberServer(prober, { gzip: invocation.gzip, ...(file !== null ? { reload } : {}) });
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
