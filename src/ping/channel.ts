// One socket's share of a run: the socket, its identifier and matching context, the batch
// probes are written into, and the table from the payload's 32-bit sequence to the probe.
// Every target of the socket's family shares it (one socket per family and mode).

import { SendBatch } from '../icmp/send-batch.js';
import type { PingSocket } from './backend.js';
import { EchoTemplate } from './echo-template.js';
import { PayloadLayout } from './payload.js';
import { Probe, ProbeState } from './probe.js';
import type { MatchContext } from './reply-matcher.js';

const WIRE_SEQ_SPACE = 0x10000;
const MAX_BATCH = 256;
const BATCH_BYTES = 1 << 20;

export class Channel {
  readonly ctx: MatchContext;
  readonly batch: SendBatch;
  readonly echo: EchoTemplate;
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

  constructor(
    readonly socket: PingSocket,
    readonly payload: PayloadLayout,
  ) {
    this.ctx = { family: socket.family, mode: socket.mode, identifier: socket.identifier, payload };
    // the identifier is ours on raw sockets (ping sockets put in their own)
    this.echo = new EchoTemplate(socket.family, socket.identifier, payload);
    const slot = 8 + payload.size;
    this.batch = new SendBatch(Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / slot))), slot);
    // only the engine writes the batch, always echo requests from this template: lay it out
    // once, and each probe then writes just its sequence numbers and checksum
    this.echo.prefill(this.batch.data, slot, this.batch.capacity);
  }

  /** Writes the echo request for seq32 into the batch's next slot; returns its length. */
  writeEcho(seq32: number): number {
    return this.echo.write(this.batch.data, this.batch.nextOffset(), seq32, true);
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

  /** Files a probe under its sequence, growing the table rather than dropping one still waiting. */
  remember(p: Probe): void {
    let i = p.seq32 & this.mask;
    const old = this.table[i];
    if (old !== undefined && old !== p && (old.state === ProbeState.Pending || old.state === ProbeState.Queued)) {
      this.grow();
      i = p.seq32 & this.mask;
    }
    this.table[i] = p;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Array<Probe | undefined>(old.length * 2);
    this.mask = this.table.length - 1;
    for (const p of old) if (p !== undefined) this.table[p.seq32 & this.mask] = p;
  }

  /** The probe with this payload sequence, if it is still remembered. */
  bySeq32(seq32: number): Probe | undefined {
    const p = this.table[seq32 & this.mask];
    return p !== undefined && p.seq32 === seq32 ? p : undefined;
  }

  /**
   * The probe a 16-bit wire sequence most likely means: the newest waiting one with it (to
   * `address` when given), else the newest with it.
   */
  byWireSeq(wireSeq: number, address: string | null): Probe | undefined {
    let best: Probe | undefined;
    let bestWaiting: Probe | undefined;
    for (let i = wireSeq; i < this.table.length; i += WIRE_SEQ_SPACE) {
      const p = this.table[i];
      if (p === undefined || p.wireSeq !== wireSeq || (address !== null && p.target.address !== address)) continue;
      if (best === undefined || p.seq32 > best.seq32) best = p;
      if (p.state === ProbeState.Pending && (bestWaiting === undefined || p.seq32 > bestWaiting.seq32)) bestWaiting = p;
    }
    return bestWaiting ?? best;
  }
}
