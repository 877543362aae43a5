// The MDA stopping rule (Augustin, Friedman, Teixeira; Veitch et al., "Failure control in
// multipath route tracing"): having seen k next hops of an interface, send probes until the
// hypothesis "there are k + 1, equally likely" is rejected at the given confidence, i.e. until
// n probes spread uniformly over k + 1 next hops would have missed one of them with probability
// at most 1 - confidence. Computed here by inclusion–exclusion, not read from a table.

/** Probability that n probes, each on one of `hops` equally likely next hops, leave at least one unseen. */
export function missProbability(hops: number, n: number): number {
  if (hops <= 1) return 0;
  let p = 0;
  let binom = 1;
  for (let i = 1; i < hops; i++) {
    binom = (binom * (hops - i + 1)) / i; // C(hops, i)
    p += (i % 2 === 1 ? 1 : -1) * binom * Math.pow((hops - i) / hops, n);
  }
  return Math.min(1, Math.max(0, p));
}

/** Largest k probesToRuleOut() answers for (wider hops are not worth probing for, and n stays finite). */
export const MAX_NEXT_HOPS = 256;

const cache = new Map<string, number>();

/**
 * n_k: the probes an interface with k next hops seen needs, in all, before a (k+1)-th is ruled
 * out at `confidence` (a fraction in (0, 1)). 95%: 6, 11, 16, 21, 27, ...
 */
export function probesToRuleOut(k: number, confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const seen = Math.min(Math.max(1, Math.floor(k)), MAX_NEXT_HOPS);
  const key = `${seen}:${confidence}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const allowed = 1 - confidence;
  // the miss probability falls with n: find the first n where it is small enough (doubling, then halving)
  let hi = seen + 1;
  while (missProbability(seen + 1, hi) > allowed) hi *= 2;
  let lo = seen;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (missProbability(seen + 1, mid) > allowed) lo = mid;
    else hi = mid;
  }
  cache.set(key, hi);
  return hi;
}

/** The confidence (fraction) with which n probes that found k next hops rule out a (k+1)-th. */
export function confidenceAfter(k: number, n: number): number {
  return 1 - missProbability(Math.max(1, Math.floor(k)) + 1, n);
}

/**
 * Repeats of one flow that tell per-packet balancing from per-flow at `confidence`: with k next
 * hops seen, a per-packet balancer (equally likely next hops) keeps r repeats on the flow's
 * first next hop with probability (1/k)^r; the least r with (1/k)^r <= 1 - confidence
 * (95%: 5 for k = 2, 3 for k = 3 or 4, 2 from k = 5 on).
 */
export function perPacketRepeats(k: number, confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const hops = Math.max(2, Math.floor(k));
  return Math.max(1, Math.ceil(Math.log(1 - confidence) / Math.log(1 / hops) - 1e-12));
}
