// Node.js release lines and their end of life (nodejs.org's release schedule), and the lines
// netdiag's CI runs the whole suite under. doctor reports the running line against them.

/** Last day each release line gets fixes (YYYY-MM-DD). */
const END_OF_LIFE: Readonly<Record<number, string>> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
  26: '2029-04-30',
};

/** The lines CI tests every commit under (scripts/test-under-node.sh, plus the system Node 20). */
export const TESTED_NODE_LINES: readonly number[] = [20, 22, 24, 26];

export interface NodeLineStatus {
  /** the major version */
  line: number;
  /** the line's last day of fixes, or null when this table does not know the line */
  endOfLife: string | null;
  /** past its end of life on `today` */
  ended: boolean;
  /** CI runs the suite under this line */
  tested: boolean;
}

/** Where a Node version (process.version, e.g. 'v24.1.0') stands on `today`. */
export function nodeLineStatus(version: string, today: Date): NodeLineStatus {
  const line = Number(/^v?(\d+)\./.exec(version)?.[1] ?? NaN);
  const endOfLife = END_OF_LIFE[line] ?? null;
  return {
    line,
    endOfLife,
    ended: endOfLife !== null && today.toISOString().slice(0, 10) > endOfLife,
    tested: TESTED_NODE_LINES.includes(line),
  };
}
