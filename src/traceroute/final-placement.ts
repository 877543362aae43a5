// Linux traceroute's check_expired(): with many probes in flight, a host that answers with an
// unreachable (!H, !X, ...) may drop the earliest probes and answer only later ones, so its final
// answer lands one or more hops too far. When an expired probe is followed by such a final
// answer and the evidence says the final belongs here, the answer moves into the expired slot.
import { moveOutcome, resetSlot, type ProbeSlot } from './probe-slot.js';

/** Guess of the hops an answer travelled back, from its TTL (initial 64, 128 or 255; tracepath's idea). */
export function hopsBack(replyTtl: number): number {
  return (replyTtl <= 64 ? 65 : replyTtl <= 128 ? 129 : 256) - replyTtl;
}

function sameAddress(a: ProbeSlot, b: ProbeSlot): boolean {
  return a.reply !== null && b.reply !== null && a.reply.from === b.reply.from;
}

/**
 * Called when slots[i] has just expired. Returns true when a later final answer was moved into
 * it (that later slot is then reset to expire unanswered).
 */
export function placeFinalAnswer(slots: ProbeSlot[], i: number, queries: number): boolean {
  const pb = slots[i]!;
  if (!pb.done) return false;
  let previousFinal: ProbeSlot | null = null;
  // every earlier probe of this hop must be decided and final
  for (let j = i - pb.n; j < i; j++) {
    const p = slots[j]!;
    if (!p.done || !p.final) return false;
    previousFinal = p;
  }
  // the first decided probe sent after this one must be final
  let fpIndex = -1;
  for (let j = i + 1; j < slots.length && slots[j]!.sent; j++) {
    const p = slots[j]!;
    if (!p.done) continue;
    if (!p.final) return false;
    fpIndex = j;
    break;
  }
  if (fpIndex < 0) return false;
  const fp = slots[fpIndex]!;
  // echo replies, TCP answers and port unreachables come in order: only error reports move
  if (!fp.reply?.annotation) return false;

  let replace = previousFinal !== null || pb.n + (fpIndex - i) < queries;
  if (!replace) {
    // an unreachable may follow a time-exceeded from the same host
    for (let j = i - 1; j >= 0; j--) {
      if (sameAddress(slots[j]!, fp)) {
        replace = true;
        break;
      }
    }
  }
  if (!replace && fp.reply.replyTtl) {
    let back = hopsBack(fp.reply.replyTtl);
    // the return path may be longer or shorter: measure against the nearest time-exceeded
    for (let j = i - 1; j >= 0; j--) {
      const p = slots[j]!;
      if (p.done && !p.final && p.reply?.replyTtl) {
        const hops = hopsBack(p.reply.replyTtl);
        if (hops < back) {
          back = back - hops + p.ttl;
          break;
        }
      }
    }
    if (back <= pb.ttl) replace = true;
  }
  if (!replace) return false;
  moveOutcome(fp, pb);
  resetSlot(fp, true);
  fp.mtuNote = null;
  return true;
}
