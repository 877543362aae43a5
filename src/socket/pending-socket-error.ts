// With IP_RECVERR, an ICMP error also sets the socket's pending error (sk_err): the next
// ordinary read or send fails once with it. That is news to read from the error queue, not
// a broken socket.
const PENDING_ERRORS = new Set([
  'EHOSTUNREACH', 'ENETUNREACH', 'ECONNREFUSED', 'EPROTO', 'EMSGSIZE', 'EHOSTDOWN', 'ENONET',
  'EACCES', 'EPERM', 'ETIMEDOUT', 'EREMOTEIO', 'ENOPROTOOPT', 'EOPNOTSUPP',
]);

/** True for an addon error carrying an errno an ICMP error leaves pending on the socket. */
export function isPendingSocketError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && PENDING_ERRORS.has(code);
}
