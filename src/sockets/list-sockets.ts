// listSockets(): the sockets of this machine (or of another process's network namespace)
// from sock_diag or /proc, filtered while parsing, with user and service names and, when asked, the
// processes holding them.
import { scanSockets } from './scan.js';
import type { ListSocketsOptions, SocketEntry, SocketsDocument } from './types.js';

export async function listSockets(options: ListSocketsOptions = {}): Promise<SocketsDocument> {
  const scan = scanSockets(options);
  const sockets: SocketEntry[] = [];
  for await (const batch of scan) {
    for (const s of batch) sockets.push(s);
  }
  const doc: SocketsDocument = { schema: 'netdiag.sockets/1', backend: scan.backend ?? 'proc', sockets };
  if (scan.withOwners) doc.ownersUnreadable = [...(scan.ownersUnreadable ?? [])];
  return doc;
}
