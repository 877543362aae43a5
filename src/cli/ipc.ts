// `netdiag ipc listen|send`: talk SOCK_SEQPACKET to a Unix socket, for debugging IPC.
// listen prints every message with its size, its fds and the sender's credentials until
// interrupted (--echo sends each one back); send sends each argument as one message and can
// wait for a reply. --json prints one netdiag.ipc/1 document: listen streams its messages as
// they come (nothing is kept but a line per connection) and closes the document at the end.
// listen reads only as fast as its echoes and stdout go out (ipc-flow-control.ts).
import { openSync, closeSync, readlinkSync } from 'node:fs';
import { UsageError } from '../errors.js';
import {
  SeqpacketServer,
  connectSeqpacket,
  type PeerCredentials,
  type SeqpacketSocket,
} from '../seqpacket/index.js';
import { commonOptions, formatHelp, parseArgs, parseNumberText, type OptionSpec } from './args.js';
import { ListenFlowControl } from './ipc-flow-control.js';
import { printJson, type Output } from './output.js';

const SCHEMA = 'netdiag.ipc/1';
const USAGE = 'netdiag ipc listen <path|@name> [options]\n       netdiag ipc send <path|@name> <message...> [options]';
const SUMMARY = `Talk SOCK_SEQPACKET to a Unix socket (a path, or @name for the abstract namespace).
listen: accept connections and print each message, its size, its fds and the peer's pid/uid/gid
        until interrupted.
send:   connect, send each <message> argument as one message, optionally wait for a reply.`;

const listenSpecs: OptionSpec[] = [
  { key: 'echo', names: ['--echo'], kind: 'flag', help: 'send every message back (with its fds)' },
  { key: 'mode', names: ['--mode'], kind: 'string', value: 'OCTAL', example: '--mode 660', help: 'permissions of the socket file (paths only)' },
  { key: 'replaceStale', names: ['--replace-stale'], kind: 'flag', help: 'replace a stale socket file (a live server is never replaced)' },
  { key: 'maxSize', names: ['--max-size'], kind: 'integer', value: 'BYTES', min: 1, max: 256 * 1024 * 1024, example: '--max-size 1048576', help: 'largest message accepted (default 262144)' },
  { key: 'allowUid', names: ['--allow-uid'], kind: 'list', value: 'UID', example: '--allow-uid 1000', help: 'accept only peers with this uid (repeatable)' },
  ...commonOptions,
];

const sendSpecs: OptionSpec[] = [
  { key: 'fd', names: ['--fd'], kind: 'list', value: 'FILE', example: '--fd /etc/hostname', help: 'open FILE and pass its fd with the first message (repeatable)' },
  { key: 'waitReply', names: ['--wait-reply'], kind: 'flag', help: 'wait for one message back and print it' },
  { key: 'timeout', names: ['--timeout'], kind: 'number', value: 'SECONDS', min: 0.001, max: 86400, example: '--timeout 2', help: 'how long --wait-reply waits (default 5)' },
  ...commonOptions,
];

interface RenderedFd {
  fd: number;
  target: string | null;
}

interface RenderedMessage {
  connection: number;
  peer: PeerCredentials | null;
  size: number;
  encoding: 'utf8' | 'base64';
  data: string;
  fds: RenderedFd[];
}

export async function run(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    const only = (specs: OptionSpec[], sub: string): OptionSpec[] =>
      specs.filter((s) => !commonOptions.includes(s)).map((s) => ({ ...s, help: `${sub}: ${s.help}` }));
    const text = formatHelp(USAGE, SUMMARY, [...only(listenSpecs, 'listen'), ...only(sendSpecs, 'send'), ...commonOptions]);
    (sub === undefined ? out.err : out.out)(text);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'listen') return listen(rest, out, signal);
  if (sub === 'send') return send(rest, out, signal);
  throw new UsageError(`unknown ipc subcommand '${sub}'`, 'use netdiag ipc listen <path|@name> or netdiag ipc send <path|@name> <message...>');
}

function addressArg(positionals: string[], sub: string): string {
  const address = positionals[0];
  if (address === undefined || address === '') {
    throw new UsageError(`netdiag ipc ${sub} needs a socket path or @name`, `e.g. netdiag ipc ${sub} /run/app.sock${sub === 'send' ? ' hello' : ''}`);
  }
  return address;
}

async function listen(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const { options, positionals } = parseArgs(argv, listenSpecs, 'ipc listen');
  if (options.help) {
    out.out(formatHelp('netdiag ipc listen <path|@name> [options]', SUMMARY, listenSpecs));
    return 0;
  }
  const address = addressArg(positionals, 'listen');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'netdiag ipc listen takes one socket path or @name');
  const json = options.json === true;
  const echo = options.echo === true;
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

  const flow = new ListenFlowControl(out);
  const say = (text: string): void => {
    out.out(text);
    flow.wrote();
  };
  let jsonMessages = 0;
  const connections: { id: number; peer: PeerCredentials | null; messages: number; closed: boolean }[] = [];
  const rejected: { pid: number; uid: number; gid: number }[] = [];
  const server = new SeqpacketServer({
    maxMessageSize: options.maxSize as number | undefined,
    mode,
    replaceStale: options.replaceStale === true,
    allowUids: allowUids.length > 0 ? allowUids : undefined,
  });

  server.on('connection', (socket) => {
    const conn = { id: connections.length + 1, peer: socket.peerCredentials, messages: 0, closed: false };
    connections.push(conn);
    flow.add(socket);
    if (!json) say(`[${conn.id}] connected: ${describePeer(conn.peer)}\n`);
    socket.on('message', (data, info) => {
      conn.messages++;
      const m = renderMessage(conn.id, conn.peer, data, info.fds);
      if (json) say(`${jsonMessages++ === 0 ? '' : ','}\n    ${JSON.stringify(m)}`);
      else say(`[${conn.id}] ${describePeer(conn.peer)}: ${describeMessage(m)}\n`);
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
    socket.on('end', () => {
      if (!json) say(`[${conn.id}] end of stream\n`);
    });
    socket.on('error', (e) => {
      out.err(`netdiag: [${conn.id}] ${e.message}\n`);
    });
    socket.on('close', () => {
      conn.closed = true;
      if (!json) say(`[${conn.id}] closed after ${conn.messages} message${conn.messages === 1 ? '' : 's'}\n`);
    });
  });
  server.on('rejected', (peer) => {
    rejected.push({ pid: peer.pid, uid: peer.uid, gid: peer.gid });
    if (!json) say(`rejected: ${describePeer(peer)} (not in --allow-uid)\n`);
  });

  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.listen(address);
  try {
    await listening;
  } catch (e) {
    out.err(`netdiag: ${listenFailure(e, address)}\n`);
    return 2;
  }
  if (!json) out.out(`listening on ${address} (SOCK_SEQPACKET); interrupt to stop\n`);
  else out.out(`{\n  "schema": ${JSON.stringify(SCHEMA)},\n  "command": "listen",\n  "address": ${JSON.stringify(address)},\n  "messages": [`);
  server.on('error', (e) => {
    out.err(`netdiag: ${e.message}\n`);
  });

  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  server.close();
  server.closeConnections();
  if (json) {
    const nested = (v: unknown): string => JSON.stringify(v, null, 2).replace(/\n/g, '\n  ');
    const summary = connections.map((c) => ({ id: c.id, peer: c.peer, messages: c.messages }));
    out.out(`${jsonMessages === 0 ? '' : '\n  '}],\n  "connections": ${nested(summary)},\n  "rejected": ${nested(rejected)}\n}\n`);
  }
  return 0;
}

async function send(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const { options, positionals } = parseArgs(argv, sendSpecs, 'ipc send');
  if (options.help) {
    out.out(formatHelp('netdiag ipc send <path|@name> <message...> [options]', SUMMARY, sendSpecs));
    return 0;
  }
  const address = addressArg(positionals, 'send');
  const texts = positionals.slice(1);
  if (texts.length === 0) throw new UsageError('netdiag ipc send needs at least one message', `e.g. netdiag ipc send ${address} hello`);
  const json = options.json === true;
  const waitReply = options.waitReply === true;
  const timeoutMs = ((options.timeout as number | undefined) ?? 5) * 1000;

  const fds: number[] = [];
  try {
    for (const file of (options.fd as string[] | undefined) ?? []) {
      try {
        fds.push(openSync(file, 'r'));
      } catch (e) {
        throw new UsageError(`cannot open ${file} for --fd: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give a readable file');
      }
    }
    const socket = connectSeqpacket(address, { signal });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    } catch (e) {
      out.err(`netdiag: ${connectFailure(e, address)}\n`);
      return 2;
    }
    // a send that fails later (EPIPE, EMSGSIZE, ...) must not be reported as sent
    let failure: Error | null = null;
    socket.on('error', (e: Error) => void (failure ??= e));
    let reply: RenderedMessage | null = null;
    const replied = waitReply ? waitForReply(socket, timeoutMs) : null;
    const sizes: number[] = [];
    for (const [i, text] of texts.entries()) {
      socket.send(text, i === 0 && fds.length > 0 ? { fds } : undefined);
      sizes.push(Buffer.byteLength(text));
    }
    closeQuietly(fds.splice(0)); // the socket holds duplicates
    const peer = socket.peerCredentials;
    if (replied !== null) {
      const r = await replied;
      if (r instanceof Error) failure ??= r;
      else if (r !== null) {
        reply = renderMessage(1, peer, r.data, r.fds);
        closeQuietly(r.fds);
      }
    }
    await closed(socket);
    if (failure !== null) {
      out.err(`netdiag: ${(failure as Error).message}\n`);
      return 2;
    }
    if (json) {
      const replyDoc = reply === null ? null : { size: reply.size, encoding: reply.encoding, data: reply.data, fds: reply.fds };
      printJson(out, { schema: SCHEMA, command: 'send', address, peer, sent: sizes.map((size) => ({ size })), reply: replyDoc });
    } else {
      out.out(`sent ${sizes.length} message${sizes.length === 1 ? '' : 's'} (${sizes.join(' + ')} bytes) to ${address}; peer ${describePeer(peer)}\n`);
      if (waitReply) out.out(reply !== null ? `reply: ${describeMessage(reply)}\n` : 'no reply\n');
    }
    return waitReply && reply === null ? 1 : 0;
  } finally {
    closeQuietly(fds);
  }
}

/** The first message back, null (the peer ended, the time ran out, aborted) or an error. */
function waitForReply(socket: SeqpacketSocket, timeoutMs: number): Promise<{ data: Buffer; fds: number[] } | null | Error> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), timeoutMs);
    const onMessage = (data: Buffer, info: { fds: number[] }): void => done({ data, fds: info.fds });
    const onEnd = (): void => done(null);
    const onError = (e: Error): void => done(e);
    function done(r: { data: Buffer; fds: number[] } | null | Error): void {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      resolve(r);
    }
    socket.once('message', onMessage);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}

/** Sends what is queued, closes, and waits for 'close' (errors were reported already). */
function closed(socket: SeqpacketSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.on('error', () => {});
    socket.once('close', () => resolve());
    socket.close();
  });
}

function closeQuietly(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

function describePeer(p: PeerCredentials | null): string {
  return p === null ? 'peer unknown' : `pid ${p.pid} uid ${p.uid} gid ${p.gid}`;
}

function renderMessage(connection: number, peer: PeerCredentials | null, data: Buffer, fds: readonly number[]): RenderedMessage {
  const text = data.toString('utf8');
  const printable = Buffer.from(text, 'utf8').equals(data) && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text);
  return {
    connection,
    peer,
    size: data.length,
    encoding: printable ? 'utf8' : 'base64',
    data: printable ? text : data.toString('base64'),
    fds: fds.map((fd) => ({ fd, target: fdTarget(fd) })),
  };
}

function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

function describeMessage(m: RenderedMessage): string {
  const preview =
    m.encoding === 'utf8'
      ? JSON.stringify(m.data.length > 200 ? m.data.slice(0, 200) + '…' : m.data)
      : `<binary ${Buffer.from(m.data, 'base64').subarray(0, 32).toString('hex')}${m.size > 32 ? '…' : ''}>`;
  const fds = m.fds.length === 0 ? '' : `, ${m.fds.length} fd${m.fds.length === 1 ? '' : 's'} (${m.fds.map((f) => f.target ?? '?').join(', ')})`;
  return `${m.size} byte${m.size === 1 ? '' : 's'}${fds}: ${preview}`;
}

function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function connectFailure(e: unknown, address: string): string {
  const code = errorCode(e);
  const hints: Record<string, string> = {
    ENOENT: 'no socket at that path; check the path or start the server',
    ECONNREFUSED: address.startsWith('@') ? 'nothing listens on that name; start the server' : 'nothing listens there, the file is stale; start the server',
    EACCES: "no permission to connect; check the socket file's mode and owner",
    EPERM: "no permission to connect; check the socket file's mode and owner",
    EPROTOTYPE: 'the socket there is not SOCK_SEQPACKET (a stream or datagram socket?)',
    EAGAIN: "the server's listen backlog is full; try again",
    ABORT_ERR: 'interrupted',
  };
  return `cannot connect to ${address}: ${code ?? (e as Error).message} (${(code && hints[code]) ?? (e as Error).message})`;
}

function listenFailure(e: unknown, address: string): string {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message.replace(/^EADDRINUSE: /, '') : String(e);
  if (code === 'EADDRINUSE') {
    const stale = (e as { stale?: boolean }).stale === true;
    return `cannot listen on ${address}: ${message.replace(/ \([^)]*\)$/, '')} (${stale ? 'remove the file or pass --replace-stale' : 'stop the other server or choose another path'})`;
  }
  if (code === 'EACCES' || code === 'EPERM') return `cannot listen on ${address}: ${code} (no permission to create the socket file there; choose a writable directory)`;
  if (code === 'ENOENT') return `cannot listen on ${address}: ENOENT (the directory does not exist; create it first)`;
  return `cannot listen on ${address}: ${message} (check the path)`;
}
