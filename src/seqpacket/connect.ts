// connectSeqpacket(): a SeqpacketSocket that connects on the next tick; send() queues until
// then. A full listen backlog (EAGAIN, which AF_UNIX reports instead of waiting) is retried
// with a short backoff for up to CONNECT_RETRY_MS.
import { parseUnixAddress } from './address.js';
import { AF_UNIX, SOCK_SEQPACKET, systemBackend, type SeqpacketBackend } from './backend.js';
import { withContext } from './errors.js';
import { resolveSocketOptions, type SeqpacketSocketOptions } from './options.js';
import { SeqpacketSocket, kOpen } from './socket.js';

const CONNECT_RETRY_MS = 2000;
const MAX_RETRY_DELAY_MS = 64;

export type ConnectOptions = SeqpacketSocketOptions;

/**
 * Connects to a SOCK_SEQPACKET server at a path or '@abstract-name'. Errors (ENOENT,
 * ECONNREFUSED, EACCES, ...) arrive as 'error' then 'close'; 'connect' once connected.
 */
export function connectSeqpacket(path: string, options?: ConnectOptions, connectListener?: () => void): SeqpacketSocket {
  return connectWith(systemBackend(), path, options, connectListener);
}

/** connectSeqpacket() over a given backend (tests pass a fake). */
export function connectWith(backend: SeqpacketBackend, path: string, options?: ConnectOptions, connectListener?: () => void): SeqpacketSocket {
  const address = parseUnixAddress('path', path);
  const opts = resolveSocketOptions(options);
  if (connectListener !== undefined && typeof connectListener !== 'function') {
    throw new TypeError('argument connectListener must be a function');
  }
  let fd = -1;
  let createError: unknown = null;
  // aborted already: no socket is created; the constructor queues destroy(AbortError) (src/abort.ts)
  if (!opts.signal?.aborted) {
    try {
      fd = backend.socket(AF_UNIX, SOCK_SEQPACKET);
    } catch (e) {
      createError = e;
    }
  }
  const socket = new SeqpacketSocket({ backend, options: opts, fd, connecting: true });
  if (connectListener !== undefined) socket.once('connect', connectListener);
  if (opts.signal?.aborted) return socket;
  if (createError !== null) {
    process.nextTick(() => socket.destroy(withContext(createError, 'cannot create a socket')));
    return socket;
  }
  const { clock } = backend;
  const started = clock.now();
  let delay = 1;
  const attempt = (): void => {
    if (socket.destroyed) return;
    try {
      backend.connect(fd, AF_UNIX, address.address);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'EAGAIN' && clock.now() - started < CONNECT_RETRY_MS) {
        const t = clock.setTimer(attempt, delay);
        if (!socket.referenced) clock.refTimer(t, false);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
        return;
      }
      socket.destroy(connectError(e, path));
      return;
    }
    socket[kOpen](true);
  };
  process.nextTick(attempt);
  return socket;
}

function connectError(e: unknown, path: string): Error {
  if (!(e instanceof Error)) return new Error(`connect '${path}': ${String(e)}`);
  const code = (e as { code?: unknown }).code;
  e.message = `${e.message} '${path}'`;
  if (code === 'EAGAIN') e.message += ' (the listen backlog stayed full)';
  Object.assign(e, { address: path });
  return e;
}
