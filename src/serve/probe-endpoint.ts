// One blackbox-style probe (/probe?target=&module=[&count=]): the allow-list first, then a
// PingRun of `count` echoes within the scrape's time budget, answered with blackbox_exporter's
// names (probe_success, probe_duration_seconds, probe_icmp_duration_seconds{phase},
// probe_icmp_reply_hop_limit, probe_ip_protocol) plus netdiag's count, loss and RTT figures (probe_icmp_packets_sent, _received,
// probe_icmp_loss_ratio, probe_icmp_rtt_seconds{stat}).

import { isIP } from 'node:net';
import { startRun } from '../ping/api.js';
import type { PingBackend, PingSocket } from '../ping/backend.js';
import type { PingEvent, PingOptions } from '../ping/types.js';
import { hostProblem } from '../target/index.js';
import type { AllowList } from './allow-list.js';
import { MAX_PROBE_COUNT, type ProbeModule } from './config.js';
import { exposeText, renderLabels, type ExpositionFormat } from './exposition.js';
import { MetricRegistry, type Sample } from './metric-registry.js';
import type { SocketReserve } from './socket-reserve.js';

/** blackbox_exporter's default: the answer must be in before Prometheus gives up. */
const SCRAPE_TIMEOUT_OFFSET_MS = 500;

export interface ProbeRequest {
  target: string | null;
  module: string | null;
  count: string | null;
  /** X-Prometheus-Scrape-Timeout-Seconds, if sent */
  scrapeTimeout: string | null;
}

export interface ProbeAnswer {
  status: number;
  /** exposition text (200), or the reason (4xx/5xx) */
  body: string;
}

export interface ProbeContext {
  modules: Readonly<Record<string, ProbeModule>>;
  allow: AllowList;
  reserve: SocketReserve;
  resolve: PingBackend['resolveTarget'];
  signal?: AbortSignal;
}

/** Checks the request; null when it may run, else the answer refusing it. */
export function refuseProbe(req: ProbeRequest, ctx: ProbeContext): ProbeAnswer | null {
  if (!req.target) return { status: 400, body: 'the target parameter is missing (e.g. /probe?target=127.0.0.1&module=icmp)\n' };
  const problem = hostProblem(req.target);
  if (problem !== null) return { status: 400, body: `the target ${problem.problem} (${problem.fix})\n` };
  const name = req.module ?? Object.keys(ctx.modules)[0] ?? '';
  if (!Object.hasOwn(ctx.modules, name)) return { status: 400, body: `unknown module '${name}' (the config has: ${Object.keys(ctx.modules).join(', ') || 'none'})\n` };
  if (req.count !== null && !(/^\d{1,3}$/.test(req.count) && +req.count >= 1 && +req.count <= MAX_PROBE_COUNT)) {
    return { status: 400, body: `count must be a whole number from 1 to ${MAX_PROBE_COUNT}\n` };
  }
  const refusal = ctx.allow.refusal(req.target);
  if (refusal !== null) return { status: 403, body: `${refusal}\n` };
  return null;
}

/** Runs an allowed probe and renders its metrics. */
export async function runProbe(req: ProbeRequest, ctx: ProbeContext, format: ExpositionFormat): Promise<ProbeAnswer> {
  const refused = refuseProbe(req, ctx);
  if (refused) return refused;
  const target = req.target!;
  const module = ctx.modules[req.module ?? Object.keys(ctx.modules)[0]!]!;
  const count = req.count === null ? module.count : Number(req.count);
  let budget = module.timeout;
  const scrape = req.scrapeTimeout === null ? NaN : Number(req.scrapeTimeout);
  if (Number.isFinite(scrape) && scrape > 0) budget = Math.min(budget, Math.max(scrape * 1000 - SCRAPE_TIMEOUT_OFFSET_MS, 100));

  const started = performance.now();
  const r = new MetricRegistry(1000);
  const gauge = (name: string, help: string): ((v: number, labels?: string) => void) => {
    const f = r.family<Sample>(name, 'gauge', help);
    return (v, labels = '') => void (f.add(labels).value = v);
  };
  const success = gauge('probe_success', 'Displays whether or not the probe was a success');
  const duration = gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds');
  const phase = gauge('probe_icmp_duration_seconds', 'Duration of icmp request by phase');
  const hopLimit = gauge('probe_icmp_reply_hop_limit', 'Replied packet hop limit (TTL for ipv4)');
  const protocol = gauge('probe_ip_protocol', 'Specifies whether probe ip protocol is IP4 or IP6');
  const sent = gauge('probe_icmp_packets_sent', 'Echo requests this probe sent (netdiag)');
  const received = gauge('probe_icmp_packets_received', 'Echo replies this probe received in time (netdiag)');
  const loss = gauge('probe_icmp_loss_ratio', 'Share of the echo requests (0 to 1) that got no reply in time (netdiag)');
  const rtt = gauge('probe_icmp_rtt_seconds', 'Round-trip times of this probe\'s replies by statistic (netdiag)');
  const finish = (ok: boolean): ProbeAnswer => {
    success(ok ? 1 : 0);
    duration((performance.now() - started) / 1000);
    return { status: 200, body: exposeText([r], format) };
  };

  // resolve (a listed name), as blackbox does, timed as its own phase
  let address = target;
  let family = isIP(target) as 0 | 4 | 6;
  const resolveStart = performance.now();
  if (family === 0) {
    try {
      const a = await ctx.resolve(target, module.family ?? undefined);
      address = a.address;
      family = a.family;
    } catch {
      phase((performance.now() - resolveStart) / 1000, renderLabels([['phase', 'resolve']]));
      return finish(false);
    }
  }
  phase((performance.now() - resolveStart) / 1000, renderLabels([['phase', 'resolve']]));
  protocol(family);
  if (module.family !== null && family !== module.family) return finish(false);

  const setupStart = performance.now();
  const budgetSignal = AbortSignal.timeout(Math.max(1, Math.round(budget - (performance.now() - started))));
  const signal = ctx.signal ? AbortSignal.any([budgetSignal, ctx.signal]) : budgetSignal;
  const tcpMethod = module.method === 'tcp' ? ctx.reserve.tcpMethod(module.tcpMethod) : undefined;
  let socket: PingSocket;
  try {
    const tcp = tcpMethod ? { method: tcpMethod, port: module.port ?? undefined } : {};
    socket = await ctx.reserve.acquire({ family: family as 4 | 6, ttl: module.ttl ?? undefined, tos: module.tos || undefined, source: module.source ?? undefined, ...tcp }, signal);
  } catch {
    return finish(false);
  }
  const taken = new Set<PingSocket>();
  let firstSend = -1;
  let lastTtl: number | null = null;
  // tcp: a probe succeeds on an open port only (a reset answers, but says the service is down)
  let open = 0;
  try {
    const interval = count > 1 ? Math.max(1, Math.min(module.interval, budget / (count + 1))) : module.interval;
    const common = {
      count, interval, timeout: Math.min(module.timeout, budget), ttl: module.ttl ?? undefined,
      tos: module.tos || undefined, source: module.source ?? undefined, probes: false, signal,
    };
    const options: PingOptions = tcpMethod
      ? { ...common, method: 'tcp', port: module.port ?? undefined, tcpMethod: tcpMethod === 'tcp-syn' ? 'syn' : 'connect' }
      : { ...common, size: module.size, socket: ctx.reserve.mode };
    const run = startRun([address], options, ctx.reserve.backendWith(new Map([[family as 4 | 6, socket]]), taken, tcpMethod));
    run.on('event', (e: PingEvent) => {
      if (e.type === 'sent' && firstSend < 0) firstSend = performance.now();
      if (e.type === 'reply' && !e.reply.flags.includes('dup')) {
        if (e.reply.ttl !== null) lastTtl = e.reply.ttl;
        if (e.reply.state === 'open') open++;
      }
    });
    const doc = await run.result;
    const t = doc.targets[0]!;
    phase(((firstSend >= 0 ? firstSend : performance.now()) - setupStart) / 1000, renderLabels([['phase', 'setup']]));
    phase(t.rtt ? t.rtt.avg / 1000 : 0, renderLabels([['phase', 'rtt']]));
    if (lastTtl !== null) hopLimit(lastTtl);
    sent(t.transmitted);
    received(t.received);
    loss(t.transmitted > 0 ? (t.transmitted - t.received) / t.transmitted : 1);
    if (t.rtt) {
      for (const [stat, v] of [['min', t.rtt.min], ['avg', t.rtt.avg], ['max', t.rtt.max], ['stddev', t.rtt.stddev]] as const) {
        rtt(v / 1000, renderLabels([['stat', stat]]));
      }
    }
    return finish(tcpMethod ? open > 0 : t.received > 0);
  } catch {
    return finish(false);
  } finally {
    if (!taken.has(socket)) socket.close();
  }
}
