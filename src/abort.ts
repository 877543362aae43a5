// One abort rule for every public call (ping, pingMany, pingStream, isReachable, traceroute
// and its streams and reports, listSockets, connectSeqpacket): a signal that is already
// aborted when the call starts makes it open and send nothing and fail with an AbortError,
// as Node's own APIs do (timers/promises, events.once, fs): name 'AbortError', code
// 'ABORT_ERR', the signal's reason as `cause`. A signal aborted later ends a ping or a
// traceroute early with what was measured, and destroys a seqpacket socket with this error.

export interface AbortError extends Error {
  name: 'AbortError';
  code: 'ABORT_ERR';
  cause: unknown;
}

export function abortError(reason: unknown): AbortError {
  return Object.assign(new Error('the operation was aborted', { cause: reason }), { name: 'AbortError' as const, code: 'ABORT_ERR' as const }) as AbortError;
}

/** Throws the AbortError when signal is aborted already: call it before anything is opened or sent. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal.reason);
}

