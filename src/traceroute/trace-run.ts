// One trace: the scheduler driven by a session's transport and clock, probe and hop events as
// outcomes become known in TTL order, the result document at the end (or what there is when the
// signal aborts). The lifecycle (ids, start, abort, settle, names) is TraceRun's.
import { TraceRun } from './run-lifecycle.js';
import { TraceScheduler } from './scheduler.js';
import type { Session } from './session.js';
import type { TracerouteEvent, TracerouteHop, TracerouteProbe, TracerouteResult } from './types.js';

export function runTrace(s: Session, emit: (e: TracerouteEvent) => void, signal: AbortSignal | undefined): Promise<TracerouteResult> {
  const { opts, clock, transport } = s;
  const hops: TracerouteHop[] = [];
  // the hop whose probes are being decided (an abort keeps the ones decided so far)
  let current: TracerouteProbe[] = [];
  let currentTtl = 0;
  let reached = false;

  const run = new TraceRun(s, emit, signal, {
    stop: () => scheduler.abort(),
    outcome: () => {
      if (current.length) hops.push({ ttl: currentTtl, probes: current });
      return { reached, hops };
    },
  });
  const scheduler = new TraceScheduler(
    { firstTtl: opts.firstTtl, maxTtl: opts.maxTtl, queries: opts.queries, window: opts.window, wait: opts.wait,
      packetLength: s.packetLength, discoverMtu: opts.discoverMtu, minLength: transport.minLength },
    clock,
    {
      ...run.transportHooks(),
      nextId: () => run.nextId(),
      release: (id) => transport.release(id),
      onProbe: (slot) => {
        const probe = run.probe(slot);
        if (slot.reply?.reached) reached = true;
        currentTtl = slot.ttl;
        current.push(probe);
        emit({ type: 'probe', ttl: slot.ttl, index: slot.n, cycle: 0, probe });
      },
      onHop: (ttl) => {
        const hop: TracerouteHop = { ttl, probes: current };
        current = [];
        hops.push(hop);
        emit({ type: 'hop', hop });
      },
      onDone: () => run.end(),
      onFailure: (e) => run.fail(e),
    },
  );
  return run.start((reply) => scheduler.handleReply(reply), () => scheduler.begin());
}
