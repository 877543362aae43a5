// Who closes a received fd. The rule (see README.md):
//  - every fd this layer holds is in the native registry and closed at environment teardown
//    (a terminated worker) if nothing closed it before;
//  - fds handed to a 'message' listener or yielded by an iterator are the application's;
//  - fds of messages nobody will see are closed here: messages pending when the socket is
//    destroyed, queued in an iterator that is left or aborted, or arriving with a message
//    that is an error (truncated data or truncated fds);
//  - fds given to send() are duplicated; the duplicates belong to the send queue and are
//    closed once the kernel has taken them or the queue is dropped.
import type { SeqpacketBackend } from './backend.js';
import type { SeqpacketMessage } from './message-iterator.js';

/** Messages whose fds the application has (a listener got them, or an iterator yielded them). */
const handedOut = new WeakSet<SeqpacketMessage>();

/** The application takes m: its fds leave the registry, and netdiag never closes them. */
export function handOut(backend: SeqpacketBackend, m: SeqpacketMessage): void {
  if (m.fds.length === 0 || handedOut.has(m)) return;
  handedOut.add(m);
  backend.releaseFds(Int32Array.from(m.fds), 0, m.fds.length);
}

/** Closes the fds of messages[from..] that were not handed out. */
export function closeMessageFds(backend: SeqpacketBackend, messages: readonly SeqpacketMessage[], from: number): void {
  let total = 0;
  for (let i = from; i < messages.length; i++) if (!handedOut.has(messages[i]!)) total += messages[i]!.fds.length;
  if (total === 0) return;
  const fds = new Int32Array(total);
  let k = 0;
  for (let i = from; i < messages.length; i++) {
    if (handedOut.has(messages[i]!)) continue;
    for (const fd of messages[i]!.fds) fds[k++] = fd;
  }
  backend.closeFds(fds, 0, total);
}

