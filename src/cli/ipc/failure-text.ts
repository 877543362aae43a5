// Why `netdiag ipc` could not connect or listen, with the fix, in one line.

function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

export function connectFailure(e: unknown, address: string): string {
  const code = errorCode(e);
  const hints: Record<string, string> = {
    ENOENT: 'no socket at that path; check the path or start the server',
    ECONNREFUSED: address.startsWith('@') ? 'nothing listens on that name; start the server' : 'nothing listens there, the file is stale; start the server',
    EACCES: "no permission to connect; check the socket file's mode and owner",
    EPERM: "no permission to connect; check the socket file's mode and owner",
    EPROTOTYPE: 'the socket there is not SOCK_SEQPACKET (a stream or datagram socket?)',
    EAGAIN: "the server's listen backlog is full; try again",
    ABORT_ERR: 'interrupted',
  };
  return `cannot connect to ${address}: ${code ?? (e as Error).message} (${(code && hints[code]) ?? (e as Error).message})`;
}

export function listenFailure(e: unknown, address: string): string {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message.replace(/^EADDRINUSE: /, '') : String(e);
  if (code === 'EADDRINUSE') {
    const stale = (e as { stale?: boolean }).stale === true;
    return `cannot listen on ${address}: ${message.replace(/ \([^)]*\)$/, '')} (${stale ? 'remove the file or pass --replace-stale' : 'stop the other server or choose another path'})`;
  }
  if (code === 'EACCES' || code === 'EPERM') return `cannot listen on ${address}: ${code} (no permission to create the socket file there; choose a writable directory)`;
  if (code === 'ENOENT') return `cannot listen on ${address}: ENOENT (the directory does not exist; create it first)`;
  return `cannot listen on ${address}: ${message} (check the path)`;
}
