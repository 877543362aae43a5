// Entry point of the `netdiag` command: picks the subcommand, runs it, and turns every
// failure into one line on stderr and an exit code (contract.md): never a stack trace.
import { UsageError } from '../errors.js';
import { describeFailure, printable, printableLine } from './failure-text.js';
import { outputDrained, processOutput, type Output } from './output.js';

export { describeFailure } from './failure-text.js';

export type CommandRunner = (argv: string[], out: Output, signal: AbortSignal) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run: CommandRunner }>;
}

const commands: Record<string, CommandEntry> = {
  ping: { summary: 'ICMP echo to one host or many', load: () => import('./ping/command.js') },
  traceroute: { summary: 'trace the path to a host (ICMP, UDP, TCP)', load: () => import('./traceroute/command.js') },
  sockets: { summary: 'list sockets from /proc, like ss', load: () => import('./sockets/command.js') },
  ipc: { summary: 'talk SOCK_SEQPACKET to a Unix socket', load: () => import('./ipc/command.js') },
  doctor: { summary: 'what this machine allows and how to fix what is missing', load: () => import('./doctor.js') },
  serve: { summary: 'a Prometheus prober: /metrics, blackbox-style /probe', load: () => import('./serve/command.js') },
};
const aliases: Record<string, string> = { trace: 'traceroute', ss: 'sockets' };

export function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`);
  return `usage: netdiag <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nnetdiag <command> --help shows the options of a command.\n`;
}

/** Runs the CLI; resolves to the exit code. */
export async function run(argv: string[], out: Output = processOutput(), signal: AbortSignal = new AbortController().signal): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    (first === undefined ? out.err : out.out)(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    out.out(`netdiag ${await version()}\n`);
    return 0;
  }
  const name = aliases[first] ?? first;
  const entry = commands[name];
  // what users type and files hold reaches stderr in messages: never as control bytes
  const safe: Output = {
    out: (t) => out.out(t), err: (t) => out.err(printable(t)), color: out.color, isTTY: out.isTTY,
    ...(out.outBytes ? { outBytes: (b: Uint8Array) => out.outBytes!(b) } : {}),
    // stdout's flow control passes through (ipc listen, ping and sockets wait on it)
    get backlogged() { return out.backlogged; },
    drained: () => outputDrained(out),
  };
  try {
    if (!entry) throw new UsageError(`unknown command '${first}'`, `commands are: ${Object.keys(commands).join(', ')}`);
    // the kernel switches receive timestamps on through deferred work: ask now, so it runs
    // while the command's code loads (ping and traceroute would otherwise wait for it)
    if (name === 'ping' || name === 'traceroute') (await import('../socket/receive-timestamps.js')).requestReceiveTimestamps();
    const mod = await entry.load();
    return await mod.run(rest, safe, signal);
  } catch (e) {
    out.err(`netdiag: ${printableLine(describeFailure(e, entry ? name : ''))}\n`);
    if (process.env.NETDIAG_DEBUG && e instanceof Error && e.stack) out.err(e.stack + '\n');
    return 2;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Process entry: wires SIGINT to an AbortSignal so commands can print what they have. */
export async function main(): Promise<void> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // a closed stdout (netdiag ... | head) is not an error worth a trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  const code = await run(process.argv.slice(2), processOutput(), ac.signal);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = code;
  // The command is over: once what it wrote has reached the kernel, leave at once rather than
  // let Node tear the environment down handle by handle (~20 ms of every run).
  await Promise.all([written(process.stdout), written(process.stderr)]);
  process.exit(code);
}

/** Resolves when everything written to stream has reached the kernel (or the stream closed or failed). */
async function written(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return;
  await new Promise<void>((resolve) => {
    stream.once('close', resolve).once('error', resolve);
    // writes complete in order: this empty one's callback runs once all before it are out
    stream.write('', () => resolve());
  });
}
