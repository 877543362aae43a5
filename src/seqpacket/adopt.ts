// seqpacketFromFd(): wraps a connected AF_UNIX SOCK_SEQPACKET fd obtained elsewhere (inherited
// from a parent, received over SCM_RIGHTS). The socket owns the fd from then on.
import { optionRangeError, optionTypeError } from '../errors.js';
import { AF_UNIX, SOCK_SEQPACKET, SOL_SOCKET, SO_DOMAIN, SO_TYPE, systemBackend } from './backend.js';
import { resolveSocketOptions, type SeqpacketSocketOptions } from './options.js';
import { SeqpacketSocket } from './socket.js';

export function seqpacketFromFd(fd: number, options?: SeqpacketSocketOptions): SeqpacketSocket {
  if (typeof fd !== 'number') throw optionTypeError('fd', 'a file descriptor number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw optionRangeError('fd', 'a non-negative integer', fd);
  const opts = resolveSocketOptions(options);
  const backend = systemBackend();
  const domain = backend.getsockoptInt(fd, SOL_SOCKET, SO_DOMAIN);
  const type = backend.getsockoptInt(fd, SOL_SOCKET, SO_TYPE);
  if (domain !== AF_UNIX || type !== SOCK_SEQPACKET) {
    throw optionRangeError('fd', 'an AF_UNIX SOCK_SEQPACKET socket', fd);
  }
  return new SeqpacketSocket({ backend, options: opts, fd, connecting: false });
}
