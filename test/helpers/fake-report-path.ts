// Report mode (mtr-like) on test/sim's fake network, as the report and route-change unit tests
// drive it: a fake clock, a path of hops (the last one the destination) that a test may edit
// while a report runs, ICMP report runs over them to the end or as events, and the probe rows
// the text tests build hop tables from.
import { tracerouteReport, tracerouteReportStream } from '../../src/traceroute/index.js';
import type { TracerouteBackend } from '../../src/traceroute/backend.js';
import type { TracerouteEvent, TracerouteProbe, TracerouteReportOptions, TracerouteResult } from '../../src/traceroute/types.js';
import { FakeClock, FakePath, fakeBackend, linearPath, type FakeHop } from '../sim/fake-network.js';

/** What a test chooses of a report (cycles, intervalMs, signal...); the backend is the fake path's. */
export type FakeReportOptions = Omit<TracerouteReportOptions, 'backend'>;

export type CycleEvent = Extract<TracerouteEvent, { type: 'cycle' }>;

export class FakeReportPath {
  readonly clock = new FakeClock();
  readonly path: FakePath;
  readonly backend: TracerouteBackend;

  /** `hops` is kept, not copied: changing it (an address, a splice) changes the path mid-report. */
  constructor(readonly hops: FakeHop[]) {
    this.path = new FakePath(this.clock, hops);
    this.backend = fakeBackend(this.clock, this.path);
  }

  /** test/sim's linearPath: hop k at 10.0.k.1, k × rttPerHop ms away. */
  static linear(n: number, rttPerHop?: number, overrides?: Record<number, Partial<FakeHop>>): FakeReportPath {
    return new FakeReportPath(linearPath(n, rttPerHop, overrides));
  }

  /** The destination's address as the path stands now. */
  get destination(): string {
    return this.hops[this.hops.length - 1]!.address;
  }

  /** An ICMP report to the destination, run to its end on the fake clock. */
  report(options: FakeReportOptions): Promise<TracerouteResult> {
    return this.clock.run(tracerouteReport(this.destination, { method: 'icmp', ...options, backend: this.backend }));
  }

  /** Every event of an ICMP report to the destination, in order, once it ended. */
  async events(options: FakeReportOptions): Promise<TracerouteEvent[]> {
    const events: TracerouteEvent[] = [];
    const target = this.destination;
    await this.clock.run((async () => {
      for await (const e of tracerouteReportStream(target, { method: 'icmp', ...options, backend: this.backend })) events.push(e);
    })());
    return events;
  }
}

/** The per-cycle events among a report's. */
export function cycleEvents(events: readonly TracerouteEvent[]): CycleEvent[] {
  return events.filter((e): e is CycleEvent => e.type === 'cycle');
}

const NO_DETAILS = { name: null, annotation: null, icmp: null, mtu: null, extensions: null } as const;

/** A probe row for hop tables: an answer from `address` after `rtt` ms (reply TTL 64). */
export function answeredProbe(address: string, rtt: number): TracerouteProbe {
  return { ...NO_DETAILS, mpls: [], flags: [], address, rtt, status: 'reply', replyTtl: 64 };
}

/** A probe row for hop tables: no answer. */
export function lostProbe(): TracerouteProbe {
  return { ...NO_DETAILS, mpls: [], flags: [], address: null, rtt: null, status: 'timeout', replyTtl: null };
}
