#!/usr/bin/env node
// Child of the trace benchmarks: runs inside a namespace (ip netns exec NS node this-file SPEC)
// so that both sides are spawned and timed the same way from the same place. SPEC is JSON:
//   { "runs": N, "warmup": true, "sides": { "label": { "cmd": "...", "args": [...], "ok": [0] }, ... } }
// Prints JSON { label: { wall, walls, status, stdout } }: wall is the median in seconds,
// stdout the last run's output. A side that exits with a status outside `ok` fails the child.
import { alternate, expect, measure, median } from './measure.mjs';

const spec = JSON.parse(process.argv[2]);
const sides = Object.fromEntries(
  Object.entries(spec.sides).map(([label, s]) => [label, () => {
    const r = measure(s.cmd, s.args, { timeoutMs: s.timeoutMs ?? 60_000 });
    expect(`${s.cmd} ${s.args.join(' ')}`, r, (s.ok ?? [0]).includes(r.status));
    return r;
  }]),
);
try {
  const got = alternate(spec.runs, sides, { warmup: spec.warmup ?? true });
  const out = {};
  for (const [label, rs] of Object.entries(got)) {
    const walls = rs.map((r) => r.wall);
    out[label] = { wall: median(walls), walls, status: rs.at(-1).status, stdout: rs.at(-1).stdout };
  }
  process.stdout.write(JSON.stringify(out));
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
