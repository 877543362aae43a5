// The errors the seqpacket layer raises itself. Each has a `code` and a message that says
// what happened and what to change.
import { systemError as errnoError, type SystemError } from '../runtime/system-error.js';

export interface SeqpacketError extends Error {
  code: string;
}

function withCode<E extends Error>(e: E, code: string, extra: Record<string, unknown> = {}): E & SeqpacketError {
  return Object.assign(e, { code }, extra);
}

/** A received message was longer than maxMessageSize (MSG_TRUNC): the rest is lost. */
export function messageTooLargeError(length: number, maxMessageSize: number): SeqpacketError & { length: number; maxMessageSize: number } {
  return withCode(
    new Error(`received a message of ${length} bytes, larger than maxMessageSize ${maxMessageSize} (the kernel cut it; raise maxMessageSize)`),
    'ERR_SEQPACKET_MESSAGE_TRUNCATED',
    { length, maxMessageSize },
  ) as SeqpacketError & { length: number; maxMessageSize: number };
}

/** Some file descriptors of a received message were lost (MSG_CTRUNC). */
export function fdsTruncatedError(received: number): SeqpacketError {
  return withCode(
    new Error(`a received message lost file descriptors (MSG_CTRUNC, ${received} arrived): the process is at its RLIMIT_NOFILE or the sender sent more than 253`),
    'ERR_SEQPACKET_FDS_TRUNCATED',
  );
}

/** A message larger than the socket's send buffer can ever take (EMSGSIZE). */
export function messageSizeError(length: number | null, sndbuf: number, overhead: number): RangeError & SeqpacketError {
  const what = length === null ? 'a queued message is' : `message of ${length} bytes is`;
  return withCode(
    new RangeError(
      `${what} too large for this socket: SO_SNDBUF is ${sndbuf} bytes, so at most ${sndbuf - overhead} bytes fit in one message (EMSGSIZE; raise the sendBufferSize option or send smaller messages)`,
    ),
    'EMSGSIZE',
    { errno: 90, syscall: 'sendmsg', length, limit: sndbuf - overhead },
  );
}

export function writeAfterEndError(): SeqpacketError {
  return withCode(new Error('send() after end(): the socket no longer sends'), 'ERR_STREAM_WRITE_AFTER_END');
}

/** The library-wide AbortError (src/abort.ts): every call fails the same way on abort. */
export { abortError } from '../abort.js';

/** Adds what the failing operation was about to a native errno error. */
export function withContext(e: unknown, what: string): Error {
  if (!(e instanceof Error)) return new Error(`${what}: ${String(e)}`);
  if (typeof (e as { code?: unknown }).code === 'string' && !e.message.startsWith(what)) e.message = `${what}: ${e.message}`;
  return e;
}

/** The poller reported a failure (a negative libuv status). */
export function pollError(status: number): SystemError {
  return errnoError(status, 'uv_poll', 'polling the socket failed');
}

/** recvmsg failed with errno (positive), as the receive batch reports it. */
export function recvError(errno: number): SystemError {
  const error = errnoError(errno, 'recvmsg', 'recvmsg failed');
  if (error.code === 'ECONNRESET') error.message = 'ECONNRESET: the peer closed with messages it had not read';
  return error;
}
