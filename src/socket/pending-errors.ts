// With IP_RECVERR, an ICMP error also sets the socket's pending error (sk_err): the next
// ordinary read or send fails once with it (and clears it). That is news to read from the
// error queue, not a broken socket. One list of those errnos, and the two rules built on it:
// reads tell them apart (isPendingSocketError), sends go again (sendThroughPendingErrors).
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { SEND_DESC_STRIDE, SEND_OUT_STRIDE } from '../native.js';
import { SendBatch } from './send-batch.js';

// The kernel's icmp_err_convert / icmpv6_err_convert values, and ping sockets' (EREMOTEIO for
// source quench and redirects). EMSGSIZE may be a router's fragmentation-needed, or a local
// limit that repeats (a send that keeps failing with it is reported). Names as libuv gives
// them (the addon's error codes): Linux's EOPNOTSUPP (95) is libuv's ENOTSUP.
const PENDING_ERROR_NAMES = new Set([
  'EHOSTUNREACH', 'ENETUNREACH', 'ECONNREFUSED', 'EPROTO', 'EMSGSIZE', 'EHOSTDOWN', 'ENONET',
  'EACCES', 'EPERM', 'ETIMEDOUT', 'EREMOTEIO', 'ENOPROTOOPT', 'ENOTSUP',
]);

/** The same list as positive errnos (the addon's per-message send results are numbers). */
const PENDING_ERRNOS = new Set<number>(
  [...getSystemErrorMap()].filter(([, [name]]) => PENDING_ERROR_NAMES.has(name)).map(([negative]) => -negative),
);

/** True for an errno an ICMP error leaves pending on the socket. */
export function isPendingErrno(errno: number): boolean {
  return PENDING_ERRNOS.has(errno);
}

/** True for an addon error carrying an errno an ICMP error leaves pending on the socket. */
export function isPendingSocketError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && PENDING_ERROR_NAMES.has(code);
}

/** how often one message is tried again after such an error before the error counts as real */
const PENDING_SEND_RETRIES = 16;

/**
 * Sends a batch, then sends again each message that met the socket's pending error: an ICMP
 * error for an earlier datagram makes the next sendmsg on a UDP or ping socket return it
 * instead of sending. Answers arrive between the messages of one batch on fast paths, so this
 * is routine. A message that keeps failing the same way has a real problem (no route), which
 * the caller then sees in its errno. Returns how many messages were processed, as send does.
 */
export function sendThroughPendingErrors(send: (b: SendBatch) => number, batch: SendBatch): number {
  const processed = send(batch);
  for (let i = 0; i < processed; i++) {
    for (let attempt = 0; attempt < PENDING_SEND_RETRIES && isPendingErrno(batch.errno(i)); attempt++) {
      const one = new SendBatch(1, batch.slotSize);
      const d = i * SEND_DESC_STRIDE;
      const offset = batch.desc[d]!, length = batch.desc[d + 1]!;
      batch.data.copy(one.data, 0, offset, offset + length);
      one.push(length, batch.desc[d + 2] as 4 | 6 | 0, batch.addrs, i * 16, batch.desc[d + 3]!, batch.desc[d + 4]!, batch.desc[d + 5]!, batch.desc[d + 6]!, batch.desc[d + 7]!);
      if (send(one) === 0) {
        // stopped by EAGAIN/ENOBUFS: the caller retries this one later
        batch.out[i * SEND_OUT_STRIDE + 2] = constants.errno.EAGAIN;
        break;
      }
      batch.out.set(one.out.subarray(0, SEND_OUT_STRIDE), i * SEND_OUT_STRIDE);
    }
  }
  return processed;
}
