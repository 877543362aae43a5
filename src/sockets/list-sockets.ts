// listSockets(): the sockets of this machine (or of another process's network namespace)
// from /proc, filtered while parsing, with user and service names and, when asked, the
// processes holding them.
import { newScanReport, planScan, scanSockets } from './scan.js';
import type { ListSocketsOptions, SocketEntry, SocketsDocument } from './types.js';

export async function listSockets(options: ListSocketsOptions = {}): Promise<SocketsDocument> {
  const plan = await planScan(options);
  const report = newScanReport();
  const sockets: SocketEntry[] = [];
  for await (const batch of scanSockets(plan, report)) {
    for (const s of batch) sockets.push(s);
  }
  const doc: SocketsDocument = { schema: 'netdiag.sockets/1', sockets };
  if (plan.wantOwners) doc.ownersUnreadable = report.ownersUnreadable ?? [];
  return doc;
}
