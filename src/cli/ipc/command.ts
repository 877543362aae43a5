// `netdiag ipc listen|send`: talk SOCK_SEQPACKET to a Unix socket, for debugging IPC.
// listen prints every message with its size, its fds and the sender's credentials until
// interrupted (listen.ts); send sends each argument as one message and can wait for a reply
// (send.ts). --json prints one netdiag.ipc/1 document.
import { UsageError } from '../../errors.js';
import { commonOptions, formatHelp, type OptionSpec } from '../args.js';
import type { Output } from '../output.js';
import { listen, listenSpecs } from './listen.js';
import { send, sendSpecs } from './send.js';
import { LISTEN_USAGE, SEND_USAGE, SUMMARY } from './usage.js';

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    const only = (specs: OptionSpec[], sub: string): OptionSpec[] =>
      specs.filter((s) => !commonOptions.includes(s)).map((s) => ({ ...s, help: `${sub}: ${s.help}` }));
    const text = formatHelp(`${LISTEN_USAGE}\n       ${SEND_USAGE}`, SUMMARY, [...only(listenSpecs, 'listen'), ...only(sendSpecs, 'send'), ...commonOptions]);
    (sub === undefined ? out.err : out.out)(text);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'listen') return listen(rest, out, signal);
  if (sub === 'send') return send(rest, out, signal);
  throw new UsageError(`unknown ipc subcommand '${sub}'`, 'use netdiag ipc listen <path|@name> or netdiag ipc send <path|@name> <message...>');
}
