// `netdiag ipc listen`: accept connections and print every message with its size, its fds and
// the sender's credentials until interrupted (--echo sends each one back). The steps: the
// flags become ListenSettings; each server and connection event is logged (ListenLog) and
// printed as it happens, as text lines or as the messages of one netdiag.ipc/1 document
// (nothing is kept but a line per connection); at the end the document's summary is derived
// from the log. Reading goes only as fast as the echoes and stdout go out (flow-control.ts).
import { UsageError } from '../../errors.js';
import { SeqpacketServer, type PeerCredentials, type SeqpacketServerOptions, type SeqpacketSocket } from '../../seqpacket/index.js';
import { commonOptions, parseNumberText, type OptionSpec } from '../args.js';
import type { Output } from '../output.js';
import { listenFailure } from './failure-text.js';
import { ListenFlowControl } from './flow-control.js';
import { SCHEMA, closeQuietly, describeMessage, describePeer, renderMessage, type RenderedMessage } from './message-text.js';
import { parseSubcommand } from './usage.js';

export const listenSpecs: OptionSpec[] = [
  { key: 'echo', names: ['--echo'], kind: 'flag', help: 'send every message back (with its fds)' },
  { key: 'mode', names: ['--mode'], kind: 'string', value: 'OCTAL', example: '--mode 660', help: 'permissions of the socket file (paths only)' },
  { key: 'replaceStale', names: ['--replace-stale'], kind: 'flag', help: 'replace a stale socket file (a live server is never replaced)' },
  { key: 'maxSize', names: ['--max-size'], kind: 'integer', value: 'BYTES', min: 1, max: 256 * 1024 * 1024, example: '--max-size 1048576', help: 'largest message accepted (default 262144)' },
  { key: 'allowUid', names: ['--allow-uid'], kind: 'list', value: 'UID', example: '--allow-uid 1000', help: 'accept only peers with this uid (repeatable)' },
  ...commonOptions,
];

interface ListenSettings {
  address: string;
  json: boolean;
  echo: boolean;
  server: SeqpacketServerOptions;
}

interface Connection {
  id: number;
  peer: PeerCredentials | null;
  messages: number;
}

/** What the listener saw, for the document's summary. */
interface ListenLog {
  connections: Connection[];
  rejected: { pid: number; uid: number; gid: number }[];
}

/** How the events are printed: text lines, or the netdiag.ipc/1 document. */
interface ListenPrinter {
  listening(): void;
  connected(c: Connection): void;
  message(c: Connection, m: RenderedMessage): void;
  ended(c: Connection): void;
  closed(c: Connection): void;
  rejected(peer: PeerCredentials): void;
  finished(log: ListenLog): void;
}

export async function listen(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const settings = listenSettings(argv, out);
  if (settings === null) return 0;
  const flow = new ListenFlowControl(out);
  const say = (text: string): void => {
    out.out(text);
    flow.wrote();
  };
  const printer = settings.json ? jsonPrinter(out, say, settings.address) : textPrinter(out, say, settings.address);
  const log: ListenLog = { connections: [], rejected: [] };
  const server = new SeqpacketServer(settings.server);
  server.on('connection', (socket) => serve(socket, settings.echo, log, printer, flow, out));
  server.on('rejected', (peer) => {
    log.rejected.push({ pid: peer.pid, uid: peer.uid, gid: peer.gid });
    printer.rejected(peer);
  });
  try {
    await listening(server, settings.address);
  } catch (e) {
    out.err(`netdiag: ${listenFailure(e, settings.address)}\n`);
    return 2;
  }
  printer.listening();
  server.on('error', (e) => {
    out.err(`netdiag: ${e.message}\n`);
  });
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  server.close();
  server.closeConnections();
  printer.finished(log);
  return 0;
}

/** The flags as settings (a UsageError for bad ones); null when --help was printed. */
function listenSettings(argv: string[], out: Output): ListenSettings | null {
  const parsed = parseSubcommand(argv, 'listen', listenSpecs, out);
  if (parsed === null) return null;
  const { options, positionals, address } = parsed;
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'netdiag ipc listen takes one socket path or @name');
  let mode: number | undefined;
  if (typeof options.mode === 'string') {
    if (!/^[0-7]{1,4}$/.test(options.mode)) throw new UsageError(`option --mode needs octal permissions, got '${options.mode}'`, 'e.g. netdiag ipc listen /run/app.sock --mode 660');
    if (address.startsWith('@')) throw new UsageError('option --mode applies to socket files, not abstract @names', 'drop --mode or listen on a path');
    mode = parseInt(options.mode, 8);
  }
  // (uid_t)-1 means "no change" to the kernel: never a peer's uid
  const allowUids = ((options.allowUid as string[] | undefined) ?? []).map((u) =>
    parseNumberText('--allow-uid', u, { kind: 'integer', min: 0, max: 4294967294 }, 'e.g. netdiag ipc listen @app --allow-uid 1000'),
  );
  return {
    address,
    json: options.json === true,
    echo: options.echo === true,
    server: {
      maxMessageSize: options.maxSize as number | undefined,
      mode,
      replaceStale: options.replaceStale === true,
      allowUids: allowUids.length > 0 ? allowUids : undefined,
    },
  };
}

/** Starts listening; rejects with the reason it cannot. */
function listening(server: SeqpacketServer, address: string): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.listen(address);
  return ready;
}

/** One connection: log and print what it sends, echo it if asked, close the fds it passed. */
function serve(socket: SeqpacketSocket, echo: boolean, log: ListenLog, printer: ListenPrinter, flow: ListenFlowControl, out: Output): void {
  const conn: Connection = { id: log.connections.length + 1, peer: socket.peerCredentials, messages: 0 };
  log.connections.push(conn);
  flow.add(socket);
  printer.connected(conn);
  socket.on('message', (data, info) => {
    conn.messages++;
    printer.message(conn, renderMessage(conn.id, conn.peer, data, info.fds));
    if (echo && !socket.destroyed) {
      try {
        // a peer that does not read its echoes: stop reading it until they go out
        if (!socket.send(data, { fds: info.fds })) flow.echoBacklogged(socket);
      } catch (e) {
        out.err(`netdiag: [${conn.id}] cannot echo: ${(e as Error).message}\n`);
      }
    }
    closeQuietly(info.fds);
  });
  socket.on('end', () => printer.ended(conn));
  socket.on('error', (e) => {
    out.err(`netdiag: [${conn.id}] ${e.message}\n`);
  });
  socket.on('close', () => printer.closed(conn));
}

function textPrinter(out: Output, say: (text: string) => void, address: string): ListenPrinter {
  return {
    listening: () => out.out(`listening on ${address} (SOCK_SEQPACKET); interrupt to stop\n`),
    connected: (c) => say(`[${c.id}] connected: ${describePeer(c.peer)}\n`),
    message: (c, m) => say(`[${c.id}] ${describePeer(c.peer)}: ${describeMessage(m)}\n`),
    ended: (c) => say(`[${c.id}] end of stream\n`),
    closed: (c) => say(`[${c.id}] closed after ${c.messages} message${c.messages === 1 ? '' : 's'}\n`),
    rejected: (peer) => say(`rejected: ${describePeer(peer)} (not in --allow-uid)\n`),
    finished: () => {},
  };
}

/** The document streams: its head once listening, each message as it comes, the summary at the end. */
function jsonPrinter(out: Output, say: (text: string) => void, address: string): ListenPrinter {
  let messages = 0;
  const nested = (v: unknown): string => JSON.stringify(v, null, 2).replace(/\n/g, '\n  ');
  return {
    listening: () => out.out(`{\n  "schema": ${JSON.stringify(SCHEMA)},\n  "command": "listen",\n  "address": ${JSON.stringify(address)},\n  "messages": [`),
    connected: () => {},
    message: (_c, m) => say(`${messages++ === 0 ? '' : ','}\n    ${JSON.stringify(m)}`),
    ended: () => {},
    closed: () => {},
    rejected: () => {},
    finished: (log) => {
      const summary = log.connections.map((c) => ({ id: c.id, peer: c.peer, messages: c.messages }));
      out.out(`${messages === 0 ? '' : '\n  '}],\n  "connections": ${nested(summary)},\n  "rejected": ${nested(log.rejected)}\n}\n`);
    },
  };
}
