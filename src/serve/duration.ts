// Durations as configs write them: Go's time.ParseDuration text ("1s", "500ms", "1m30s",
// "250us") as smokeping_prober and Prometheus read it, or a plain number of seconds.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds of a duration text or a number of seconds; null when it is neither. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : null;
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) return null;
  if (v === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < v.length) {
    const m = PART.exec(v);
    if (m === null) return null;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return ms;
}
