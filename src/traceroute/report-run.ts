// Report mode (mtr -r, --watch): cycles of one probe per hop, cycle k starting k × interval
// after the first, so N cycles take about N × interval. Each cycle is a trace of its own on the
// shared transport (answers are routed by probe id); the first finds the destination's TTL and
// later cycles send every hop up to it at once. After the last cycle only its own probes are
// waited for, with the adaptive wait — no fixed grace period.
import { HopStatsAccumulator } from './hop-stats.js';
import type { ResolvedReportOptions } from './options.js';
import { TraceScheduler } from './scheduler.js';
import { baseResult, fillNames, probeOf, startEvent, type Session } from './session.js';
import type { TimerHandle } from './clock.js';
import type { TracerouteEvent, TracerouteHop, TracerouteProbe, TracerouteResult } from './types.js';

/** An endless report keeps only the latest probes of each hop. */
const ENDLESS_PROBES_KEPT = 100;

interface HopRecord {
  probes: TracerouteProbe[];
  acc: HopStatsAccumulator;
}

export function runReport(s: Session, opts: ResolvedReportOptions, emit: (e: TracerouteEvent) => void, signal: AbortSignal | undefined): Promise<TracerouteResult> {
  const { clock, transport } = s;
  const keep = Number.isFinite(opts.cycles) ? Infinity : ENDLESS_PROBES_KEPT;
  return new Promise<TracerouteResult>((resolve, reject) => {
    const records = new Map<number, HopRecord>();
    const route = new Map<number, TraceScheduler>();
    const running = new Set<TraceScheduler>();
    let destTtl: number | null = null;
    let nextId = 1;
    let launched = 0;
    let completed = 0;
    let timer: TimerHandle | null = null;
    let settled = false;
    const started = clock.now();

    const hops = (): TracerouteHop[] => {
      const ttls = [...records.keys()].filter((t) => destTtl === null || t <= destTtl).sort((a, b) => a - b);
      return ttls.map((ttl) => ({ ttl, probes: records.get(ttl)!.probes, stats: records.get(ttl)!.acc.stats() }));
    };

    const settle = (aborted: boolean, error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (timer !== null) clock.clearTimer(timer);
      for (const sch of running) sch.abort();
      running.clear();
      if (error !== undefined) {
        reject(error);
        return;
      }
      const result: TracerouteResult = {
        ...baseResult(s), reached: destTtl !== null, aborted, hops: hops(), cycles: completed, elapsed: clock.now() - started,
      };
      fillNames(result, s.names).then(() => {
        emit({ type: 'end', result });
        resolve(result);
      }, reject);
    };

    const launch = (cycle: number): void => {
      launched++;
      const maxTtl = destTtl ?? opts.maxTtl;
      const span = maxTtl - opts.firstTtl + 1;
      const decided: Array<{ ttl: number; probe: TracerouteProbe; reached: boolean }> = [];
      const sch: TraceScheduler = new TraceScheduler(
        {
          firstTtl: opts.firstTtl, maxTtl, queries: 1, window: destTtl !== null ? Math.max(opts.window, span) : opts.window,
          wait: opts.wait, packetLength: s.packetLength, discoverMtu: false, minLength: transport.minLength,
        },
        clock,
        {
          nextId: () => {
            const id = nextId++;
            route.set(id, sch);
            return id;
          },
          poll: () => transport.poll(),
        send: (requests) => transport.send(requests),
          release: (id) => {
            route.delete(id);
            transport.release(id);
          },
          onProbe: (slot) => {
            const probe = probeOf(slot, s.names);
            decided.push({ ttl: slot.ttl, probe, reached: slot.reply?.reached === true });
            emit({ type: 'probe', ttl: slot.ttl, index: 0, cycle, probe });
          },
          onHop: () => {},
          onDone: () => {
            running.delete(sch);
            completed++;
            for (const d of decided) {
              let rec = records.get(d.ttl);
              if (!rec) records.set(d.ttl, (rec = { probes: [], acc: new HopStatsAccumulator() }));
              rec.acc.add(d.probe.status === 'reply' ? d.probe.rtt : null);
              rec.probes.push(d.probe);
              if (rec.probes.length > keep) rec.probes.shift();
              if (d.reached && (destTtl === null || d.ttl < destTtl)) destTtl = d.ttl;
            }
            emit({ type: 'cycle', cycle, hops: hops(), reached: destTtl !== null });
            if (launched >= opts.cycles && running.size === 0) settle(false);
          },
          onFailure: (e) => settle(false, e),
        },
      );
      running.add(sch);
      sch.begin();
      if (launched < opts.cycles) {
        timer = clock.setTimer(() => {
          timer = null;
          if (!settled) launch(cycle + 1);
        }, started + launched * opts.intervalMs - clock.now());
      }
    };

    const onAbort = (): void => settle(true);
    if (signal?.aborted) {
      settle(true);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    emit(startEvent(s));
    transport.start(
      (reply) => route.get(reply.id)?.handleReply(reply),
      (e) => settle(false, e),
    );
    launch(1);
  });
}
