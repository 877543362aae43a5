// The Multipath Detection Algorithm, hop by hop. At TTL h, every interface v found before h
// (the source for the first TTL) gets probes at h with flows known to reach v, until the
// stopping rule rules out one more next hop than it found (stopping-rule.ts). When v lacks such
// flows, new flows are sent to v's own TTL first (MDA's node control) and the ones that land on
// v are used; the only interface at h-1 needs no such check (every flow passes it). Flows that
// went unanswered at h-1 keep their last answering interface, so a silent hop is crossed with a
// link that spans it; node control for such an interface walks its new flows across the silent
// TTLs one round at a time. Silence where others answer is asked again once (a lost answer
// would otherwise draw a false link across the TTL). Every interface with two or more next hops
// is then probed again with one flow: a different next hop for the same flow is per-packet
// balancing, not per-flow ECMP. Rounds run in parallel through the probe pool.
import { confidenceAfter, probesToRuleOut } from './stopping-rule.js';
import { MultipathGraph, SOURCE, type Vertex } from './graph.js';
import type { PoolAnswer } from './probe-pool.js';

export type Prober = (ttl: number, flow: number) => Promise<PoolAnswer | null>;

export interface DiscoveryConfig {
  firstTtl: number;
  maxTtl: number;
  /** fraction in (0, 1) */
  confidence: number;
  /** flow identifiers 0 … flowLimit - 1 are available */
  flowLimit: number;
  /** silent TTLs in a row after which a branch is given up (traceroute would go on; MDA cannot tell where) */
  gapLimit: number;
}

/** New flows node control may spend on one interface at one TTL, as a multiple of its stopping-rule count. */
const CONTROL_FACTOR = 8;
/** Rounds at one TTL before giving up on what is still short (each round waits for its answers). */
const MAX_ROUNDS = 64;

interface TtlState {
  /** probes sent from the vertex at this TTL */
  sent: number;
  /** next hops found at this TTL (answers; silences are not next hops) */
  found: Set<string>;
  controlSent: number;
  exhausted: boolean;
}

export class MultipathDiscovery {
  readonly graph: MultipathGraph;
  /** per flow, per TTL: the vertex that answered, null for silence */
  private readonly seen = new Map<number, Map<number, string | null>>();
  private nextFlow = 0;
  /** per vertex: the next hops and probes of the TTL that decided them (for its confidence) */
  private readonly decided = new Map<string, { k: number; n: number }>();

  constructor(private readonly config: DiscoveryConfig, private readonly probe: Prober, private readonly stopped: () => boolean) {
    this.graph = new MultipathGraph(config.firstTtl);
  }

  get flowsUsed(): number {
    return this.nextFlow;
  }

  async run(): Promise<void> {
    for (let h = this.config.firstTtl; h <= this.config.maxTtl && !this.stopped(); h++) {
      const vertices = await this.enumerate(h);
      if (vertices.length === 0) break;
      await this.checkPerPacket(h, vertices);
    }
  }

  /** Lowest confidence (fraction) any non-final vertex reached for its next hops; 1 when none was probed. */
  confidenceReached(): number {
    let least = 1;
    for (const { k, n } of this.decided.values()) least = Math.min(least, confidenceAfter(k, n));
    return least;
  }

  /** The confidence (fraction) of one vertex's next hops, or null when it was never probed past. */
  vertexConfidence(key: string): number | null {
    const d = this.decided.get(key);
    return d ? confidenceAfter(d.k, d.n) : null;
  }

  private freshFlow(): number | null {
    return this.nextFlow < this.config.flowLimit ? this.nextFlow++ : null;
  }

  /**
   * Where a probe of `flow` at TTL h comes from: the last vertex it answered from before h
   * (silences in between), SOURCE when it was silent all along, or null when that is unknown,
   * the flow ended (final answer) or was silent for more than gapLimit TTLs.
   */
  private positionOf(flow: number, h: number): string | null {
    const hist = this.seen.get(flow);
    if (!hist) return h === this.config.firstTtl ? SOURCE : null;
    for (let t = h - 1; t >= this.config.firstTtl; t--) {
      if (h - 1 - t >= this.config.gapLimit) return null;
      const at = hist.get(t);
      if (at === undefined) return null;
      if (at !== null) return this.graph.vertex(at).final ? null : at;
    }
    return SOURCE;
  }

  private record(flow: number, ttl: number, key: string | null): void {
    let hist = this.seen.get(flow);
    if (!hist) {
      hist = new Map();
      this.seen.set(flow, hist);
    }
    if (!hist.has(ttl) || hist.get(ttl) === null) hist.set(ttl, key);
  }

  private async probeAt(ttl: number, flow: number): Promise<string | null> {
    let a = await this.probe(ttl, flow);
    // Silence where others answer at this TTL is more likely a lost answer than a silent
    // router, and recorded it would draw a false link across the TTL: ask once more.
    if (!a && this.answeredAt(ttl) && !this.stopped()) a = await this.probe(ttl, flow);
    const key = a ? this.graph.answered(ttl, a.reply, a.rtt) : null;
    this.record(flow, ttl, key);
    if (key !== null) this.linkFromSole(flow, ttl, key);
    return key;
  }

  /**
   * A flow first probed at `ttl` (node control sends new flows straight to their TTL) passed the
   * one interface of ttl-1, when there is only one: link it, or the interface it found would
   * start a path of its own with an unknown first hop.
   */
  private linkFromSole(flow: number, ttl: number, key: string): void {
    if (ttl <= this.config.firstTtl || this.seen.get(flow)?.has(ttl - 1)) return;
    const sole = this.soleAt(ttl - 1);
    if (sole === null) return;
    this.record(flow, ttl - 1, sole);
    this.graph.link(sole, key, flow);
  }

  /** The first TTL before h a flow has not been probed at, right after one it has; null when it is known up to h-1 or ended. */
  private firstUnknown(flow: number, h: number): number | null {
    const hist = this.seen.get(flow);
    if (!hist) return null;
    for (let t = this.config.firstTtl + 1; t < h; t++) {
      if (hist.has(t)) continue;
      const before = hist.get(t - 1);
      if (before === undefined) return null;
      if (before !== null && this.graph.vertex(before).final) return null;
      return t;
    }
    return null;
  }

  /** Of the flows that answered from `key`, the share silent at the next TTL (how many new ones cross the gap). */
  private silentShareAfter(key: string): number {
    const ttl = this.graph.vertex(key).ttl;
    let probed = 0;
    let silent = 0;
    for (const hist of this.seen.values()) {
      if (hist.get(ttl) !== key || !hist.has(ttl + 1)) continue;
      probed++;
      if (hist.get(ttl + 1) === null) silent++;
    }
    return probed === 0 || silent === 0 ? 1 / 4 : silent / probed;
  }

  /** The vertex every flow probed at `ttl` answered from, if there is exactly one and no flow went unanswered there. */
  private soleAt(ttl: number): string | null {
    let sole: string | null = null;
    for (const hist of this.seen.values()) {
      const at = hist.get(ttl);
      if (at === undefined) continue;
      if (at === null || (sole !== null && at !== sole)) return null;
      sole = at;
    }
    return sole;
  }

  private answeredAt(ttl: number): boolean {
    for (const v of this.graph.vertices.values()) if (v.ttl === ttl && v.address !== null) return true;
    return false;
  }

  /** Finds the next hops at TTL h of every vertex flows stand at; returns those vertices. */
  private async enumerate(h: number): Promise<Vertex[]> {
    const states = new Map<string, TtlState>();
    const state = (key: string): TtlState => {
      let s = states.get(key);
      if (!s) {
        s = { sent: 0, found: new Set(), controlSent: 0, exhausted: false };
        states.set(key, s);
      }
      return s;
    };
    /** new flows walked forward over silent TTLs, one TTL a round, towards a vertex before them */
    const filling = new Set<number>();
    for (let round = 0; round < MAX_ROUNDS && !this.stopped(); round++) {
      const tasks: Promise<unknown>[] = [];
      for (const f of filling) {
        const t = this.firstUnknown(f, h);
        if (t === null) filling.delete(f);
        else tasks.push(this.probeAt(t, f));
      }
      const waiting = new Map<string, number[]>();
      const present = new Set<string>();
      if (h === this.config.firstTtl) present.add(SOURCE);
      for (const [flow, hist] of this.seen) {
        const pos = this.positionOf(flow, h);
        if (pos === null) continue;
        present.add(pos);
        if (hist.has(h)) continue;
        const list = waiting.get(pos);
        if (list) list.push(flow);
        else waiting.set(pos, [flow]);
      }
      for (const key of present) {
        const v = this.graph.vertex(key);
        const st = state(key);
        if (st.exhausted) continue;
        const target = probesToRuleOut(st.found.size, this.config.confidence);
        const deficit = target - st.sent;
        if (deficit <= 0) continue;
        const flows = (waiting.get(key) ?? []).slice(0, deficit);
        if (key === SOURCE) {
          // every new flow starts at the source
          while (flows.length < deficit) {
            const f = this.freshFlow();
            if (f === null) break;
            flows.push(f);
          }
        }
        for (const f of flows) {
          st.sent++;
          tasks.push(this.probeAt(h, f).then((next) => {
            if (next === null) return;
            st.found.add(next);
            this.graph.link(key, next, f);
          }));
        }
        let short = deficit - flows.length;
        if (short > 0 && key !== SOURCE && v.ttl === h - 1 && this.soleAt(h - 1) === key) {
          // the only interface at h-1 (a second was ruled out there): every new flow passes it,
          // so no node control is needed (as MDA-Lite does on hops without a balancer)
          for (; short > 0; short--) {
            const f = this.freshFlow();
            if (f === null) break;
            this.record(f, h - 1, key);
            st.sent++;
            tasks.push(this.probeAt(h, f).then((next) => {
              if (next === null) return;
              st.found.add(next);
              this.graph.link(key, next, f);
            }));
          }
        }
        if (short <= 0) continue;
        const budget = CONTROL_FACTOR * target - st.controlSent;
        if (key !== SOURCE && budget > 0 && this.nextFlow < this.config.flowLimit) {
          // node control: new flows to v's TTL; those that land on v can be used next round.
          // Past silent TTLs they walk on to h-1 first (filling), and only the silent ones come.
          const gapped = v.ttl < h - 1;
          const n = Math.min(Math.ceil(short / (this.shareOf(key) * (gapped ? this.silentShareAfter(key) : 1))), budget);
          const sole = this.soleAt(v.ttl) === key;
          for (let i = 0; i < n; i++) {
            const f = this.freshFlow();
            if (f === null) break;
            st.controlSent++;
            if (sole) this.record(f, v.ttl, key);
            else tasks.push(this.probeAt(v.ttl, f));
            if (gapped) filling.add(f);
          }
        } else if (flows.length === 0 && filling.size === 0) {
          st.exhausted = true;
        }
      }
      if (tasks.length === 0) break;
      await Promise.all(tasks);
      // a TTL where nothing answers (a silent router on every branch, a silent destination)
      // has no next hops to find: more rounds would each cost a full wait
      if (!this.answeredAt(h)) break;
    }
    const vertices: Vertex[] = [];
    for (const [key, st] of states) {
      if (st.sent === 0) continue;
      const v = this.graph.vertex(key);
      v.probes += st.sent;
      // a vertex crossing silent TTLs is decided at the TTL where its next hops answer
      if (st.found.size > 0 || !this.decided.has(key)) this.decided.set(key, { k: st.found.size, n: st.sent });
      vertices.push(v);
    }
    return vertices;
  }

  /** Of the flows answered at v's TTL, the share that landed on v (how many new flows reach it). */
  private shareOf(key: string): number {
    const ttl = this.graph.vertex(key).ttl;
    let answered = 0;
    let here = 0;
    for (const hist of this.seen.values()) {
      const at = hist.get(ttl);
      if (at === undefined || at === null) continue;
      answered++;
      if (at === key) here++;
    }
    return answered === 0 || here === 0 ? 1 / 4 : here / answered;
  }

  /**
   * Sends one flow of each branching vertex again, as many times as the stopping rule needs to
   * rule out a second next hop: per-flow balancing keeps it on one next hop, per-packet does not.
   */
  private async checkPerPacket(h: number, vertices: readonly Vertex[]): Promise<void> {
    const repeats = probesToRuleOut(1, this.config.confidence) - 1;
    const tasks: Promise<unknown>[] = [];
    for (const v of vertices) {
      const next = [...v.successors].filter((s) => this.graph.vertex(s).ttl === h);
      if (next.length < 2) continue;
      const flow = this.flowThrough(v.key, h);
      if (flow === null) continue;
      const first = this.seen.get(flow)!.get(h)!;
      for (let i = 0; i < repeats; i++) {
        v.probes++;
        tasks.push(this.probe(h, flow).then((a) => {
          if (!a) return;
          const key = this.graph.answered(h, a.reply, a.rtt);
          if (key !== first) {
            v.perPacket = true;
            this.graph.link(v.key, key, flow);
          }
        }));
      }
    }
    await Promise.all(tasks);
  }

  /** A flow that stood at `key` before h and answered at h. */
  private flowThrough(key: string, h: number): number | null {
    for (const [flow, hist] of this.seen) {
      const at = hist.get(h);
      if (at !== undefined && at !== null && this.positionOf(flow, h) === key) return flow;
    }
    return null;
  }
}
