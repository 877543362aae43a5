// The continuous prober's series: per target (never per probe) the native netdiag_* families
// and, with compat 'smokeping', smokeping_prober's exact names and labels over the same numbers.
// A target's series are found by their rendered labels, so a reload that keeps a target keeps
// its counters; retain() drops the series of targets the new config no longer has.

import type { PingEvent } from '../ping/types.js';
import { renderLabels } from './exposition.js';
import { Histogram, MetricRegistry, Sample, type MetricFamily } from './metric-registry.js';
import { RTT_BUCKETS_SECONDS } from './rtt-buckets.js';

/** Distinct ICMP (type, code) pairs counted per target; the rest count under type="other". */
export const MAX_ERROR_KINDS_PER_TARGET = 8;
/** Series one target adds at most (native + compat, error kinds included). */
export const SERIES_PER_TARGET = 10 + MAX_ERROR_KINDS_PER_TARGET + 1 + 5;

export interface TargetIdentity {
  /** the host as the config wrote it (a name, an address, or an address of a CIDR) */
  host: string;
  address: string;
  family: 4 | 6;
  method: string;
  labels: Readonly<Record<string, string>>;
  /** smokeping's labels */
  source: string | null;
  tos: number;
}

/** The numbers of one target, updated from its ping events. */
export class TargetSeries {
  readonly sent: Sample;
  readonly replies: Sample;
  readonly timeouts: Sample;
  readonly duplicates: Sample;
  readonly late: Sample;
  readonly sendErrors: Sample;
  readonly rtt: Histogram;
  readonly ttl: Sample;
  /** tcp targets: answers that were resets (the port is closed); null for icmp */
  readonly closed: Sample | null;
  private readonly errors = new Map<string, Sample>();
  /** set while the prober ends a run itself: probes it cuts short are not timeouts */
  closing = false;

  constructor(private readonly store: ProbeMetrics, readonly key: string, readonly compatKey: string, tcp: boolean) {
    const f = store.native;
    // one copy of the label bytes for all of the target's families
    const b = Buffer.from(key);
    this.sent = f.sent.add(key, undefined, b);
    this.replies = f.replies.add(key, undefined, b);
    this.timeouts = f.timeouts.add(key, undefined, b);
    this.duplicates = f.duplicates.add(key, undefined, b);
    this.late = f.late.add(key, undefined, b);
    this.sendErrors = f.sendErrors.add(key, undefined, b);
    this.rtt = f.rtt.add(key, undefined, b) as Histogram;
    this.ttl = f.ttl.add(key, undefined, b);
    this.ttl.value = NaN;
    this.closed = tcp ? f.closed.add(key, undefined, b) : null;
    const c = store.compat;
    if (c) {
      const cb = Buffer.from(compatKey);
      c.requests.add(compatKey, this.sent, cb);
      c.duration.add(compatKey, this.rtt, cb);
      c.ttl.add(compatKey, this.ttl, cb);
      c.duplicates.add(compatKey, this.duplicates, cb);
      c.sendErrors.add(compatKey, this.sendErrors, cb);
    }
  }

  onEvent(e: PingEvent): void {
    switch (e.type) {
      case 'sent':
        this.sent.value++;
        return;
      case 'reply': {
        const flags = e.reply.flags;
        if (flags.length > 0 && flags.includes('dup')) {
          this.duplicates.value++;
        } else if (flags.length === 0 || !flags.includes('corrupted')) {
          this.replies.value++;
          if (this.closed !== null && e.reply.state === 'closed') this.closed.value++;
          this.rtt.observe(e.reply.rtt / 1000);
          if (e.reply.ttl !== null) this.ttl.value = e.reply.ttl;
        }
        return;
      }
      case 'late':
        this.late.value++;
        return;
      case 'timeout':
        if (!this.closing) this.timeouts.value++;
        return;
      case 'error':
        if (e.error.type === null) this.sendErrors.value++;
        else this.icmpError(e.error.type, e.error.code ?? 0).value++;
        return;
    }
  }

  private icmpError(type: number, code: number): Sample {
    const k = `${type}/${code}`;
    let s = this.errors.get(k);
    if (s === undefined) {
      const other = this.errors.size >= MAX_ERROR_KINDS_PER_TARGET;
      const labels = `${this.key},type="${other ? 'other' : type}",code="${other ? 'other' : code}"`;
      s = this.store.native.icmpErrors.add(labels);
      this.errors.set(other ? 'other' : k, s);
    }
    return s;
  }

  /** Takes this target's series out of the registry. */
  remove(): void {
    const f = this.store.native;
    for (const fam of [f.sent, f.replies, f.timeouts, f.duplicates, f.late, f.sendErrors, f.rtt, f.ttl, f.closed] as MetricFamily[]) fam.remove(this.key);
    for (const k of this.errors.keys()) {
      const [type, code] = k === 'other' ? ['other', 'other'] : k.split('/');
      f.icmpErrors.remove(`${this.key},type="${type}",code="${code}"`);
    }
    const c = this.store.compat;
    if (c) for (const fam of [c.requests, c.duration, c.ttl, c.duplicates, c.sendErrors] as MetricFamily[]) fam.remove(this.compatKey);
  }
}

function nativeFamilies(r: MetricRegistry) {
  return {
    sent: r.family<Sample>('netdiag_probes_sent_total', 'counter', 'Probes sent to the target.'),
    replies: r.family<Sample>('netdiag_probe_replies_total', 'counter', 'Replies received in time (duplicates and late replies not included).'),
    timeouts: r.family<Sample>('netdiag_probe_timeouts_total', 'counter', 'Probes whose timeout expired without a reply.'),
    duplicates: r.family<Sample>('netdiag_probe_duplicates_total', 'counter', 'Duplicate replies.'),
    late: r.family<Sample>('netdiag_probe_late_replies_total', 'counter', 'Replies that came after their probe had timed out.'),
    icmpErrors: r.family<Sample>('netdiag_probe_icmp_errors_total', 'counter', 'ICMP errors about the probes, by ICMP type and code.'),
    sendErrors: r.family<Sample>('netdiag_probe_send_errors_total', 'counter', 'Probes the kernel refused to send.'),
    rtt: r.family<Histogram>('netdiag_probe_rtt_seconds', 'histogram', 'Round-trip times of the replies (kernel timestamps).', RTT_BUCKETS_SECONDS),
    ttl: r.family<Sample>('netdiag_probe_reply_ttl', 'gauge', 'TTL (hop limit) of the last reply; NaN until one came or where the socket cannot tell.'),
    closed: r.family<Sample>('netdiag_probe_tcp_closed_total', 'counter', 'TCP targets: replies that were resets (port closed; counted in the replies too).'),
  };
}

function compatFamilies(r: MetricRegistry) {
  return {
    requests: r.family<Sample>('smokeping_requests_total', 'counter', 'Number of ping requests sent'),
    duration: r.family<Histogram>('smokeping_response_duration_seconds', 'histogram', 'A histogram of latencies for ping responses.', RTT_BUCKETS_SECONDS),
    ttl: r.family<Sample>('smokeping_response_ttl', 'gauge', 'The last response Time To Live (TTL).'),
    duplicates: r.family<Sample>('smokeping_response_duplicates_total', 'counter', 'The number of duplicated response packets.'),
    sendErrors: r.family<Sample>('smokeping_send_errors_total', 'counter', 'The number of errors when Pinger attempts to send packets.'),
    receiveErrors: r.family<Sample>('smokeping_receive_errors_total', 'counter', 'The number of errors when Pinger attempts to receive packets.'),
  };
}

/** Every target's series, in one registry. */
export class ProbeMetrics {
  readonly native: ReturnType<typeof nativeFamilies>;
  readonly compat: ReturnType<typeof compatFamilies> | null;
  private readonly targets = new Map<string, TargetSeries>();
  /** smokeping_prober's label names: its four, then every group label name, sorted */
  private compatLabelNames: string[] = ['host', 'ip', 'source', 'tos'];

  constructor(readonly registry: MetricRegistry, compat: boolean) {
    this.native = nativeFamilies(registry);
    this.compat = compat ? compatFamilies(registry) : null;
    this.compat?.receiveErrors.add('');
  }

  /** Sets the group label names of every compat series (smokeping labels every series with all of them). */
  setLabelNames(names: Iterable<string>): void {
    const extra = [...new Set(names)].filter((n) => !['host', 'ip', 'source', 'tos'].includes(n)).sort();
    const next = ['host', 'ip', 'source', 'tos', ...extra].sort();
    if (next.join() === this.compatLabelNames.join()) return;
    this.compatLabelNames = next;
    // the label set changed: every target's compat series get new keys (as smokeping re-creates its vectors)
    for (const t of [...this.targets.values()]) {
      t.remove();
      this.targets.delete(t.key);
    }
  }

  /** The series of a target, made on first use. */
  seriesFor(id: TargetIdentity): TargetSeries {
    const key = renderLabels([
      ['target', id.host], ['address', id.address], ['family', String(id.family)], ['method', id.method],
      ...Object.keys(id.labels).sort().map((k) => [k, id.labels[k]!] as const),
    ]);
    let t = this.targets.get(key);
    if (t === undefined) {
      const base: Record<string, string> = { host: id.host, ip: id.address, source: id.source ?? '', tos: String(id.tos) };
      const compatKey = renderLabels(this.compatLabelNames.map((n) => [n, base[n] ?? id.labels[n] ?? ''] as const));
      t = new TargetSeries(this, key, compatKey, id.method === 'tcp');
      this.targets.set(key, t);
    }
    return t;
  }

  /** Drops every target's series but those in `keep`. */
  retain(keep: ReadonlySet<TargetSeries>): void {
    for (const t of [...this.targets.values()]) {
      if (keep.has(t)) continue;
      t.remove();
      this.targets.delete(t.key);
    }
  }
}
