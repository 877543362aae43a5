// What a trace and a report share around their schedulers (review #8): probe ids unique over
// the session, the start event, the transport's answers and failures, the abort signal, and
// one settle that stops the probing, waits (bounded) for names and ends with the document —
// or with the error. runTrace and runReport supply only what differs: how they probe, and
// what their document holds.
import type { ProbeSlot } from './probe-slot.js';
import type { SchedulerHooks } from './scheduler.js';
import { baseResult, fillNames, probeOf, startEvent, type Session } from './session.js';
import type { ProbeReply } from './transport.js';
import type { TracerouteEvent, TracerouteHop, TracerouteProbe, TracerouteResult, TraceroutePath, TracerouteRouteChange } from './types.js';

export interface RunParts {
  /** stops whatever still probes (schedulers, timers); called once, when the run settles */
  stop(): void;
  /** the run's own part of the document, read when it ends without an error */
  outcome(): { reached: boolean; hops: TracerouteHop[]; cycles?: number; paths?: TraceroutePath[]; routeChanges?: TracerouteRouteChange[] };
}

export class TraceRun {
  /** clock.now() when the run was made: elapsed and report cycles count from here */
  readonly started: number;
  private settled = false;
  private lastId = 0;
  private resolve: (result: TracerouteResult) => void = () => {};
  private reject: (error: unknown) => void = () => {};
  private readonly onAbort = (): void => this.settle(true);

  constructor(
    readonly session: Session,
    readonly emit: (e: TracerouteEvent) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly parts: RunParts,
  ) {
    this.started = session.clock.now();
  }

  /** the run has ended (done, aborted or failed): nothing more is launched */
  get finished(): boolean {
    return this.settled;
  }

  nextId(): number {
    return ++this.lastId;
  }

  /** The result of a decided slot, with its name when the cache already knows it. */
  probe(slot: ProbeSlot): TracerouteProbe {
    return probeOf(slot, this.session.names);
  }

  /** Scheduler hooks that go straight to the transport. */
  transportHooks(): Pick<SchedulerHooks, 'poll' | 'send'> {
    const { transport } = this.session;
    return { poll: () => transport.poll(), send: (requests) => transport.send(requests) };
  }

  /**
   * Runs: unless the signal is already aborted, the start event, then answers go to onReply
   * and begin() sends the first probes. Resolves with the document once end(), abort or
   * fail() settles the run.
   */
  start(onReply: (reply: ProbeReply) => void, begin: () => void): Promise<TracerouteResult> {
    return new Promise<TracerouteResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (this.signal?.aborted) {
        this.settle(true);
        return;
      }
      this.signal?.addEventListener('abort', this.onAbort, { once: true });
      this.emit(startEvent(this.session));
      this.session.transport.start(onReply, (e) => this.fail(e));
      begin();
    });
  }

  /** Every probe is decided. */
  end(): void {
    this.settle(false);
  }

  fail(error: unknown): void {
    this.settle(false, error);
  }

  private settle(aborted: boolean, error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.parts.stop();
    if (error !== undefined) {
      this.reject(error);
      return;
    }
    const { reached, hops, cycles, paths, routeChanges } = this.parts.outcome();
    const elapsed = this.session.clock.now() - this.started;
    // key order is the document's: cycles, paths and routeChanges (reports only) before elapsed
    const result: TracerouteResult = cycles === undefined
      ? { ...baseResult(this.session), reached, aborted, hops, elapsed }
      : { ...baseResult(this.session), reached, aborted, hops, cycles, paths: paths ?? [], routeChanges: routeChanges ?? [], elapsed };
    fillNames(result, this.session.names).then(() => {
      this.emit({ type: 'end', result });
      this.resolve(result);
    }, this.reject);
  }
}
