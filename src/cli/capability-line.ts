// The -v line of ping and traceroute: what dropping every capability did, thread by thread
// (capabilities are per thread; Node's signal-watcher thread blocks the drop signal and keeps
// its set, running none of our code).
import type { CapabilityDrop } from '../native.js';

export function capabilityDropLine(d: CapabilityDrop): string {
  const notes: string[] = [];
  if (d.skipped.length > 0) notes.push(`${d.skipped.length} skipped: ${d.skipped.length === 1 ? 'it blocks' : 'they block'} the signal`);
  const silent = d.asked - d.dropped;
  if (silent > 0) notes.push(`${silent} asked but not confirmed`);
  return `netdiag: capabilities dropped on ${d.dropped} of ${d.threads} threads${notes.length ? ` (${notes.join('; ')})` : ''}\n`;
}
