// `--mda --report/--watch` text and JSON. --watch prints a line per cycle and each change of
// the path set as it happens; at the end both print the last cycle's graph (multipath-text.ts),
// the changes and the paths with the cycles they were found in, or with --json the last
// cycle's netdiag.multipath/1 document with `cycles`, `pathHistory` and `pathChanges` added.
import type { MultipathCycle, MultipathHistory, MultipathPathChange, MultipathPathRecord } from '../../traceroute/mda/watch.js';
import { printJson, type Output } from '../output.js';
import type { Invocation } from './args.js';
import { multipathText } from './multipath-text.js';
import { CHANGES_SHOWN, changeStamp } from './route-text.js';

/** Prints the cycles as they come and the summary at the end; the exit code (0: the last cycle reached the destination). */
export async function printMultipathCycles(cycles: AsyncIterable<MultipathCycle>, history: MultipathHistory, inv: Invocation, out: Output): Promise<number> {
  let last: MultipathCycle | null = null;
  for await (const c of cycles) {
    last = c;
    if (!inv.watch || inv.json) continue;
    const r = c.result;
    out.out(`cycle ${c.cycle} (${changeStamp(c.time)}): ${r.paths.length} path${r.paths.length === 1 ? '' : 's'}, ${r.probes} probes, ` +
      `confidence reached ${r.confidenceReached}%${r.aborted ? ', interrupted' : ''}\n`);
    if (c.change) out.out(changeLine(c.change, history.paths()));
  }
  if (!last) return 1;
  if (inv.json) {
    printJson(out, { ...last.result, cycles: last.cycle, pathHistory: history.paths(), pathChanges: history.changes() });
  } else {
    out.out(multipathText(last.result, { names: !inv.numeric }) + historyText(history.paths(), history.changes()));
  }
  return last.result.reached ? 0 : 1;
}

function changeLine(c: MultipathPathChange, paths: readonly MultipathPathRecord[]): string {
  const hops = (id: string): string => paths.find((p) => p.pathId === id)?.hops.map((a) => a ?? '*').join(' ') ?? '';
  const parts = [...c.added.map((id) => `+${id} (${hops(id)})`), ...c.removed.map((id) => `-${id}`)];
  return `Paths changed at cycle ${c.cycle} (${changeStamp(c.time)}): ${parts.join(', ')}\n`;
}

/** The latest changes and every path with its cycles; empty while every cycle found the same paths. */
export function historyText(paths: readonly MultipathPathRecord[], changes: readonly MultipathPathChange[]): string {
  if (!changes.length) return '';
  let out = '';
  const hidden = changes.length - CHANGES_SHOWN;
  if (hidden > 0) out += `(${hidden} earlier change${hidden > 1 ? 's' : ''} of the paths not shown)\n`;
  for (const c of changes.slice(Math.max(0, hidden))) out += changeLine(c, paths);
  out += `Paths: ${paths.map((p) => `${p.pathId} cycles ${p.firstCycle}-${p.lastCycle} (${p.cycles})`).join(', ')}\n`;
  return out;
}
