// Whether a listing should be read through a worker thread: how many lines each /proc/net
// table will have (/proc/net/sockstat{,6}) and whether a core is free to do it (/proc/loadavg).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Expected line count per table file name (tcp, tcp6, udp, ..., unix). */
export function estimateTableLines(netDir: string): Map<string, number> {
  const lines = new Map<string, number>();
  let used = 0;
  let inet = 0;
  for (const file of ['sockstat', 'sockstat6']) {
    let text: string;
    try {
      text = readFileSync(`${netDir}/${file}`, 'latin1');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^(\w+): (.*)$/gm)) {
      const fields = new Map<string, number>();
      const parts = m[2]!.trim().split(/\s+/);
      for (let i = 0; i + 1 < parts.length; i += 2) {
        // a count that is not one (garbage, negative, inexact) is left out, as if not printed
        const n = Number(parts[i + 1]);
        if (Number.isSafeInteger(n) && n >= 0) fields.set(parts[i]!, n);
      }
      const key = m[1]!.toLowerCase();
      if (key === 'sockets') {
        used = fields.get('used') ?? 0;
        continue;
      }
      const inuse = fields.get('inuse');
      if (inuse === undefined || key.startsWith('frag')) continue;
      // TIME_WAIT sockets are listed too but not "in use"
      const count = inuse + (fields.get('tw') ?? 0);
      lines.set(key, count);
      inet += inuse;
    }
  }
  lines.set('unix', Math.max(0, used - inet));
  return lines;
}

/**
 * Is a core free for a reader thread? A worker only pays off on an idle core: on a busy
 * machine its start-up and the kernel's formatting would just queue behind other work.
 * True when /proc/loadavg shows fewer runnable tasks than cores (this process counts as
 * one) and the last minute's load leaves a core; true when loadavg cannot be read.
 */
export function idleCoreAvailable(procRoot: string): boolean {
  const cores = availableParallelism();
  if (cores < 2) return false;
  let text: string;
  try {
    text = readFileSync(`${procRoot}/loadavg`, 'latin1');
  } catch {
    return true;
  }
  const m = /^([\d.]+) [\d.]+ [\d.]+ (\d+)\//.exec(text);
  if (!m) return true;
  return Number(m[2]) < cores && Number(m[1]) <= cores - 1;
}
