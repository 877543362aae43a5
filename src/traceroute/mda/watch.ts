// Multipath discovery again and again (`netdiag traceroute --mda --report/--watch`): one
// transport for every cycle, the same flows each time, and the set of paths each cycle found
// compared with the one before: a path that appears or vanishes is a change of the route set,
// flagged at its cycle with its time. A path missed at the stated confidence reads as a change
// too, so a watch that must not flap asks for more confidence. Bounded for an endless watch:
// the latest MAX_ENTRIES changes and the MAX_ENTRIES paths seen most recently are kept.
import { optionRangeError } from '../../errors.js';
import { MultipathRunner, type MultipathRunOptions } from './run.js';
import type { MultipathPath, MultipathResult } from './types.js';

const MAX_ENTRIES = 1000;
/** Between cycles: long enough for routers' ICMP rate limits (Linux: a burst of 6, then 1/s) to refill for a discovery's probes. */
export const DEFAULT_MULTIPATH_INTERVAL_MS = 5000;

/** A path over the cycles: where it was first and last found, and in how many cycles. */
export interface MultipathPathRecord {
  pathId: string;
  hops: Array<string | null>;
  firstCycle: number;
  lastCycle: number;
  cycles: number;
}

/** The set of paths changed at `cycle`: the path ids found that the cycle before had not, and those it no longer found. */
export interface MultipathPathChange {
  cycle: number;
  /** Unix ms when the cycle started */
  time: number;
  added: string[];
  removed: string[];
}

export interface MultipathCycle {
  cycle: number;
  /** Unix ms when the cycle started */
  time: number;
  result: MultipathResult;
  /** the change this cycle made, null when it found the paths of the cycle before (or is the first) */
  change: MultipathPathChange | null;
}

export interface MultipathWatchOptions extends MultipathRunOptions {
  /** cycles to run (default: until the signal aborts) */
  cycles?: number;
  /** ms from the end of one cycle to the start of the next (default DEFAULT_MULTIPATH_INTERVAL_MS) */
  intervalMs?: number;
}

/** Every path seen and every change of the path set, cycle by cycle. */
export class MultipathHistory {
  private readonly records = new Map<string, MultipathPathRecord>();
  private readonly changeList: MultipathPathChange[] = [];
  private last: Set<string> | null = null;

  /** Takes in a cycle's paths; returns the change it made, or null. */
  add(cycle: number, time: number, paths: readonly MultipathPath[]): MultipathPathChange | null {
    const now = new Set(paths.map((p) => p.pathId));
    for (const p of paths) {
      const known = this.records.get(p.pathId);
      if (known) {
        // seen most recently: moved to the end, so the oldest is the one dropped past the bound
        this.records.delete(p.pathId);
        this.records.set(p.pathId, { ...known, lastCycle: cycle, cycles: known.cycles + 1 });
      } else {
        this.records.set(p.pathId, { pathId: p.pathId, hops: [...p.hops], firstCycle: cycle, lastCycle: cycle, cycles: 1 });
      }
    }
    while (this.records.size > MAX_ENTRIES) this.records.delete(this.records.keys().next().value!);
    const before = this.last;
    this.last = now;
    if (before === null) return null;
    const added = [...now].filter((id) => !before.has(id));
    const removed = [...before].filter((id) => !now.has(id));
    if (!added.length && !removed.length) return null;
    const change = { cycle, time, added, removed };
    this.changeList.push(change);
    if (this.changeList.length > MAX_ENTRIES) this.changeList.shift();
    return change;
  }

  /** The paths seen, in the order first seen (copies). */
  paths(): MultipathPathRecord[] {
    return [...this.records.values()].sort((a, b) => a.firstCycle - b.firstCycle).map((p) => ({ ...p, hops: [...p.hops] }));
  }

  /** The changes, in cycle order (copies). */
  changes(): MultipathPathChange[] {
    return this.changeList.map((c) => ({ ...c, added: [...c.added], removed: [...c.removed] }));
  }
}

/**
 * Runs multipath discovery `cycles` times (or until the signal aborts), `intervalMs` apart,
 * yielding each cycle's document and the change of its path set. `history` (optional) collects
 * the paths and changes for a summary.
 */
export async function* tracerouteMultipathCycles(
  target: string, options: MultipathWatchOptions = {}, history: MultipathHistory = new MultipathHistory(),
): AsyncGenerator<MultipathCycle> {
  const { cycles = Infinity, intervalMs = DEFAULT_MULTIPATH_INTERVAL_MS, ...rest } = options;
  if (!(cycles === Infinity || (Number.isInteger(cycles) && cycles >= 1))) throw optionRangeError('cycles', 'a whole number 1 or more (Infinity: until aborted)', cycles);
  if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) throw optionRangeError('intervalMs', 'a number of ms, 0 or more', intervalMs);
  const runner = await MultipathRunner.open(target, rest);
  // the session's monotonic clock paces the cycles; wall-clock time only stamps them, from this anchor
  const wallStart = Date.now();
  const clockStart = runner.now();
  try {
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const time = wallStart + (runner.now() - clockStart);
      const result = await runner.discover();
      // an interrupted cycle found part of the paths at most: no change is read from it
      const change = result.aborted ? null : history.add(cycle, time, result.paths);
      yield { cycle, time, result, change };
      if (runner.stopped || cycle === cycles) break;
      await runner.pause(intervalMs);
      if (runner.stopped) break;
    }
  } finally {
    runner.close();
  }
}
