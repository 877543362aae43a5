// Counters, statistics and probes of one target during a run, and its result at the end.

import { writeAddress, readAddress } from '../socket/address-bytes.js';
import { withoutZone } from '../packet/address.js';
import { scopeIdOf } from '../target/destination.js';
import { writeDottedQuad } from './dotted-quad.js';
import type { Probe } from './probe.js';
import { RttStatistics } from './statistics.js';
import type { Schedulable } from './scheduler.js';
import type { PingTarget, PingTargetResult, PingTargetStatus } from './types.js';

export class TargetState implements Schedulable, PingTargetStatus {
  /** 16 address bytes for sendBatchIn at dest[destOffset] (one buffer for all targets) */
  readonly dest: Buffer;
  readonly destOffset: number;
  /** the address as received datagrams spell it, Node-style (a link-local one with its %ifname) */
  readonly address: string;
  /** the address as the headers of packets spell it (quotes in ICMP errors): no zone */
  readonly wireAddress: string;
  /** IPv6 scope of a link-local target given as fe80::1%eth0 or %2 */
  readonly scopeId: number;

  // scheduling (see Scheduler)
  issued = 0;
  inFlight = 0;
  heapIndex = -1;
  inReady = false;

  transmitted = 0;
  received = 0;
  duplicates = 0;
  corrupted = 0;
  errors = 0;
  late = 0;
  /** TCP: received answers that were RSTs (the port is closed) */
  closed = 0;
  /** probes whose wait ended without a reply (timeouts, errors, late ones) */
  lost = 0;
  /** iputils' "pipe": the most probes outstanding when one was answered */
  pipe = 0;
  /**
   * monotonic ms of the last send (negative: none yet; -Infinity, a double from the start, so
   * V8 does not change the layout of ten thousand targets when the first time is stored)
   */
  lastSentAt = -Infinity;
  finished = false;

  readonly stats = new RttStatistics();
  /** every sent probe, when the run keeps them */
  readonly probes: Probe[] | null;
  /** sent probes still waiting, newest first (a list through the probes, no allocation) */
  pendingHead: Probe | null = null;

  constructor(
    readonly index: number,
    readonly info: PingTarget,
    keepProbes: boolean,
    dests: Buffer = Buffer.alloc(16),
    /** TCP probes: results say how the port answered */
    private readonly tcp = false,
  ) {
    this.dest = dests;
    this.destOffset = 16 * (dests.length > 16 ? index : 0);
    if (info.family === 4 && writeDottedQuad(info.address, dests, this.destOffset)) {
      // a dotted quad is already spelled as replies will spell it
      this.address = this.wireAddress = info.address;
      this.scopeId = 0;
    } else {
      writeAddress(info.address, dests, this.destOffset);
      this.scopeId = info.family === 6 ? scopeIdOf(info.address) : 0;
      this.address = readAddress(dests, this.destOffset, info.family, this.scopeId);
      this.wireAddress = withoutZone(this.address);
    }
    this.probes = keepProbes ? [] : null;
  }

  addPending(p: Probe): void {
    p.prevPending = null;
    p.nextPending = this.pendingHead;
    if (this.pendingHead !== null) this.pendingHead.prevPending = p;
    this.pendingHead = p;
  }

  removePending(p: Probe): void {
    if (p.prevPending !== null) p.prevPending.nextPending = p.nextPending;
    else if (this.pendingHead === p) this.pendingHead = p.nextPending;
    else return;
    if (p.nextPending !== null) p.nextPending.prevPending = p.prevPending;
    p.prevPending = p.nextPending = null;
  }

  /** The waiting probes, oldest first. */
  pendingProbes(): Probe[] {
    const out: Probe[] = [];
    for (let p = this.pendingHead; p !== null; p = p.nextPending) out.push(p);
    return out.reverse();
  }

  get family(): 4 | 6 {
    return this.info.family;
  }

  /** Percentage of transmitted probes lost so far (0 when nothing was sent). */
  get loss(): number {
    return this.transmitted > 0 ? (this.lost / this.transmitted) * 100 : 0;
  }

  result(includeProbes: boolean): PingTargetResult {
    const r: PingTargetResult = {
      target: this.info.target,
      address: this.address,
      family: this.info.family,
      transmitted: this.transmitted,
      received: this.received,
      duplicates: this.duplicates,
      corrupted: this.corrupted,
      errors: this.errors,
      late: this.late,
      loss: Math.round(this.loss * 1e4) / 1e4,
      rtt: this.stats.summary(),
      probes: includeProbes && this.probes ? this.probes.map((p) => p.toResult(this.tcp)) : [],
    };
    if (this.tcp) r.closed = this.closed;
    return r;
  }
}
