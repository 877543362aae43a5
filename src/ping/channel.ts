// One socket's share of a run: the socket, the kind of probe it sends (ICMP echo, TCP SYN, TCP
// connect: probe-kind.ts), the batch probes are written into, and the table from the probe's
// 32-bit number (in an echo's payload, a SYN's sequence number) to the probe.
// Every target of the socket's family shares it (one socket per family and mode).
//
// A run that keeps no probes lets settled ones go (release): what a later duplicate, late reply
// or error needs of them (target, sequences, state, send time) stays in typed arrays at their
// slot, and a Probe is made again only when such a message comes. A flood then leaves no trail
// of 65,536 remembered objects that the garbage collector would copy and promote.

import { SendBatch } from '../socket/send-batch.js';
import type { PingSocket } from './backend.js';
import { PayloadLayout } from './payload.js';
import { Probe, ProbeState } from './probe.js';
import { probeKindFor, type ProbeKind } from './probe-kind.js';
import type { TargetState } from './target-state.js';
import type { ProbeStatus } from './types.js';

const WIRE_SEQ_SPACE = 0x10000;
const MAX_BATCH = 256;
const BATCH_BYTES = 1 << 20;

export class Channel {
  readonly kind: ProbeKind;
  readonly batch: SendBatch;
  /** probe of each batch entry: batchProbes[i] for i < batch.count (entries past it are stale) */
  readonly batchProbes: Probe[] = [];
  /** probes whose send failed, waiting for the error queue's details (the MTU) */
  readonly failedSends: Probe[] = [];
  /** the poller reported something in the error queue */
  errorQueuePending = false;
  private nextSeq32 = 1;
  // the table is a multiple of the 16-bit wire sequence space, so a probe can also be found
  // from the wire sequence alone (short payloads, short quotes)
  private table: Array<Probe | undefined> = new Array<Probe | undefined>(WIRE_SEQ_SPACE);
  private mask = WIRE_SEQ_SPACE - 1;
  /** released probes, by the same slots as the table (made on the first release) */
  private settled: SettledProbes | null = null;
  /** released Probe objects, ready for reuse */
  private readonly spare: Probe[] = [];

  constructor(
    readonly socket: PingSocket,
    readonly payload: PayloadLayout,
  ) {
    const kind = (this.kind = probeKindFor(socket, payload));
    const slot = kind.slotSize;
    this.batch = new SendBatch(Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / slot))), slot);
    // only the engine writes the batch, always this kind's probes: what they share is laid
    // out once, and each probe then writes just what is its own
    kind.prefill(this.batch.data, slot, this.batch.capacity);
  }

  /** Writes probe seq32 to t into the batch's next slot; returns its length. */
  writeProbe(seq32: number, t: TargetState): number {
    return this.kind.write(this.batch.data, this.batch.nextOffset(), seq32, t);
  }

  get family(): 4 | 6 {
    return this.socket.family;
  }

  /** The number the next probe carries. */
  takeSeq32(): number {
    const s = this.nextSeq32;
    this.nextSeq32 = (this.nextSeq32 + 1) >>> 0;
    return s;
  }

  /** A new probe (a released object when there is one). */
  newProbe(target: TargetState, seq: number, seq32: number): Probe {
    const p = this.spare.pop();
    return p !== undefined ? p.reuse(target, seq, seq32) : new Probe(target, seq, seq32);
  }

  /** Files a probe under its sequence, growing the table rather than dropping one still waiting. */
  remember(p: Probe): void {
    let i = p.seq32 & this.mask;
    const old = this.table[i];
    if (old !== undefined && old !== p && (old.state === ProbeState.Pending || old.state === ProbeState.Queued)) {
      this.grow();
      i = p.seq32 & this.mask;
    }
    this.table[i] = p;
    if (this.settled !== null) this.settled.seq32[i] = -1;
  }

  /**
   * Lets a settled probe go: its slot keeps what later messages about it need, and the object
   * is reused for a later probe, so the caller must hold no reference to it. Only for runs that
   * keep no probes.
   */
  release(p: Probe): void {
    const i = p.seq32 & this.mask;
    if (this.table[i] !== p) return;
    const s = (this.settled ??= new SettledProbes(Math.min(this.table.length, SETTLED_MIN_CAPACITY)));
    s.store(i, p);
    this.table[i] = undefined;
    this.spare.push(p);
  }

  private grow(): void {
    const old = this.table;
    const oldSettled = this.settled;
    this.table = new Array<Probe | undefined>(old.length * 2);
    this.mask = this.table.length - 1;
    for (const p of old) if (p !== undefined) this.table[p.seq32 & this.mask] = p;
    if (oldSettled !== null) {
      // each old slot held one probe, live or released: they land in distinct new slots
      const s = (this.settled = new SettledProbes(this.table.length));
      for (let i = 0; i < oldSettled.seq32.length; i++) if (oldSettled.seq32[i]! >= 0) s.copyFrom(oldSettled, i, oldSettled.seq32[i]! & this.mask);
    }
  }

  /** The probe with this payload sequence, if it is still remembered. */
  bySeq32(seq32: number): Probe | undefined {
    const i = seq32 & this.mask;
    const p = this.table[i];
    if (p !== undefined) return p.seq32 === seq32 ? p : undefined;
    return this.settled !== null && this.settled.seq32[i] === seq32 ? this.revive(i) : undefined;
  }

  /**
   * The probe a 16-bit wire sequence most likely means: the newest waiting one with it (to
   * `address` when given), else the newest with it.
   */
  byWireSeq(wireSeq: number, address: string | null): Probe | undefined {
    let best = -1;
    let bestSeq32 = -1;
    let bestWaiting: Probe | undefined;
    const settled = this.settled;
    for (let i = wireSeq; i < this.table.length; i += WIRE_SEQ_SPACE) {
      const p = this.table[i];
      let seq32: number;
      if (p !== undefined) {
        if (p.wireSeq !== wireSeq || (address !== null && p.target.address !== address)) continue;
        seq32 = p.seq32;
        if (p.state === ProbeState.Pending && (bestWaiting === undefined || seq32 > bestWaiting.seq32)) bestWaiting = p;
      } else {
        // a released probe is settled: never the waiting one
        if (settled === null || !(settled.seq32[i]! >= 0) || (address !== null && settled.target[i]!.address !== address)) continue;
        seq32 = settled.seq32[i]!;
      }
      if (seq32 > bestSeq32) {
        best = i;
        bestSeq32 = seq32;
      }
    }
    if (bestWaiting !== undefined) return bestWaiting;
    return best < 0 ? undefined : (this.table[best] ?? this.revive(best));
  }

  /** Makes the released probe of slot i a Probe again (filed in the table until released again). */
  private revive(i: number): Probe {
    const s = this.settled!;
    const p = this.newProbe(s.target[i]!, s.seq[i]!, s.seq32[i]!);
    p.state = s.state[i] as ProbeState;
    p.status = STATUSES[s.status[i]!]!;
    p.sentSec = s.sentSec[i]!;
    p.sentNsec = s.sentNsec[i]!;
    s.seq32[i] = -1;
    this.table[i] = p;
    return p;
  }
}

const STATUSES: readonly ProbeStatus[] = ['reply', 'timeout', 'error', 'late'];

/** The index of a status in STATUSES (a comparison chain: indexOf is a call per released probe). */
function statusIndex(status: ProbeStatus): number {
  return status === 'reply' ? 0 : status === 'timeout' ? 1 : status === 'error' ? 2 : 3;
}

/** What a released (settled) probe leaves in its slot: struct of arrays, nothing per probe for the collector. */
// Slots past the arrays' length hold nothing (reads give undefined); they grow as sequences
// climb, so a short run does not allocate (and collect) the whole sequence space.
const SETTLED_MIN_CAPACITY = 64;

class SettledProbes {
  /** the probe's payload sequence, -1 (or past the end) when the slot holds no released probe */
  seq32: Float64Array;
  seq: Float64Array;
  sentSec: Float64Array;
  sentNsec: Float64Array;
  state: Uint8Array;
  /** index in STATUSES */
  status: Uint8Array;
  target: Array<TargetState | undefined>;

  constructor(n: number) {
    this.seq32 = new Float64Array(n).fill(-1);
    this.seq = new Float64Array(n);
    this.sentSec = new Float64Array(n);
    this.sentNsec = new Float64Array(n);
    this.state = new Uint8Array(n);
    this.status = new Uint8Array(n);
    this.target = new Array<TargetState | undefined>(n);
  }

  private ensure(i: number): void {
    let n = this.seq32.length;
    if (i < n) return;
    while (n <= i) n *= 2;
    const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    const old = this.seq32.length;
    this.seq32 = grow(this.seq32, (k) => new Float64Array(k));
    this.seq32.fill(-1, old);
    this.seq = grow(this.seq, (k) => new Float64Array(k));
    this.sentSec = grow(this.sentSec, (k) => new Float64Array(k));
    this.sentNsec = grow(this.sentNsec, (k) => new Float64Array(k));
    this.state = grow(this.state, (k) => new Uint8Array(k));
    this.status = grow(this.status, (k) => new Uint8Array(k));
    this.target.length = n;
  }

  store(i: number, p: Probe): void {
    this.ensure(i);
    this.seq32[i] = p.seq32;
    this.seq[i] = p.seq;
    this.sentSec[i] = p.sentSec;
    this.sentNsec[i] = p.sentNsec;
    this.state[i] = p.state;
    this.status[i] = statusIndex(p.status);
    this.target[i] = p.target;
  }

  copyFrom(o: SettledProbes, from: number, to: number): void {
    this.seq32[to] = o.seq32[from]!;
    this.seq[to] = o.seq[from]!;
    this.sentSec[to] = o.sentSec[from]!;
    this.sentNsec[to] = o.sentNsec[from]!;
    this.state[to] = o.state[from]!;
    this.status[to] = o.status[from]!;
    this.target[to] = o.target[from];
  }
}
