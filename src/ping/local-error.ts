// Texts for probes the kernel refused to send, as iputils ping prints them: from the error
// queue "local error: message too long, mtu=1400" (IPv6: "mtu: 1400"), else "sendmsg: <strerror>".

import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

const E = constants.errno;

// glibc's strerror texts (what ping prints); libuv's lower-case ones are the fallback
const GLIBC_TEXT: Record<number, string> = {
  [E.EPERM]: 'Operation not permitted',
  [E.EACCES]: 'Permission denied',
  [E.EINVAL]: 'Invalid argument',
  [E.EMSGSIZE]: 'Message too long',
  [E.ENETDOWN]: 'Network is down',
  [E.ENETUNREACH]: 'Network is unreachable',
  [E.ENOBUFS]: 'No buffer space available',
  112 /* EHOSTDOWN */: 'Host is down',
  [E.EHOSTUNREACH]: 'No route to host',
  [E.EADDRNOTAVAIL]: 'Cannot assign requested address',
  [E.ECONNREFUSED]: 'Connection refused',
  [E.ENOMEM]: 'Cannot allocate memory',
};

export const EMSGSIZE = E.EMSGSIZE;

export function strerror(errno: number): string {
  const known = GLIBC_TEXT[errno];
  if (known) return known;
  const text = getSystemErrorMap().get(-errno)?.[1];
  return text ? text[0]!.toUpperCase() + text.slice(1) : `Unknown error ${errno}`;
}

/** The text for a send that failed with errno (before the error queue said more). */
export function sendFailureMessage(errno: number): string {
  return `sendmsg: ${strerror(errno)}`;
}

/** The text for a local error read from the error queue. */
export function localErrorMessage(family: 4 | 6, errno: number, mtu: number | null): string {
  if (errno === EMSGSIZE) return `local error: message too long, mtu${family === 4 ? '=' : ': '}${mtu ?? 0}`;
  return `local error: ${strerror(errno)}`;
}
