// One trace: the scheduler driven by a session's transport and clock, probe and hop events as
// outcomes become known in TTL order, the result document at the end (or what there is when the
// signal aborts).
import type { ProbeSlot } from './probe-slot.js';
import { TraceScheduler } from './scheduler.js';
import { baseResult, fillNames, probeOf, startEvent, type Session } from './session.js';
import type { TracerouteEvent, TracerouteHop, TracerouteProbe, TracerouteResult } from './types.js';

export function runTrace(s: Session, emit: (e: TracerouteEvent) => void, signal: AbortSignal | undefined): Promise<TracerouteResult> {
  const { opts, clock, transport } = s;
  return new Promise<TracerouteResult>((resolve, reject) => {
    const hops: TracerouteHop[] = [];
    let current: TracerouteProbe[] = [];
    let currentTtl = 0;
    let reached = false;
    let nextId = 1;
    let settled = false;
    const started = clock.now();

    const settle = (aborted: boolean, error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        reject(error);
        return;
      }
      if (current.length) hops.push({ ttl: currentTtl, probes: current });
      const result: TracerouteResult = { ...baseResult(s), reached, aborted, hops, elapsed: clock.now() - started };
      fillNames(result, s.names).then(() => {
        emit({ type: 'end', result });
        resolve(result);
      }, reject);
    };

    const scheduler = new TraceScheduler(
      { firstTtl: opts.firstTtl, maxTtl: opts.maxTtl, queries: opts.queries, window: opts.window, wait: opts.wait,
        packetLength: s.packetLength, discoverMtu: opts.discoverMtu, minLength: transport.minLength },
      clock,
      {
        nextId: () => nextId++,
        poll: () => transport.poll(),
        send: (requests) => transport.send(requests),
        release: (id) => transport.release(id),
        onProbe: (slot: ProbeSlot) => {
          const probe = probeOf(slot, s.names);
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
        onDone: () => settle(false),
        onFailure: (e) => settle(false, e),
      },
    );
    const onAbort = (): void => {
      scheduler.abort();
      settle(true);
    };
    if (signal?.aborted) {
      settle(true);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    emit(startEvent(s));
    transport.start(
      (reply) => scheduler.handleReply(reply),
      (e) => {
        scheduler.abort();
        settle(false, e);
      },
    );
    scheduler.begin();
  });
}
