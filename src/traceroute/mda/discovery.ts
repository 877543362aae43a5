// The Multipath Detection Algorithm, hop by hop. At TTL h, every interface v found before h
// (the source for the first TTL) gets probes at h with flows known to reach v, until the
// stopping rule rules out one more next hop than it found (stopping-rule.ts). When v lacks such
// flows, new flows are sent to v's own TTL first (MDA's node control) and the ones that land on
// v are used; the only interface at h-1 needs no such check (every flow passes it). Flows that
// went unanswered at h-1 keep their last answering interface, so a silent hop is crossed with a
// link that spans it; node control for such an interface walks its new flows across the silent
// TTLs one round at a time. Silence where others answer is asked again at once, and once more
// before the flow goes past it (a lost answer would otherwise draw a false link across the
// TTL). Every interface with two or more next hops is then probed again with one flow: a
// different next hop for the same flow is per-packet balancing, not per-flow ECMP. A next hop
// an interface's rule missed, found later, has it probed again up to the rule for what it has
// now. Rounds run in parallel through the probe pool.
import { confidenceAfter, perPacketRepeats, probesToRuleOut } from './stopping-rule.js';
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
  /** 'lite': MDA-Lite's hop-level probing where a hop pair is unmeshed and uniform; 'full': the per-vertex MDA everywhere */
  algorithm: MultipathAlgorithm;
  /** the source has one next hop (its routing table says so): one probe at the first TTL */
  firstHopSingle: boolean;
  /** uniform in [0, 1): the order flows are sent in (Math.random; tests pass a seeded one) */
  random: () => number;
}

function shuffle<T>(list: T[], random: () => number): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
}

/**
 * Up to `limit` of the flows the vertices hold: one of each vertex in turn while it wants more
 * (its lists are in shuffled order already), then the others in one shuffled order.
 */
export function heldInTurn(
  vertices: ReadonlyArray<{ key: string; flows: readonly number[]; want: number }>, limit: number, random: () => number,
): Array<{ key: string; flow: number }> {
  const out: Array<{ key: string; flow: number }> = [];
  const next = vertices.map(() => 0);
  for (let progress = true; progress && out.length < limit;) {
    progress = false;
    vertices.forEach((v, i) => {
      if (out.length >= limit || next[i]! >= v.flows.length || next[i]! >= v.want) return;
      out.push({ key: v.key, flow: v.flows[next[i]!]! });
      next[i]!++;
      progress = true;
    });
  }
  const rest = vertices.flatMap((v, i) => v.flows.slice(next[i]).map((flow) => ({ key: v.key, flow })));
  shuffle(rest, random);
  return out.concat(rest.slice(0, Math.max(0, limit - out.length)));
}

/**
 * The share of new flows expected to reach `key`, from the flows counted per vertex: never
 * below an even split over the vertices counted. A vertex is short of flows mostly because it
 * drew fewer than its share, so its observed share is low exactly when it is asked for (3 of
 * 16 flows where a third is due asked for 16 new flows to find 3); an even split is what the
 * balancer most likely does, and a vertex truly below it costs one more round, not a surplus.
 * 1/4 when `key` was never counted.
 */
export function expectedShare(key: string, counts: ReadonlyMap<string, number>): number {
  let all = 0;
  for (const n of counts.values()) all += n;
  const here = counts.get(key) ?? 0;
  if (all === 0 || here === 0) return 1 / 4;
  return Math.max(here / all, 1 / counts.size);
}

/**
 * New flows node control sends for an interface `short` probes short, which `share` of new flows
 * are expected to reach (and stand at it one TTL on): none when more than the `budget` left is
 * needed. That spending would be futile, mostly: flows past a lost answer stand at an interface
 * as if across a silent router, and new ones are hardly ever silent there too.
 */
export function controlFlows(short: number, share: number, budget: number): number {
  const needed = Math.ceil(short / share);
  return needed > budget ? 0 : needed;
}

export type MultipathAlgorithm = 'lite' | 'full';

/** How a vertex's next hops were decided (netdiag.multipath/1 `decidedBy`). */
export type DecidedBy = 'stopping-rule' | 'hop-level' | 'destination' | 'routing-table';

/** Flows with an observed vertex at h-1 MDA-Lite's meshing test wants for every vertex at h (the paper's phi). */
const MESHING_FLOWS = 2;
/**
 * Answers a Linux router gives one source at once before its ICMP rate limit (a token bucket,
 * XRLIM_BURST_FACTOR) drops the rest for icmp_ratelimit (1 s) per answer.
 */
const RATE_LIMIT_BURST = 6;
/** net.ipv4.icmp_ratelimit's default: the time a Linux router takes to give one token back */
const RATE_LIMIT_REFILL_MS = 1000;

/** Waits `ms` (or less, when discovery stops meanwhile). */
export type Pause = (ms: number) => Promise<void>;

/**
 * New flows node control may spend on one interface at one TTL, as a multiple of its
 * stopping-rule count. 8 left an interface that one in 8 new flows reach (a 2-way balancer
 * behind a 4-way one) short in 2% of simulated runs, at 93.75% where 95% was asked.
 */
const CONTROL_FACTOR = 16;
/** Rounds at one TTL before giving up on what is still short (each round waits for its answers). */
const MAX_ROUNDS = 64;

interface TtlState {
  /** probes sent from the vertex at this TTL */
  sent: number;
  /** next hops found at this TTL (answers; silences are not next hops) */
  found: Set<string>;
  controlSent: number;
  exhausted: boolean;
  /** a probe from here reached the destination */
  atDestination: boolean;
}

export class MultipathDiscovery {
  readonly graph: MultipathGraph;
  /** per flow, per TTL: the vertex that answered, null for silence */
  private readonly seen = new Map<number, Map<number, string | null>>();
  private nextFlow = 0;
  /** per vertex: the confidence (fraction) its next hops were decided with, and by which rule */
  private readonly decided = new Map<string, { confidence: number; rule: DecidedBy }>();
  /** per vertex decided hop-level: the hop's next hops and probes */
  private readonly hopLevelOf = new Map<string, { k: number; n: number }>();
  /** per TTL: answers per vertex (how close a router may be to its ICMP rate limit) */
  private readonly answers = new Map<number, Map<string, number>>();
  /** TTLs where MDA-Lite's checks failed and the per-vertex MDA decided */
  readonly fullTtls = new Set<number>();
  /** `flow@ttl` of flows whose vertex at ttl was inferred, not observed (MDA-Lite's new flows) */
  private readonly inferred = new Set<string>();
  /** decided vertices a flow showed a next hop their rule missed, to be probed up to it again (topUp) */
  private readonly revised = new Set<string>();
  /** topped-up vertices that branch, with their next hops' TTL: the per-packet check may still be owed them */
  private readonly branchedLate = new Map<string, { v: Vertex; h: number }>();

  constructor(
    private readonly config: DiscoveryConfig, private readonly probe: Prober, private readonly stopped: () => boolean, private readonly pause: Pause,
  ) {
    this.graph = new MultipathGraph(config.firstTtl);
  }

  get flowsUsed(): number {
    return this.nextFlow;
  }

  async run(): Promise<void> {
    /** branching vertices of the TTL before, whose per-packet check waits for what their flows do one TTL on */
    let pending: Array<{ v: Vertex; h: number }> = [];
    for (let h = this.config.firstTtl; h <= this.config.maxTtl && !this.stopped(); h++) {
      const vertices = await this.enumerate(h);
      const late = [...this.branchedLate.values()].filter((l) => !pending.some((p) => p.v === l.v));
      this.branchedLate.clear();
      const unsettled = [...pending, ...late].filter((p) => !this.perFlowShown(p.v, p.h));
      pending = vertices.filter((v) => this.nextHopsAt(v, h).length >= 2).map((v) => ({ v, h }));
      await this.checkPerPacket(unsettled);
      if (vertices.length === 0) break;
    }
    if (!this.stopped()) await this.checkPerPacket(pending);
  }

  private nextHopsAt(v: Vertex, h: number): string[] {
    return [...v.successors].filter((s) => this.graph.vertex(s).ttl === h);
  }

  /** Next hops found one TTL after v (the source's first hops are listed, not linked). */
  private nextHopCount(v: Vertex): number {
    if (v.key !== SOURCE) return this.nextHopsAt(v, v.ttl + 1).length;
    let n = 0;
    for (const w of this.graph.vertices.values()) if (w.ttl === this.config.firstTtl && w.address !== null) n++;
    return n;
  }

  /**
   * Whether the flows v sent over its next hops W (at h) already rule out per-packet balancing:
   * one TTL on, flows that passed each w in W answered from successors no other member of W
   * has. A per-packet v would have sent each of those probes over a random member of W, and
   * the successor sets would have come out disjoint only if every flow kept its first next hop
   * or all of a member's flows moved together: at most k! (1/k)^m for m flows; a round-robin
   * v, dealing out the flows in the shuffled order they were sent in, reproduces the partition
   * with probability k! m_1! ... m_k! / m! (m_i flows per member); the larger counts. Flows whose
   * vertex at h was inferred (MDA-Lite) prove nothing and do not count; where successors are
   * shared (the branches meet again at once) the repeats of checkPerPacket decide.
   */
  private perFlowShown(v: Vertex, h: number): boolean {
    const next = new Set(this.nextHopsAt(v, h));
    const k = next.size;
    const preds = new Map<string, string>();
    const perMember = new Map<string, number>();
    let m = 0;
    for (const [flow, hist] of this.seen) {
      const w = hist.get(h);
      const x = hist.get(h + 1);
      if (w === undefined || w === null || !next.has(w) || x === undefined || x === null) continue;
      if (this.inferred.has(`${flow}@${h}`) || this.positionOf(flow, h) !== v.key) continue;
      const known = preds.get(x);
      if (known !== undefined && known !== w) return false;
      preds.set(x, w);
      perMember.set(w, (perMember.get(w) ?? 0) + 1);
      m++;
    }
    const logFactorial = (n: number): number => {
      let s = 0;
      for (let i = 2; i <= n; i++) s += Math.log(i);
      return s;
    };
    const random = logFactorial(k) + m * Math.log(1 / k);
    let dealt = logFactorial(k) - logFactorial(m);
    for (const c of perMember.values()) dealt += logFactorial(c);
    return Math.exp(Math.max(random, dealt)) <= 1 - this.config.confidence;
  }

  /** Lowest confidence (fraction) any non-final vertex reached for its next hops; 1 when none was probed. */
  confidenceReached(): number {
    let least = 1;
    for (const { confidence } of this.decided.values()) least = Math.min(least, confidence);
    return least;
  }

  /** The confidence (fraction) of one vertex's next hops and the rule that decided them, or null when it was never probed past. */
  vertexDecision(key: string): { confidence: number; rule: DecidedBy } | null {
    return this.decided.get(key) ?? null;
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

  /** Probes `flow` at `ttl` (`asks` times at most while silent) and records where it answered from. */
  private async probeAt(ttl: number, flow: number, asks = 2): Promise<string | null> {
    let a = await this.probe(ttl, flow);
    for (let ask = 1; !a && ask < asks && this.answeredAt(ttl) && !this.stopped(); ask++) {
      // Silence where others answer at this TTL is a lost answer or a router's ICMP rate limit
      // more likely than a silent router, and recorded it would draw a false link across the
      // TTL: ask once more. Where an interface here has answered a burst already, the limit is
      // the likely cause and a question asked again at once would be dropped as well: ask
      // after the bucket has had time to give a token back.
      if (this.nearRateLimit(ttl)) await this.pause(RATE_LIMIT_REFILL_MS);
      if (!this.stopped()) a = await this.probe(ttl, flow);
    }
    const key = a ? this.graph.answered(ttl, a.reply, a.rtt) : null;
    this.record(flow, ttl, key);
    if (key !== null) {
      let byKey = this.answers.get(ttl);
      if (!byKey) this.answers.set(ttl, (byKey = new Map()));
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
      await this.linkFromSole(flow, ttl, key);
    }
    return key;
  }

  /**
   * A flow that stood at `key` and went silent at h-1 although `key` has next hops answering
   * there is asked at h-1 once more before it crosses the TTL: two lost answers in a row are
   * likelier than a silent branch on a lossy path (10% loss drew a false link across a TTL in
   * half the simulated runs), and asked a while later, one answers. Returns where the flow
   * stands before h: what answered at h-1, `key` when it is silent still, null when it ended.
   */
  private async beforeSpanning(key: string, flow: number, h: number): Promise<string | null> {
    const v = this.graph.vertex(key);
    if (v.ttl !== h - 2 || this.seen.get(flow)?.get(h - 1) !== null || this.nextHopCount(v) === 0) return key;
    if (this.nearRateLimit(h - 1)) await this.pause(RATE_LIMIT_REFILL_MS);
    const before = this.nextHopCount(v);
    const at = this.stopped() ? null : await this.probeAt(h - 1, flow, 1);
    if (at === null) return key;
    if (key !== SOURCE) this.graph.link(key, at, flow);
    // a next hop key's rule missed
    if (this.nextHopCount(v) > before) this.reviseDecision(key);
    return this.graph.vertex(at).final ? null : at;
  }

  private nearRateLimit(ttl: number): boolean {
    for (const n of this.answers.get(ttl)?.values() ?? []) if (n >= RATE_LIMIT_BURST) return true;
    return false;
  }

  /**
   * A flow first probed at `ttl` (node control sends new flows straight to their TTL) passed the
   * one interface of ttl-1, when there is only one: link it, or the interface it found would
   * start a path of its own with an unknown first hop. A next hop none of that interface's own
   * probes showed is asked at ttl-1 instead: "only one" rests on the stopping rule one TTL
   * before, and where that missed an interface, the flow came through the missed one (a false
   * link otherwise; 2 in 10,000 simulated nested diamonds). Asked, it links the interface that
   * answered, whose predecessor's decision is revised the same way (probeAt asks one TTL back).
   */
  private async linkFromSole(flow: number, ttl: number, key: string): Promise<void> {
    if (ttl <= this.config.firstTtl || this.seen.get(flow)?.has(ttl - 1)) return;
    const sole = this.soleAt(ttl - 1);
    if (sole === null) return;
    if (!this.graph.vertex(sole).successors.has(key)) {
      const at = await this.probeAt(ttl - 1, flow);
      if (at !== null) {
        this.graph.link(at, key, flow);
        this.reviseDecision(at);
        // a first hop the source's rule missed (further back, the ask one TTL back revised it)
        if (at !== sole && ttl - 1 === this.config.firstTtl) this.reviseDecision(SOURCE);
        return;
      }
    }
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
    const { probed, silent } = this.silenceAfter(key);
    return probed === 0 || silent === 0 ? 1 / 4 : silent / probed;
  }

  /** Of the flows that answered from `key`, how many were probed one TTL on, and how many of those went unanswered. */
  private silenceAfter(key: string): { probed: number; silent: number } {
    const ttl = this.graph.vertex(key).ttl;
    let probed = 0;
    let silent = 0;
    for (const hist of this.seen.values()) {
      if (hist.get(ttl) !== key || !hist.has(ttl + 1)) continue;
      probed++;
      if (hist.get(ttl + 1) === null) silent++;
    }
    return { probed, silent };
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
        s = { sent: 0, found: new Set(), controlSent: 0, exhausted: false, atDestination: false };
        states.set(key, s);
      }
      return s;
    };
    /** probes of flows sent straight to h whose vertex at h-1 was never learned (silent at h) */
    let unattributed = 0;
    /** flows sent straight to h whose vertex at h-1 was inferred (MDA-Lite, unmeshed hop) */
    const inferred = new Set<number>();
    /** per-vertex stopping rule at this TTL: asked for, or MDA-Lite's checks failed */
    let full = this.config.algorithm === 'full';
    /** MDA-Lite found the hop pair unmeshed but not uniform: per vertex, yet new flows still go straight to h */
    let unmeshed = false;
    const probeFrom = async (key: string, f: number): Promise<void> => {
      let st = state(key);
      st.sent++;
      const from = await this.beforeSpanning(key, f, h);
      if (from !== key) {
        st.sent--;
        // the flow ended at h-1 (its answer there was final)
        if (from === null) return;
        st = state(from);
        st.sent++;
      }
      const next = await this.probeAt(h, f);
      if (next === null) return;
      st.found.add(next);
      if (this.graph.vertex(next).reached) st.atDestination = true;
      this.graph.link(from, next, f);
    };
    /** a new flow straight to h; its vertex at h-1 is inferred when the one it answered from has one predecessor here, else asked */
    const probeFresh = (f: number, present: ReadonlySet<string>): Promise<unknown> => this.probeAt(h, f).then(async (next) => {
      if (next === null) {
        unattributed++;
        return;
      }
      const preds = [...present].filter((k) => this.graph.vertex(k).successors.has(next));
      let from: string | null = null;
      if (preds.length === 1 && (!full || unmeshed)) {
        from = preds[0]!;
        this.record(f, h - 1, from);
        inferred.add(f);
        this.inferred.add(`${f}@${h - 1}`);
      } else {
        from = await this.probeAt(h - 1, f);
        if (from === null || !present.has(from)) {
          unattributed++;
          return;
        }
      }
      const st = state(from);
      st.sent++;
      st.found.add(next);
      if (this.graph.vertex(next).reached) st.atDestination = true;
      this.graph.link(from, next, f);
    });
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
      // flows go out in an order of their own at each TTL: a balancer that deals packets out in
      // turn (round robin) then sends them over its next hops at random, which perFlowShown needs
      for (const list of waiting.values()) shuffle(list, this.config.random);
      // vertices still to decide: a vertex that delivered a probe to the destination is the
      // destination's last hop and delivers every flow there (a connected route has one next hop)
      const open = [...present].filter((k) => !state(k).atDestination && !state(k).exhausted);
      if (round === 0) {
        // one scout per vertex first: it finds the final hops, which need no more
        for (const key of open) {
          const f = key === SOURCE ? this.freshFlow() : (waiting.get(key) ?? []).shift();
          if (f !== undefined && f !== null) tasks.push(probeFrom(key, f));
        }
        if (tasks.length > 0) {
          await Promise.all(tasks);
          await this.topUpRevised(h);
          continue;
        }
      }
      // hop-level only where every flow stands at h-1 (a silent hop before h needs node control across it)
      const hopLevel = !full && open.length >= 2 && open.every((k) => k !== SOURCE && this.graph.vertex(k).ttl === h - 1);
      if (hopLevel) {
        // MDA-Lite: the hop's vertices share one stopping rule over every next hop found at h,
        // probed with the flows they hold
        const found = new Set<string>();
        let sent = unattributed;
        for (const key of open) {
          const st = state(key);
          sent += st.sent;
          for (const n of st.found) found.add(n);
        }
        let deficit = probesToRuleOut(found.size, this.config.confidence) - sent;
        if (deficit > 0) {
          // the flows the hop's vertices hold, a vertex at a time while it is short of its own
          // stopping rule (one the hop's count leaves short is decided per vertex next, and a
          // flow it holds is cheaper than new ones that must land on it), then the rest at random
          const held = heldInTurn(open.map((key) => {
            const st = state(key);
            return { key, flows: waiting.get(key) ?? [], want: probesToRuleOut(st.found.size, this.config.confidence) - st.sent };
          }), deficit, this.config.random);
          // sent in an order of their own: taken in turn, a round-robin balancer would deal them
          // back to the vertices they came from, and per-packet balancing would pass for per-flow
          shuffle(held, this.config.random);
          for (const { key, flow } of held) tasks.push(probeFrom(key, flow));
          deficit -= held.length;
          for (; deficit > 0; deficit--) {
            const f = this.freshFlow();
            if (f === null) break;
            tasks.push(probeFresh(f, present));
          }
          if (tasks.length > 0) {
            await Promise.all(tasks);
            await this.topUpRevised(h);
            if (!this.answeredAt(h)) break;
            continue;
          }
        }
        // the hop's rule is met: the lite result stands when the hop pair is unmeshed and uniform
        const check = this.liteCheck(h, open, inferred);
        if (check.verify.length > 0) {
          // the meshing test: flows whose vertex at h-1 was inferred are asked there, so each
          // vertex at h has MESHING_FLOWS flows with an observed predecessor
          await Promise.all(check.verify.map((f) => this.verifyInferred(h, f, inferred, state)));
          await this.topUpRevised(h);
          continue;
        }
        if (!this.answeredAt(h)) break;
        // the hop's rule holds for the hop, not for a vertex few flows reached: such a vertex
        // could hide a second next hop at far below the stated confidence (a nested diamond's
        // inner balancer), so the TTL is decided per vertex
        const undersampled = open.some((key) => {
          const st = state(key);
          return !st.atDestination && st.sent < probesToRuleOut(st.found.size, this.config.confidence);
        });
        if (check.meshed || check.asymmetric || undersampled) {
          full = true;
          unmeshed = !check.meshed;
          this.fullTtls.add(h);
          continue;
        }
        for (const key of open) this.hopLevelOf.set(key, { k: found.size, n: sent });
        break;
      }
      /** new flows straight to h that the short vertices of an unmeshed hop pair want (each serves them all) */
      let freshWanted = 0;
      for (const key of present) {
        const v = this.graph.vertex(key);
        const st = state(key);
        if (st.exhausted || st.atDestination) continue;
        const target = key === SOURCE && this.config.firstHopSingle && st.found.size <= 1 ? 1 : probesToRuleOut(st.found.size, this.config.confidence);
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
        for (const f of flows) tasks.push(probeFrom(key, f));
        let short = deficit - flows.length;
        if (short > 0 && key !== SOURCE && v.ttl === h - 1 && this.soleAt(h - 1) === key) {
          // the only interface at h-1 (a second was ruled out there): every new flow passes it,
          // so no node control is needed (as MDA-Lite does on hops without a balancer); its
          // interface is inferred, and asked where a next hop rests on inferred flows alone
          for (; short > 0; short--) {
            const f = this.freshFlow();
            if (f === null) break;
            this.record(f, h - 1, key);
            inferred.add(f);
            this.inferred.add(`${f}@${h - 1}`);
            tasks.push(probeFrom(key, f));
          }
        }
        if (short <= 0) continue;
        const budget = CONTROL_FACTOR * target - st.controlSent;
        if (unmeshed && key !== SOURCE && v.ttl === h - 1 && budget > 0) {
          // every vertex at h has one predecessor: a new flow sent straight to h tells by its
          // answer which vertex it passed, cheaper than node control's probe at h-1 first
          const n = Math.min(Math.ceil(short / this.shareAt(key, h)), budget);
          st.controlSent += n;
          freshWanted = Math.max(freshWanted, n);
        } else if (key !== SOURCE && budget > 0 && this.nextFlow < this.config.flowLimit) {
          // node control: new flows to v's TTL; those that land on v can be used next round.
          // Past silent TTLs they walk on to h-1 first (filling), and only the silent ones come.
          const gapped = v.ttl < h - 1;
          const n = controlFlows(short, this.shareOf(key) * (gapped ? this.silentShareAfter(key) : 1), budget);
          if (n === 0) {
            if (flows.length === 0 && filling.size === 0) st.exhausted = true;
            continue;
          }
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
      for (; freshWanted > 0; freshWanted--) {
        const f = this.freshFlow();
        if (f === null) break;
        tasks.push(probeFresh(f, present));
      }
      // node control for the only interface before a silent TTL only places its new flows:
      // they walk across the gap from the next round on
      if (tasks.length === 0 && filling.size === 0) break;
      await Promise.all(tasks);
      await this.topUpRevised(h);
      // a TTL where nothing answers (a silent router on every branch, a silent destination)
      // has no next hops to find: more rounds would each cost a full wait
      if (!this.answeredAt(h)) break;
      await this.checkInferred(h, inferred, state);
    }
    const vertices: Vertex[] = [];
    for (const [key, st] of states) {
      if (st.sent === 0) continue;
      const v = this.graph.vertex(key);
      v.probes += st.sent;
      vertices.push(v);
      // a vertex crossing silent TTLs is decided at the TTL where its next hops answer
      if (st.found.size === 0 && this.decided.has(key)) continue;
      const hop = this.hopLevelOf.get(key);
      if (st.atDestination) this.decided.set(key, { confidence: 1, rule: 'destination' });
      else if (key === SOURCE && this.config.firstHopSingle && st.found.size <= 1) this.decided.set(key, { confidence: 1, rule: 'routing-table' });
      else if (hop) this.decided.set(key, { confidence: confidenceAfter(hop.k, hop.n), rule: 'hop-level' });
      else this.decided.set(key, { confidence: confidenceAfter(st.found.size, st.sent), rule: 'stopping-rule' });
    }
    return vertices;
  }

  /**
   * MDA-Lite's checks of a hop pair (h-1, h) probed hop-level: meshed (a vertex at h-1 with two
   * or more next hops and a vertex at h with two or more predecessors: flows cannot be assigned
   * by the vertex they reach), asymmetric (vertices at h-1 with different numbers of next hops:
   * the next hops are not equally likely, which the hop's stopping rule assumes), and the flows
   * to ask at h-1 first so that every vertex at h has MESHING_FLOWS observed predecessors.
   */
  private liteCheck(h: number, open: readonly string[], inferred: ReadonlySet<number>): { meshed: boolean; asymmetric: boolean; verify: number[] } {
    const degrees = open.map((k) => [...this.graph.vertex(k).successors].filter((s) => this.graph.vertex(s).ttl === h).length);
    const branching = degrees.some((d) => d >= 2);
    const asymmetric = new Set(degrees).size > 1;
    const preds = new Map<string, Set<string>>();
    const observed = new Map<string, number>();
    const candidates = new Map<string, number[]>();
    for (const [flow, hist] of this.seen) {
      const at = hist.get(h);
      if (at === undefined || at === null) continue;
      const from = hist.get(h - 1);
      if (from === undefined || from === null || !open.includes(from)) continue;
      let set = preds.get(at);
      if (!set) preds.set(at, (set = new Set()));
      set.add(from);
      if (inferred.has(flow)) {
        const list = candidates.get(at);
        if (list) list.push(flow);
        else candidates.set(at, [flow]);
      } else observed.set(at, (observed.get(at) ?? 0) + 1);
    }
    const merging = [...preds.values()].some((p) => p.size >= 2);
    const verify: number[] = [];
    // meshing needs a branching vertex at h-1 and two vertices at h; only then can inference be wrong
    if (branching && preds.size >= 2) {
      for (const [at, list] of candidates) verify.push(...list.slice(0, Math.max(0, MESHING_FLOWS - (observed.get(at) ?? 0))));
    }
    return { meshed: branching && merging, asymmetric, verify };
  }

  /**
   * A next hop at h that only flows with an inferred interface at h-1 reached may stand behind
   * an interface h-1 never showed: one the stopping rule missed there (its stated 1 - confidence),
   * which would draw a false link and a false path. One such flow is asked at h-1; once one was
   * wrong, every inferred flow of the TTL is. A flow moved to an interface new at h-1 makes it
   * a vertex of its own, probed as any other from the next round on.
   */
  private async checkInferred(h: number, inferred: Set<number>, state: (key: string) => TtlState): Promise<void> {
    const observed = new Set<string>();
    const onlyInferred = new Map<string, number>();
    for (const [flow, hist] of this.seen) {
      const at = hist.get(h);
      const from = hist.get(h - 1);
      if (at === undefined || at === null || from === undefined || from === null) continue;
      // the host's routing table, not the stopping rule, put the flow there: nothing to doubt
      const trusted = this.decided.get(this.positionOf(flow, h - 1) ?? '')?.rule === 'routing-table';
      if (inferred.has(flow) && !trusted) {
        if (!onlyInferred.has(at)) onlyInferred.set(at, flow);
      } else observed.add(at);
    }
    const ask = [...onlyInferred].filter(([at]) => !observed.has(at)).map(([, flow]) => flow);
    if (ask.length === 0) return;
    const moved = await Promise.all(ask.map((f) => this.verifyInferred(h, f, inferred, state)));
    if (moved.some(Boolean)) await Promise.all([...inferred].map((f) => this.verifyInferred(h, f, inferred, state)));
    await this.topUpRevised(h);
  }

  /**
   * Asks an inferred flow at h-1: where it disagrees, the link moves (the hop pair is meshed, or
   * h-1 has an interface its stopping rule missed); returns whether it moved.
   */
  private async verifyInferred(h: number, flow: number, inferred: Set<number>, state: (key: string) => TtlState): Promise<boolean> {
    inferred.delete(flow);
    this.inferred.delete(`${flow}@${h - 1}`);
    const hist = this.seen.get(flow)!;
    const guessed = hist.get(h - 1)!;
    const next = hist.get(h)!;
    const a = await this.probe(h - 1, flow);
    if (!a) return false;
    const key = this.graph.answered(h - 1, a.reply, a.rtt);
    if (key === guessed) return false;
    hist.set(h - 1, key);
    // an interface new at h-1 behind the only one at h-2: the link the stopping rule missed there
    await this.linkFromSole(flow, h - 1, key);
    this.reviseDecision(this.positionOf(flow, h - 1));
    const was = state(guessed);
    was.sent--;
    if (next !== null) {
      this.graph.unlink(guessed, next, flow);
      if (!this.graph.vertex(guessed).successors.has(next)) was.found.delete(next);
    }
    const st = state(key);
    st.sent++;
    if (next !== null) {
      st.found.add(next);
      this.graph.link(key, next, flow);
    }
    return true;
  }

  /**
   * A vertex decided before h-1 that gained a next hop since: its confidence is what its probes
   * give for the next hops it has now, until topUpRevised() brings them up to its rule again.
   */
  private reviseDecision(key: string | null): void {
    if (key === null) return;
    const d = this.decided.get(key);
    if (!d || d.rule === 'destination') return;
    const v = this.graph.vertex(key);
    const confidence = Math.min(d.confidence, confidenceAfter(this.nextHopCount(v), v.probes));
    this.decided.set(key, { confidence, rule: d.rule === 'routing-table' ? 'stopping-rule' : d.rule });
    if (confidence < this.config.confidence) this.revised.add(key);
  }

  /**
   * Probes each revised vertex again until its stopping rule holds for the next hops it has now:
   * the miss the rule allows happened there once, and a confidence below the one asked for would
   * leave the next miss to chance. Called after each round at h; revisions come from its probes.
   */
  private async topUpRevised(h: number): Promise<void> {
    while (this.revised.size > 0 && !this.stopped()) {
      const [key] = this.revised;
      this.revised.delete(key!);
      await this.topUp(key!, h);
    }
  }

  /**
   * Probes a vertex before h-1 at its next TTL until the stopping rule holds for its next hops:
   * flows that stood there and went no further first, then new ones asked at its own TTL first
   * (node control, not inference: the rule that would place them is what just failed). A next
   * hop found before h-1 was missed at a TTL done already: it is probed on the same way; those
   * at h-1 are probed at h by the rounds that follow, as any vertex there.
   */
  private async topUp(key: string, h: number): Promise<void> {
    const v = this.graph.vertex(key);
    // across a silent TTL, new flows would have to be walked over it first: the lower confidence stands
    if (v.ttl > h - 2 || (key !== SOURCE && this.silenceAfter(key).silent > 0)) return;
    let flowsSent = 0;
    for (let round = 0; round < MAX_ROUNDS && !this.stopped(); round++) {
      const target = probesToRuleOut(this.nextHopCount(v), this.config.confidence);
      const want = target - v.probes;
      if (want <= 0) break;
      const held: number[] = [];
      if (key !== SOURCE) for (const [flow, hist] of this.seen) if (held.length < want && hist.get(v.ttl) === key && !hist.has(v.ttl + 1)) held.push(flow);
      const tasks = held.map((f) => this.probeFromPast(v, f));
      for (let i = held.length; i < want && flowsSent < CONTROL_FACTOR * target; i++) {
        const f = this.freshFlow();
        if (f === null) break;
        flowsSent++;
        tasks.push((async () => {
          if (key === SOURCE || (await this.probeAt(v.ttl, f)) === key) await this.probeFromPast(v, f);
        })());
      }
      if (tasks.length === 0) break;
      await Promise.all(tasks);
    }
    this.decided.set(key, { confidence: confidenceAfter(this.nextHopCount(v), v.probes), rule: 'stopping-rule' });
    if (key === SOURCE) return;
    if (this.nextHopCount(v) >= 2) this.branchedLate.set(key, { v, h: v.ttl + 1 });
    for (const next of this.nextHopsAt(v, v.ttl + 1)) if (!this.decided.has(next) && !this.graph.vertex(next).final) await this.topUp(next, h);
  }

  /** One probe of v's next hops, of a flow that stood at v (a top-up). */
  private async probeFromPast(v: Vertex, flow: number): Promise<void> {
    v.probes++;
    const next = await this.probeAt(v.ttl + 1, flow);
    if (next !== null && v.key !== SOURCE) this.graph.link(v.key, next, flow);
  }

  /** Of the flows that stood at a vertex of h-1 and answered at h, the share that stood at `key`. */
  private shareAt(key: string, h: number): number {
    const counts = new Map<string, number>();
    for (const hist of this.seen.values()) {
      const at = hist.get(h);
      const from = hist.get(h - 1);
      if (at === undefined || at === null || from === undefined || from === null) continue;
      counts.set(from, (counts.get(from) ?? 0) + 1);
    }
    return expectedShare(key, counts);
  }

  /** Of the flows answered at v's TTL, the share that landed on v (how many new flows reach it). */
  private shareOf(key: string): number {
    const ttl = this.graph.vertex(key).ttl;
    const counts = new Map<string, number>();
    for (const hist of this.seen.values()) {
      const at = hist.get(ttl);
      if (at !== undefined && at !== null) counts.set(at, (counts.get(at) ?? 0) + 1);
    }
    return expectedShare(key, counts);
  }

  /**
   * Sends one flow of each branching vertex again, as many times as the stopping rule needs to
   * rule out a second next hop: per-flow balancing keeps it on one next hop, per-packet does not.
   */
  private async checkPerPacket(checks: ReadonlyArray<{ v: Vertex; h: number }>): Promise<void> {
    const tasks: Promise<unknown>[] = [];
    for (const { v, h } of checks) {
      const next = this.nextHopsAt(v, h);
      if (next.length < 2) continue;
      const repeats = perPacketRepeats(next.length, this.config.confidence);
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
