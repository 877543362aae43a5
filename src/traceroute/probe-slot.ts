// One probe position of a trace: TTL and index within its hop, what was sent and what came back.
// Slots are laid out hop after hop (slot i has TTL firstTtl + floor(i / queries)), as in Linux
// traceroute, whose waiting and reordering rules read neighbouring slots.
import type { ProbeReply } from './transport.js';

export interface ProbeSlot {
  /** position in the trace, 0-based */
  readonly index: number;
  readonly ttl: number;
  /** index within the hop */
  readonly n: number;
  /** session id of the probe in flight for this slot, -1 when none */
  id: number;
  sent: boolean;
  /** monotonic send time (scheduling); -Infinity for a slot that must expire at once */
  sentAt: number;
  /** send time on the stamp base (RTT) */
  sendStamp: number;
  /** outcome decided (answer or expiry) */
  done: boolean;
  /** the answer ends the trace at this hop */
  final: boolean;
  /** the answer, null for a timeout */
  reply: ProbeReply | null;
  rtt: number | null;
  /** path MTU discovery: the size that had to shrink at this slot (printed F=<mtu>) */
  mtuNote: number | null;
}

export function newSlot(index: number, ttl: number, n: number): ProbeSlot {
  return { index, ttl, n, id: -1, sent: false, sentAt: 0, sendStamp: 0, done: false, final: false, reply: null, rtt: null, mtuNote: null };
}

/** Clears a slot so that it is sent again (path MTU discovery) or, with expireAtOnce, expires unsent. */
export function resetSlot(slot: ProbeSlot, expireAtOnce = false): void {
  slot.id = -1;
  slot.sent = expireAtOnce;
  slot.sentAt = expireAtOnce ? -Infinity : 0;
  slot.sendStamp = 0;
  slot.done = false;
  slot.final = false;
  slot.reply = null;
  slot.rtt = null;
}

/** Copies the outcome of `from` into `to` (the slot keeps its position). */
export function moveOutcome(from: ProbeSlot, to: ProbeSlot): void {
  to.id = from.id;
  to.sent = from.sent;
  to.sentAt = from.sentAt;
  to.sendStamp = from.sendStamp;
  to.done = from.done;
  to.final = from.final;
  to.reply = from.reply;
  to.rtt = from.rtt;
  to.mtuNote = from.mtuNote;
}
