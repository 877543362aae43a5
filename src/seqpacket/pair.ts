// seqpacketPair(): two connected sockets (socketpair), e.g. for a worker or a child process.
import { SOCK_SEQPACKET, systemBackend } from './backend.js';
import { resolveSocketOptions, type SeqpacketSocketOptions } from './options.js';
import { SeqpacketSocket } from './socket.js';

/** Two sockets connected to each other; both are open at once (no 'connect' event). */
export function seqpacketPair(options?: SeqpacketSocketOptions): [SeqpacketSocket, SeqpacketSocket] {
  const opts = resolveSocketOptions(options);
  const backend = systemBackend();
  const [a, b] = backend.socketpair(SOCK_SEQPACKET);
  return [
    new SeqpacketSocket({ backend, options: opts, fd: a, connecting: false }),
    new SeqpacketSocket({ backend, options: opts, fd: b, connecting: false }),
  ];
}
