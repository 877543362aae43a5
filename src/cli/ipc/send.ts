// `netdiag ipc send`: connect, send each argument as one message (the --fd files' fds with the
// first), optionally wait for one reply, close. The steps: the flags become SendSettings;
// the exchange collects what happened (sizes sent, the peer, the reply, a late error); the
// report (text or one netdiag.ipc/1 document) and the exit code are derived from that.
import { openSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { connectSeqpacket, type PeerCredentials, type SeqpacketSocket } from '../../seqpacket/index.js';
import { commonOptions, type OptionSpec } from '../args.js';
import { printJson, type Output } from '../output.js';
import { connectFailure } from './failure-text.js';
import { SCHEMA, closeQuietly, describeMessage, describePeer, renderMessage, type RenderedMessage } from './message-text.js';
import { parseSubcommand } from './usage.js';

export const sendSpecs: OptionSpec[] = [
  { key: 'fd', names: ['--fd'], kind: 'list', value: 'FILE', example: '--fd /etc/hostname', help: 'open FILE and pass its fd with the first message (repeatable)' },
  { key: 'waitReply', names: ['--wait-reply'], kind: 'flag', help: 'wait for one message back and print it' },
  { key: 'timeout', names: ['--timeout'], kind: 'number', value: 'SECONDS', min: 0.001, max: 86400, example: '--timeout 2', help: 'how long --wait-reply waits (default 5)' },
  ...commonOptions,
];

interface SendSettings {
  address: string;
  texts: string[];
  json: boolean;
  waitReply: boolean;
  timeoutMs: number;
  fdFiles: string[];
}

/** What the exchange produced. */
interface SendOutcome {
  peer: PeerCredentials | null;
  sizes: number[];
  reply: RenderedMessage | null;
  /** a send that failed after send() returned (EPIPE, EMSGSIZE, ...), or the reply wait's error */
  failure: Error | null;
}

export async function send(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  const settings = sendSettings(argv, out);
  if (settings === null) return 0;
  const fds: number[] = [];
  try {
    openFdFiles(settings.fdFiles, fds);
    const socket = connectSeqpacket(settings.address, { signal });
    try {
      await connected(socket);
    } catch (e) {
      out.err(`netdiag: ${connectFailure(e, settings.address)}\n`);
      return 2;
    }
    const outcome = await exchange(socket, settings, fds);
    if (outcome.failure !== null) {
      out.err(`netdiag: ${outcome.failure.message}\n`);
      return 2;
    }
    report(out, settings, outcome);
    return settings.waitReply && outcome.reply === null ? 1 : 0;
  } finally {
    closeQuietly(fds);
  }
}

/** The flags as settings (a UsageError for bad ones); null when --help was printed. */
function sendSettings(argv: string[], out: Output): SendSettings | null {
  const parsed = parseSubcommand(argv, 'send', sendSpecs, out);
  if (parsed === null) return null;
  const { options, positionals, address } = parsed;
  const texts = positionals.slice(1);
  if (texts.length === 0) throw new UsageError('netdiag ipc send needs at least one message', `e.g. netdiag ipc send ${address} hello`);
  return {
    address,
    texts,
    json: options.json === true,
    waitReply: options.waitReply === true,
    timeoutMs: ((options.timeout as number | undefined) ?? 5) * 1000,
    fdFiles: (options.fd as string[] | undefined) ?? [],
  };
}

/** Opens each --fd file into fds (the caller closes them, also when one fails to open). */
function openFdFiles(files: readonly string[], fds: number[]): void {
  for (const file of files) {
    try {
      fds.push(openSync(file, 'r'));
    } catch (e) {
      throw new UsageError(`cannot open ${file} for --fd: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give a readable file');
    }
  }
}

function connected(socket: SeqpacketSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
}

/** Sends the messages, waits for the reply if asked, closes; fds are closed once queued. */
async function exchange(socket: SeqpacketSocket, settings: SendSettings, fds: number[]): Promise<SendOutcome> {
  // a send that fails later (EPIPE, EMSGSIZE, ...) must not be reported as sent
  let failure: Error | null = null;
  socket.on('error', (e: Error) => void (failure ??= e));
  let reply: RenderedMessage | null = null;
  const replied = settings.waitReply ? waitForReply(socket, settings.timeoutMs) : null;
  const sizes: number[] = [];
  for (const [i, text] of settings.texts.entries()) {
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
  return { peer, sizes, reply, failure };
}

function report(out: Output, settings: SendSettings, { peer, sizes, reply }: SendOutcome): void {
  if (settings.json) {
    const replyDoc = reply === null ? null : { size: reply.size, encoding: reply.encoding, data: reply.data, fds: reply.fds };
    printJson(out, { schema: SCHEMA, command: 'send', address: settings.address, peer, sent: sizes.map((size) => ({ size })), reply: replyDoc });
  } else {
    out.out(`sent ${sizes.length} message${sizes.length === 1 ? '' : 's'} (${sizes.join(' + ')} bytes) to ${settings.address}; peer ${describePeer(peer)}\n`);
    if (settings.waitReply) out.out(reply !== null ? `reply: ${describeMessage(reply)}\n` : 'no reply\n');
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
