// Continuous probing of one target group, on the ping engine: a chain of PingRuns ("segments")
// of about a minute each, every target probed once per interval. A run never lasts forever
// because the engine keeps every round trip of a run (for its percentiles): segments bound
// that memory. The next segment starts one full segment of intervals after the previous one
// started, so each target's probes stay on their interval across the boundary; the two may
// overlap by the last probes' timeout, which is why the reserve holds two sockets per kind.
// Names are looked up at the start and again every resolve_interval; a new address takes
// effect with the next segment.

import { startRun } from '../ping/api.js';
import type { PingBackend, PingSocket } from '../ping/backend.js';
import type { PingRun } from '../ping/run.js';
import type { PingEvent, PingOptions } from '../ping/types.js';
import type { TargetGroup } from './config.js';
import type { SocketKey, SocketReserve } from './socket-reserve.js';
import type { ProbeMetrics, TargetSeries } from './target-metrics.js';

/** About how long one segment lasts. */
const SEGMENT_MS = 60_000;
/** Most probes per target in one segment (a short interval still gets segments of bounded size). */
const MAX_SEGMENT_PROBES = 600;

export interface ResolvedTarget {
  host: string;
  address: string;
  family: 4 | 6;
  series: TargetSeries;
}

export interface GroupRunnerContext {
  reserve: SocketReserve;
  metrics: ProbeMetrics;
  /** names to addresses (the ping backend's getaddrinfo; tests may pass their own) */
  resolve: PingBackend['resolveTarget'];
  /** something went wrong that the prober reports and lives with (a name that stopped resolving, a run that failed) */
  warn: (message: string, cause?: unknown) => void;
  /** the set of targets changed (the prober drops the series nobody has any more) */
  changed: () => void;
}

/** The socket kinds a group needs, one per family it may use (tcpMethod: what the reserve chose for a tcp group). */
export function socketKeysOf(g: TargetGroup, tcpMethod?: 'tcp-syn' | 'tcp-connect'): SocketKey[] {
  const families = new Set<4 | 6>();
  for (const h of g.hosts) {
    if (h.kind === 'address') families.add(h.family);
    else if (g.family !== null) families.add(g.family);
    else {
      families.add(4);
      families.add(6);
    }
  }
  const keys: SocketKey[] = [];
  for (const f of families) {
    // a source address binds the socket of its own family only
    if (g.source !== null && (g.source.includes(':') ? 6 : 4) !== f) continue;
    const tcp = g.method === 'tcp' ? { method: tcpMethod ?? 'tcp-connect', port: g.port ?? undefined } : {};
    keys.push({ family: f, ttl: g.ttl ?? undefined, tos: g.tos || undefined, source: g.source ?? undefined, ...tcp });
  }
  return keys;
}

export class GroupRunner {
  private targets: ResolvedTarget[] = [];
  private readonly names = new Map<string, { address: string; family: 4 | 6 } | null>();
  private readonly runs = new Set<PingRun>();
  private segmentTimer: NodeJS.Timeout | null = null;
  private resolveTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly segmentProbes: number;
  private readonly stopping = new WeakSet<PingRun>();
  /** tcp groups: syn or connect, as the reserve decided while privileged */
  private readonly tcpMethod: 'tcp-syn' | 'tcp-connect' | undefined;

  constructor(readonly group: TargetGroup, private readonly ctx: GroupRunnerContext) {
    this.tcpMethod = group.method === 'tcp' ? ctx.reserve.tcpMethod(group.tcpMethod) : undefined;
    this.segmentProbes = Math.max(1, Math.min(MAX_SEGMENT_PROBES, Math.round(SEGMENT_MS / group.interval)));
  }

  /** The targets probed now (names that resolved, addresses). */
  get current(): readonly ResolvedTarget[] {
    return this.targets;
  }

  /** Looks the names up, then starts the first segment. */
  async start(): Promise<void> {
    await this.resolveNames();
    if (this.stopped) return;
    this.rebuild();
    this.scheduleResolve();
    this.segment();
  }

  /** Ends every run now (probes cut short are not counted as lost). */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.segmentTimer) clearTimeout(this.segmentTimer);
    if (this.resolveTimer) clearTimeout(this.resolveTimer);
    const ends: Promise<unknown>[] = [];
    for (const run of this.runs) {
      this.stopping.add(run);
      run.stop();
      ends.push(run.finished.catch(() => {}));
    }
    return Promise.all(ends).then(() => {});
  }

  private async resolveNames(): Promise<boolean> {
    let changed = false;
    const g = this.group;
    await Promise.all(g.hosts.map(async (h) => {
      if (h.kind !== 'name') return;
      let next: { address: string; family: 4 | 6 } | null = null;
      try {
        next = await this.ctx.resolve(h.host, g.family ?? undefined);
      } catch (e) {
        this.ctx.warn(`${h.host}: ${(e as Error).message}; not probed until it resolves`, e);
      }
      const prev = this.names.get(h.host);
      if ((prev?.address ?? null) !== (next?.address ?? null)) changed = true;
      this.names.set(h.host, next);
    }));
    return changed;
  }

  private scheduleResolve(): void {
    if (!this.group.hosts.some((h) => h.kind === 'name')) return;
    this.resolveTimer = setTimeout(() => {
      void this.resolveNames().then((changed) => {
        if (this.stopped) return;
        if (changed) {
          this.rebuild();
          this.ctx.changed();
        }
        this.scheduleResolve();
      });
    }, this.group.resolveInterval);
    this.resolveTimer.unref();
  }

  /** The target list from the addresses and the names' current addresses. */
  private rebuild(): void {
    const g = this.group;
    const out: ResolvedTarget[] = [];
    for (const h of g.hosts) {
      let address: string;
      let family: 4 | 6;
      if (h.kind === 'address') {
        address = h.address;
        family = h.family;
      } else {
        const r = this.names.get(h.host);
        if (!r) continue;
        address = r.address;
        family = r.family;
      }
      if (g.family !== null && family !== g.family) continue;
      const series = this.ctx.metrics.seriesFor({
        host: h.host, address, family, method: g.method, labels: g.labels, source: g.source, tos: g.tos,
      });
      out.push({ host: h.host, address, family, series });
    }
    this.targets = out;
  }

  private pingOptions(): PingOptions {
    const g = this.group;
    const common = {
      count: this.segmentProbes, interval: g.interval, timeout: g.timeout,
      ttl: g.ttl ?? undefined, tos: g.tos || undefined, source: g.source ?? undefined, probes: false,
    };
    if (g.method === 'tcp') return { ...common, method: 'tcp', port: g.port ?? undefined, tcpMethod: this.tcpMethod === 'tcp-syn' ? 'syn' : 'connect' };
    return { ...common, size: g.size, socket: this.ctx.reserve.mode };
  }

  private segment(): void {
    if (this.stopped) return;
    const startedAt = Date.now();
    const next = (): void => {
      if (this.stopped) return;
      this.segmentTimer = setTimeout(() => this.segment(), Math.max(0, startedAt + this.segmentProbes * this.group.interval - Date.now()));
    };
    const list = this.targets;
    if (list.length === 0) {
      next();
      return;
    }
    void this.runSegment(list).catch((e: unknown) => this.ctx.warn(`probing ${this.group.hostTexts.join(', ')} failed: ${(e as Error).message}`, e));
    next();
  }

  private async runSegment(list: readonly ResolvedTarget[]): Promise<void> {
    const families = new Map<4 | 6, PingSocket>();
    const keys = socketKeysOf(this.group, this.tcpMethod);
    try {
      for (const t of list) {
        if (families.has(t.family)) continue;
        const key = keys.find((k) => k.family === t.family);
        if (!key) throw new Error(`${t.address} is IPv${t.family}, but the group's source ${this.group.source} is not`);
        families.set(t.family, await this.ctx.reserve.acquire(key));
      }
    } catch (e) {
      for (const s of families.values()) s.close();
      throw e;
    }
    if (this.stopped) {
      for (const s of families.values()) s.close();
      return;
    }
    // the run closes (hands back) the sockets it took; the others go back here
    const taken = new Set<PingSocket>();
    const giveBackUntaken = (): void => {
      for (const s of families.values()) if (!taken.has(s)) s.close();
    };
    let run: PingRun;
    try {
      run = startRun(list.map((t) => t.address), this.pingOptions(), this.ctx.reserve.backendWith(families, taken, this.tcpMethod));
    } catch (e) {
      giveBackUntaken();
      throw e;
    }
    this.runs.add(run);
    run.on('event', (e: PingEvent) => {
      // a probe the prober itself cut short (stop, reload) was not lost
      if (e.type === 'timeout' && this.stopping.has(run)) return;
      list[e.index]!.series.onEvent(e);
    });
    try {
      await run.finished;
    } finally {
      this.runs.delete(run);
      giveBackUntaken();
    }
  }
}
