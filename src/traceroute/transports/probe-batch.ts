// The SendBatch of one send() of probes: built with a slot per probe, sent through the
// socket's pending errors, and read back as the engine's SendOutcomes. A probe's length counts
// the IP header in front of what the transport writes.
import { constants } from 'node:os';
import { sendThroughPendingErrors } from '../../socket/pending-errors.js';
import { SendBatch } from '../../socket/send-batch.js';
import { systemError } from '../../runtime/system-error.js';
import type { TraceClock } from '../clock.js';
import type { ProbeRequest, SendOutcome } from '../transport.js';

const ERRNO = constants.errno;

/** Bytes of the IP header in front of a probe (no options). */
export function ipHeaderLength(family: 4 | 6): number {
  return family === 4 ? 20 : 40;
}

/** A batch with a slot for each probe, as long as the longest. */
export function probeBatch(probes: readonly ProbeRequest[]): SendBatch {
  return new SendBatch(probes.length, Math.max(...probes.map((p) => p.length)));
}

/**
 * Sends the batch with `send` (sending again what met a pending error) and returns the
 * outcomes: sent, too big (mtu from localMtu), or to retry (EAGAIN/ENOBUFS stopped the batch
 * there). Other errnos are fatal.
 */
export function sendProbeBatch(send: (b: SendBatch) => number, batch: SendBatch, clock: TraceClock, localMtu: () => number): SendOutcome[] {
  const processed = sendThroughPendingErrors(send, batch);
  const out: SendOutcome[] = [];
  for (let i = 0; i < batch.count; i++) {
    if (i >= processed) {
      out.push({ kind: 'retry' });
      continue;
    }
    const errno = batch.errno(i);
    if (errno === 0) out.push({ kind: 'sent', stamp: clock.stamp(batch.sentSec(i), batch.sentNsec(i)) });
    else if (errno === ERRNO.EMSGSIZE) out.push({ kind: 'too-big', mtu: localMtu() });
    else if (errno === ERRNO.EAGAIN || errno === ERRNO.ENOBUFS) out.push({ kind: 'retry' });
    else throw systemError(errno, 'sendmsg');
  }
  return out;
}
