// Report mode (mtr -r, --watch): cycles of one probe per hop, cycle k starting k × interval
// after the first, so N cycles take about N × interval. Each cycle is a trace of its own on the
// shared transport (answers are routed by probe id); the first finds the destination's TTL and
// later cycles send every hop up to it at once (up to the maximum again once a router answers
// at that TTL: the route got longer). After the last cycle only its own probes are
// waited for, with the adaptive wait — no fixed grace period. The lifecycle (ids, start, abort,
// settle, names) is TraceRun's. Each cycle's hop addresses name the route it took (path id);
// a cycle on another route than the one before is recorded as a route change, with its time.
import type { ResolvedReportOptions } from './options.js';
import { ReportRecords, type DecidedProbe } from './report-records.js';
import { TraceRun } from './run-lifecycle.js';
import { TraceScheduler } from './scheduler.js';
import type { Session } from './session.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { TracerouteEvent, TracerouteResult } from './types.js';

/** An endless report keeps only the latest probes of each hop. */
const ENDLESS_PROBES_KEPT = 100;

export function runReport(s: Session, opts: ResolvedReportOptions, emit: (e: TracerouteEvent) => void, signal: AbortSignal | undefined): Promise<TracerouteResult> {
  const { clock } = s;
  const records = new ReportRecords(Number.isFinite(opts.cycles) ? Infinity : ENDLESS_PROBES_KEPT, opts.firstTtl);
  /** Unix ms at which each running cycle's probes went out */
  const launchedAt = new Map<number, number>();
  /** which cycle's scheduler sent each probe in flight */
  const route = new Map<number, TraceScheduler>();
  const running = new Set<TraceScheduler>();
  let launched = 0;
  let completed = 0;
  let nextCycle: TimerHandle | null = null;

  const run = new TraceRun(s, emit, signal, {
    stop: () => {
      if (nextCycle !== null) clock.clearTimer(nextCycle);
      for (const sch of running) sch.abort();
      running.clear();
    },
    outcome: () => {
      records.close();
      return { reached: records.destTtl !== null, hops: records.hops(), cycles: completed, paths: records.paths(), routeChanges: records.routeChanges() };
    },
  });
  // the monotonic clock paces the cycles; wall-clock time only stamps them, from this anchor
  const wallStart = Date.now();

  const cycleDone = (sch: TraceScheduler, cycle: number, decided: readonly DecidedProbe[]): void => {
    running.delete(sch);
    completed++;
    records.add(cycle, launchedAt.get(cycle)!, decided);
    launchedAt.delete(cycle);
    emit({ type: 'cycle', cycle, hops: records.hops(), reached: records.destTtl !== null, paths: records.paths(), routeChanges: records.routeChanges() });
    if (launched >= opts.cycles && running.size === 0) run.end();
  };

  const launch = (cycle: number): void => {
    launched++;
    launchedAt.set(cycle, wallStart + (clock.now() - run.started));
    const sch = cycleScheduler(run, opts, records.probeUpTo, route, cycle, cycleDone);
    running.add(sch);
    sch.begin();
    if (launched < opts.cycles) {
      nextCycle = clock.setTimer(() => {
        nextCycle = null;
        if (!run.finished) launch(cycle + 1);
      }, run.started + launched * opts.intervalMs - clock.now());
    }
  };

  return run.start((reply) => route.get(reply.id)?.handleReply(reply), () => launch(1));
}

/**
 * One cycle: one probe per hop up to the destination (once known, all of them at once), its
 * probes routed to it by id, its decided probes handed to onDone together.
 */
function cycleScheduler(
  run: TraceRun,
  opts: ResolvedReportOptions,
  /** the destination's TTL; null: not known (yet, or any more) */
  destTtl: number | null,
  route: Map<number, TraceScheduler>,
  cycle: number,
  onDone: (sch: TraceScheduler, cycle: number, decided: readonly DecidedProbe[]) => void,
): TraceScheduler {
  const { session: s } = run;
  const maxTtl = destTtl ?? opts.maxTtl;
  const span = maxTtl - opts.firstTtl + 1;
  const decided: DecidedProbe[] = [];
  const sch: TraceScheduler = new TraceScheduler(
    {
      firstTtl: opts.firstTtl, maxTtl, queries: 1, window: destTtl !== null ? Math.max(opts.window, span) : opts.window,
      wait: opts.wait, packetLength: s.packetLength, discoverMtu: false, minLength: s.transport.minLength,
    },
    s.clock,
    {
      ...run.transportHooks(),
      nextId: () => {
        const id = run.nextId();
        route.set(id, sch);
        return id;
      },
      release: (id) => {
        route.delete(id);
        s.transport.release(id);
      },
      onProbe: (slot) => {
        const probe = run.probe(slot);
        decided.push({ ttl: slot.ttl, probe, reached: slot.reply?.reached === true });
        run.emit({ type: 'probe', ttl: slot.ttl, index: 0, cycle, probe });
      },
      onHop: () => {},
      onDone: () => onDone(sch, cycle, decided),
      onFailure: (e) => run.fail(e),
    },
  );
  return sch;
}
