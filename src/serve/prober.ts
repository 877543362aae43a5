// createProber(config): the prober as a library object, so a service can mount its metrics on
// its own HTTP server (or hand them to prom-client) and `netdiag serve` is a thin wrapper.
// open() opens the sockets the config needs (a caller drops capabilities right after, as the
// CLI does); start() looks names up and starts probing; reload() checks the new config and
// its sockets before anything changes, so a bad config leaves the running one untouched.
//
// Events: 'start', 'stop', 'reload' (the new config), 'reload-failed' (the error),
// 'warning' (message, cause) for what the prober lives with (a name that does not resolve).

import { EventEmitter } from 'node:events';
import { systemPingBackend } from '../ping/system-backend.js';
import type { PingBackend } from '../ping/backend.js';
import type { IcmpSocketKind } from '../ping/types.js';
import { AllowList } from './allow-list.js';
import type { ChunkPool } from './chunk-pool.js';
import { ConfigError } from './config-error.js';
import { isCheckedConfig, parseConfigObject, type ServeConfig } from './config.js';
import { exposeChunks, exposeText, type ExpositionFormat } from './exposition.js';
import { GroupRunner, socketKeysOf } from './group-runner.js';
import { DEFAULT_MAX_SERIES, MetricRegistry, SeriesLimitError, type Sample } from './metric-registry.js';
import { runProbe, type ProbeAnswer, type ProbeRequest } from './probe-endpoint.js';
import { SocketReserve, type SocketKey } from './socket-reserve.js';
import { ProbeMetrics, SERIES_PER_TARGET, type TargetSeries } from './target-metrics.js';

export interface ProberOptions {
  /** also export smokeping_prober's names and labels */
  compat?: 'smokeping' | null;
  /** ICMP socket kind (default auto: raw with CAP_NET_RAW, else ping sockets) */
  socket?: IcmpSocketKind | 'auto';
  /** cap on the number of series (default 2,000,000) */
  maxSeries?: number;
  /** most /probe requests at once; more are answered 503 (default 64) */
  maxConcurrentProbes?: number;
  /** tests: a ping backend of their own (fakes) */
  backend?: PingBackend;
}

export interface Prober extends EventEmitter {
  readonly config: ServeConfig;
  /** the ICMP socket kind in use, once open */
  readonly socketMode: IcmpSocketKind | null;
  /** true from start() until stop() */
  readonly running: boolean;
  /** Opens the sockets the config needs (start() does it too); drop capabilities after it. */
  open(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Switches to a new config (an object in the file's shape, a checked one, or a function
   * returning one, e.g. reading a file); rejects and keeps the old one when it is bad.
   */
  reload(config: unknown): Promise<void>;
  /** The exposition text of every series (text 0.0.4 by default). */
  metrics(format?: ExpositionFormat): string;
  /** As metrics(), in chunks of UTF-8 (a page of 10,000 targets is tens of megabytes). */
  writeMetrics(format: ExpositionFormat, write: (chunk: Buffer) => void): void;
  /**
   * As writeMetrics, chunks made as they are taken (a writer waiting for its client holds one
   * or two); from `chunks` when given, for a writer that hands them back once written.
   */
  metricChunks(format: ExpositionFormat, chunks?: ChunkPool): Iterable<Buffer>;
  /** A blackbox-style probe: /probe's answer (status and body). */
  probe(request: ProbeRequest, format?: ExpositionFormat): Promise<ProbeAnswer>;
}

/** How many of each socket kind the continuous groups and /probe start with. */
const SOCKETS_PER_GROUP_KIND = 2;
const SOCKETS_PER_PROBE_KIND = 2;

class ProberImpl extends EventEmitter implements Prober {
  config: ServeConfig;
  private reserve: SocketReserve | null = null;
  private readonly registry: MetricRegistry;
  private readonly own = new MetricRegistry(100);
  private readonly metricsStore: ProbeMetrics;
  private runners: GroupRunner[] = [];
  private allow: AllowList;
  private started = false;
  private probesInFlight = 0;
  private readonly probeAbort = new AbortController();
  private readonly backend: PingBackend;
  private readonly selfGauges: Record<'mode' | 'targets' | 'series' | 'seriesLimit' | 'reloadOk' | 'reloadTime', Sample>;
  private readonly maxConcurrentProbes: number;

  constructor(config: unknown, private readonly options: ProberOptions) {
    super();
    this.config = checkConfig(config);
    this.backend = options.backend ?? systemPingBackend();
    this.registry = new MetricRegistry(options.maxSeries ?? DEFAULT_MAX_SERIES);
    this.metricsStore = new ProbeMetrics(this.registry, options.compat === 'smokeping');
    this.allow = new AllowList(this.config.probe.allow);
    this.maxConcurrentProbes = options.maxConcurrentProbes ?? 64;
    checkSeriesBound(this.config, this.registry.maxSeries);
    const o = this.own;
    const g = (name: string, help: string, labels = ''): Sample => o.family<Sample>(name, 'gauge', help).add(labels);
    this.selfGauges = {
      mode: o.family<Sample>('netdiag_socket_mode', 'gauge', 'The ICMP socket kind in use (1 on the series of that mode).').add('mode="none"'),
      targets: g('netdiag_targets', 'Targets probed continuously now (names that resolved, addresses).'),
      series: g('netdiag_series', 'Metric series of the probed targets now.'),
      seriesLimit: g('netdiag_series_limit', 'Most series the prober will hold; a config that needs more is refused.'),
      reloadOk: g('netdiag_config_last_reload_successful', 'Whether the last configuration load succeeded.'),
      reloadTime: g('netdiag_config_last_reload_success_timestamp_seconds', 'Time of the last successful configuration load.'),
    };
    this.selfGauges.seriesLimit.value = this.registry.maxSeries;
    this.markLoaded();
  }

  get socketMode(): IcmpSocketKind | null {
    return this.reserve?.mode ?? null;
  }

  get running(): boolean {
    return this.started;
  }

  open(): void {
    if (this.reserve) return;
    const wantsDgram = this.config.targets.length > 0 && this.config.targets.every((g) => g.socket === 'dgram');
    const reserve = new SocketReserve(this.options.socket ?? (wantsDgram ? 'dgram' : 'auto'), this.backend);
    this.reserve = reserve;
    try {
      this.prepareSockets(this.socketKeys(this.config));
    } catch (e) {
      this.reserve = null;
      reserve.close();
      throw e;
    }
    const modeFamily = this.own.families.find((f) => f.name === 'netdiag_socket_mode')!;
    modeFamily.clear();
    (modeFamily.add(`mode="${reserve.mode}"`) as Sample).value = 1;
  }

  /**
   * Opens the sockets; one only names or /probe might need (IPv6 on a host without it) may
   * fail with a warning: a target that then needs it is reported when its round fails.
   */
  private prepareSockets(wanted: Array<{ key: SocketKey; count: number; required: boolean }>): void {
    for (const { key, count, required } of wanted) {
      try {
        this.reserve!.prepare(key, count);
      } catch (e) {
        if (required) throw e;
        this.emit('warning', `no IPv${key.family} socket${key.source ? ` bound to ${key.source}` : ''} could be opened (${(e as Error).message}); IPv${key.family} targets of names and /probe will fail`, e);
      }
    }
  }

  /** The socket kinds (and how many of each) a config needs; required: a configured address needs it. The reserve must exist. */
  private socketKeys(config: ServeConfig): Array<{ key: SocketKey; count: number; required: boolean }> {
    const out = new Map<string, { key: SocketKey; count: number; required: boolean }>();
    const add = (key: SocketKey, count: number, required: boolean): void => {
      const k = JSON.stringify(key);
      const have = out.get(k);
      if (have) {
        have.count += count;
        have.required ||= required;
      } else {
        out.set(k, { key, count, required });
      }
    };
    const reserve = this.reserve!;
    for (const g of config.targets) {
      const addressed = new Set(g.hosts.flatMap((h) => (h.kind === 'address' ? [h.family] : g.family !== null ? [g.family] : [])));
      for (const key of socketKeysOf(g, g.method === 'tcp' ? reserve.tcpMethod(g.tcpMethod) : undefined)) add(key, SOCKETS_PER_GROUP_KIND, addressed.has(key.family));
    }
    if (config.probe.allow.length > 0) {
      for (const m of Object.values(config.probe.modules)) {
        for (const family of m.family === null ? [4, 6] as const : [m.family]) {
          if (m.source !== null && (m.source.includes(':') ? 6 : 4) !== family) continue;
          const tcp = m.method === 'tcp' ? { method: reserve.tcpMethod(m.tcpMethod), port: m.port ?? undefined } : {};
          add({ family, ttl: m.ttl ?? undefined, tos: m.tos || undefined, source: m.source ?? undefined, ...tcp }, SOCKETS_PER_PROBE_KIND, m.family !== null);
        }
      }
    }
    return [...out.values()];
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.open();
    this.started = true;
    this.runners = this.makeRunners(this.config);
    await Promise.all(this.runners.map((r) => r.start()));
    this.retainSeries();
    this.emit('start');
  }

  async stop(): Promise<void> {
    if (!this.started) {
      this.reserve?.close();
      return;
    }
    this.started = false;
    this.probeAbort.abort(new Error('the prober is stopping'));
    await Promise.all(this.runners.map((r) => r.stop()));
    this.runners = [];
    this.reserve?.close();
    this.emit('stop');
  }

  async reload(next: unknown): Promise<void> {
    let config: ServeConfig;
    try {
      config = checkConfig(typeof next === 'function' ? (next as () => unknown)() : next);
      checkSeriesBound(config, this.registry.maxSeries);
      if (this.reserve) {
        const wanted = this.socketKeys(config);
        // every socket kind the new config needs must open now (after the capability drop a
        // raw socket may not): refuse the config rather than half-apply it
        for (const { key, count, required } of wanted) {
          try {
            this.reserve.prepare(key, count);
          } catch (e) {
            if (!required) continue;
            throw new ConfigError(`needs an IPv${key.family} socket${key.source ? ` bound to ${key.source}` : ''}${key.ttl ? ` with ttl ${key.ttl}` : ''}${key.tos ? ` with tos ${key.tos}` : ''} that cannot be opened now (${(e as Error).message}); restart netdiag serve to use it`);
          }
        }
      }
    } catch (e) {
      this.selfGauges.reloadOk.value = 0;
      this.emit('reload-failed', e);
      throw e;
    }
    const old = this.runners;
    this.config = config;
    this.allow = new AllowList(config.probe.allow);
    this.metricsStore.setLabelNames(config.targets.flatMap((g) => Object.keys(g.labels)));
    if (this.started) {
      await Promise.all(old.map((r) => r.stop()));
      this.runners = this.makeRunners(config);
      await Promise.all(this.runners.map((r) => r.start()));
      this.retainSeries();
    }
    this.markLoaded();
    this.emit('reload', config);
  }

  private markLoaded(): void {
    this.selfGauges.reloadOk.value = 1;
    this.selfGauges.reloadTime.value = Math.floor(Date.now() / 1000);
    this.metricsStore.setLabelNames(this.config.targets.flatMap((g) => Object.keys(g.labels)));
  }

  private makeRunners(config: ServeConfig): GroupRunner[] {
    const reserve = this.reserve!;
    return config.targets.map((g) => new GroupRunner(g, {
      reserve,
      metrics: this.metricsStore,
      resolve: this.backend.resolveTarget.bind(this.backend),
      warn: (message, cause) => this.emit('warning', message, cause),
      changed: () => this.retainSeries(),
    }));
  }

  private retainSeries(): void {
    const keep = new Set<TargetSeries>();
    let targets = 0;
    for (const r of this.runners) {
      for (const t of r.current) keep.add(t.series);
      targets += r.current.length;
    }
    this.metricsStore.retain(keep);
    this.selfGauges.targets.value = targets;
  }

  metrics(format: ExpositionFormat = 'text'): string {
    const parts: Buffer[] = [];
    this.writeMetrics(format, (b) => parts.push(b));
    return Buffer.concat(parts).toString();
  }

  writeMetrics(format: ExpositionFormat, write: (chunk: Buffer) => void): void {
    for (const c of this.metricChunks(format)) write(c);
  }

  metricChunks(format: ExpositionFormat, chunks?: ChunkPool): Iterable<Buffer> {
    this.selfGauges.series.value = this.registry.size;
    return exposeChunks([this.own, this.registry], format, chunks);
  }

  async probe(request: ProbeRequest, format: ExpositionFormat = 'text'): Promise<ProbeAnswer> {
    if (!this.reserve) return { status: 503, body: 'the prober has not started\n' };
    if (this.probesInFlight >= this.maxConcurrentProbes) {
      return { status: 503, body: `more than ${this.maxConcurrentProbes} probes at once; try again\n` };
    }
    this.probesInFlight++;
    try {
      return await runProbe(request, {
        modules: this.config.probe.modules, allow: this.allow, reserve: this.reserve,
        resolve: this.backend.resolveTarget.bind(this.backend), signal: this.probeAbort.signal,
      }, format);
    } finally {
      this.probesInFlight--;
    }
  }
}

function checkConfig(config: unknown): ServeConfig {
  return isCheckedConfig(config) ? config : parseConfigObject(config);
}

/** Refuses a config whose targets could need more series than the cap. */
function checkSeriesBound(config: ServeConfig, maxSeries: number): void {
  const targets = config.targets.reduce((n, g) => n + g.hosts.length, 0);
  if (targets * SERIES_PER_TARGET > maxSeries) {
    throw new ConfigError(`${targets} targets may need ${targets * SERIES_PER_TARGET} series, more than the limit of ${maxSeries}`);
  }
}

/** A prober for `config` (an object in the config file's shape, or loadConfigFile's result). */
export function createProber(config: unknown, options: ProberOptions = {}): Prober {
  return new ProberImpl(config, options);
}

export { SeriesLimitError, exposeText };
