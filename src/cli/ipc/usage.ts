// What `netdiag ipc` says about itself, and the parsing both subcommands start with: their
// flags, --help, and the address they take first.
import { UsageError } from '../../errors.js';
import { formatHelp, parseArgs, type OptionSpec, type Parsed } from '../args.js';
import type { Output } from '../output.js';

export const LISTEN_USAGE = 'netdiag ipc listen <path|@name> [options]';
export const SEND_USAGE = 'netdiag ipc send <path|@name> <message...> [options]';
export const SUMMARY = `Talk SOCK_SEQPACKET to a Unix socket (a path, or @name for the abstract namespace).
listen: accept connections and print each message, its size, its fds and the peer's pid/uid/gid
        until interrupted.
send:   connect, send each <message> argument as one message, optionally wait for a reply.`;

/** The subcommand's flags and address (a UsageError for bad ones); null when --help was printed. */
export function parseSubcommand(argv: string[], sub: 'listen' | 'send', specs: OptionSpec[], out: Output): (Parsed & { address: string }) | null {
  const parsed = parseArgs(argv, specs, `ipc ${sub}`);
  if (parsed.options.help) {
    out.out(formatHelp(sub === 'listen' ? LISTEN_USAGE : SEND_USAGE, SUMMARY, specs));
    return null;
  }
  return { ...parsed, address: addressArg(parsed.positionals, sub) };
}

function addressArg(positionals: string[], sub: 'listen' | 'send'): string {
  const address = positionals[0];
  if (address === undefined || address === '') {
    throw new UsageError(`netdiag ipc ${sub} needs a socket path or @name`, `e.g. netdiag ipc ${sub} /run/app.sock${sub === 'send' ? ' hello' : ''}`);
  }
  return address;
}
