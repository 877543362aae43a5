// The ping engine: one loop over a few shared sockets that sends probes when the scheduler says
// so, books every reply, error and timeout, and tells an observer as things happen.
//
// Each turn of the loop (pump) reads what the sockets hold, expires due timeouts (after that
// read, so a reply already queued is never booked as lost), and sends the probes now due in
// batches, then goes round again while anything happened: on loopback a reply is queued before
// sendmsg returns, so a flood runs send-read-send without waiting for the event loop. A turn
// yields after a time slice; between turns one timer waits for the earliest due time.
//
// Pure TypeScript: sockets and clock come from a PingBackend; what a probe is and what an answer
// means comes from the channel's probe kind (ICMP echo, TCP SYN, TCP connect: probe-kind.ts).
// Events are built only while someone observes them.

import { isPendingSocketError } from '../socket/pending-errors.js';
import { writeAddress } from '../socket/address-bytes.js';
import type { IcmpMessage } from '../socket/icmp-socket.js';
import { icmpErrorMessage } from '../packet/icmp-errors.js';
import type { PingClock, PingSocket, TimerHandle } from './backend.js';
import { Channel } from './channel.js';
import { EMSGSIZE, localErrorMessage, sendFailureMessage } from './local-error.js';
import { PayloadLayout } from './payload.js';
import { FLAG_BAD_PAYLOAD, FLAG_CORRUPTED, FLAG_DIFFERENT_ADDRESS, FLAG_DUP, Probe, ProbeState, flagNames } from './probe.js';
import { newMatchResult, PORT_CLOSED, type MatchResult } from './reply-matcher.js';
import { Scheduler } from './scheduler.js';
import { TargetState } from './target-state.js';
import { TimeoutQueue } from './timeout-queue.js';
import type { PingDocument, PingEvent, PingIcmpError, PingMethod, PingRunStatus, PingSocketKind, PingTarget } from './types.js';

export interface EngineConfig {
  /** probes per target; Infinity = until the deadline or stop() */
  count: number;
  /** ms between a target's probes; 0 = flood pacing */
  interval: number;
  /** ms a probe waits for its reply */
  timeout: number;
  /** ms after the start when the run ends, or null */
  deadline: number | null;
  /** probes per second across all targets, or null */
  rate: number | null;
  preload: number;
  /** payload bytes */
  size: number;
  pattern: Uint8Array | null;
  /** keep every probe for the result */
  keepProbes: boolean;
}

export type EndReason = 'done' | 'deadline' | 'stopped';
export type PingObserver = (e: PingEvent) => void;

/** Longest stretch of work before the loop yields to other callbacks. */
const SLICE_MS = 10;
/** Reads of the sockets before timeouts are booked (each takes up to DRAIN_BUDGET messages). */
const MAX_DRAIN_ROUNDS = 1000;
/** Wait before retrying a send the kernel refused for lack of buffer space. */
const RETRY_MS = 1;

/** What one echo reply said, before it is booked. */
interface ReplyFacts {
  rtt: number;
  receivedAt: number;
  flags: number;
  badByte: number;
  /** the reply's payload, valid while the message is */
  payloadOffset: number;
  payloadLength: number;
  /** who sent it */
  from: string;
  /** TCP: PORT_OPEN or PORT_CLOSED; 0 for an echo reply */
  state: number;
  /** the bytes the reply counts as, -1 when unknown */
  bytes: number;
}

export class PingEngine implements PingRunStatus {
  readonly targets: TargetState[];
  readonly mode: PingSocketKind;
  readonly method: PingMethod;
  /** TCP: the destination port; null for ICMP */
  readonly port: number | null;
  /** monotonic ms when the first probes went out (-1 before start) */
  startedAt = -1;
  endedAt = -1;
  endReason: EndReason | null = null;
  /** settles when the run has ended */
  readonly done: Promise<void>;

  private observer: PingObserver | null;
  private readonly channels: Channel[] = [];
  /** the channel of each family, indexed by 4 and 6 (an array: looked up for every probe) */
  private readonly channelOf: Array<Channel | undefined> = new Array<Channel | undefined>(7).fill(undefined);
  private readonly deliver: Array<(m: IcmpMessage) => void> = [];
  private readonly scheduler: Scheduler<TargetState>;
  private readonly timeouts = new TimeoutQueue<Probe>();
  private readonly match: MatchResult = newMatchResult();
  private readonly facts: ReplyFacts = { rtt: -0, receivedAt: -0, flags: 0, badByte: -1, payloadOffset: 0, payloadLength: 0, from: '', state: 0, bytes: -1 };
  private readonly untilReplies: boolean;
  private finishedTargets = 0;
  private deadlineAt = Infinity;
  private retryAt = -Infinity;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private deferred: TimerHandle | null = null;
  private pumping = false;
  /** the current turn's time: work done in a turn counts as done at its start */
  private turnNow = -0;
  private stopRequested = false;
  private ended = false;
  private resolveDone!: () => void;

  constructor(
    private readonly clock: PingClock,
    sockets: ReadonlyMap<4 | 6, PingSocket>,
    targets: readonly PingTarget[],
    private readonly cfg: EngineConfig,
    observer: PingObserver | null = null,
  ) {
    this.observer = observer;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const payload = new PayloadLayout(cfg.size, cfg.pattern);
    let first: Channel | null = null;
    for (const [family, socket] of sockets) {
      const ch = new Channel(socket, payload);
      this.channels.push(ch);
      this.channelOf[family] = ch;
      this.deliver.push((m) => this.onMessage(ch, m));
      first ??= ch;
    }
    this.method = first?.kind.method ?? 'icmp';
    this.mode = this.method === 'tcp-connect' ? 'stream' : (first?.socket.mode ?? 'raw');
    this.port = first?.kind.port ?? null;
    const tcp = this.method !== 'icmp';
    const dests = Buffer.alloc(16 * Math.max(2, targets.length));
    this.targets = targets.map((t, i) => {
      if (this.channelOf[t.family] === undefined) throw new Error(`no IPv${t.family} socket for ${t.target}`);
      return new TargetState(i, t, cfg.keepProbes, dests, tcp);
    });
    this.untilReplies = cfg.deadline !== null && Number.isFinite(cfg.count);
    this.scheduler = new Scheduler({
      count: cfg.count, interval: cfg.interval, preload: cfg.preload, rate: cfg.rate, untilReplies: this.untilReplies,
    });
  }

  /** Sets (or with null removes) the function told about every event. */
  observe(observer: PingObserver | null): void {
    this.observer = observer;
  }

  /** Starts sending; `done` settles when the run ends. */
  start(): void {
    if (this.startedAt >= 0) throw new Error('the ping engine was already started');
    const now = this.clock.now();
    this.startedAt = now;
    if (this.cfg.deadline !== null) this.deadlineAt = now + this.cfg.deadline;
    for (const ch of this.channels) {
      ch.socket.start((_readable, errorQueue) => {
        if (errorQueue) ch.errorQueuePending = true;
        this.pump();
      });
    }
    this.scheduler.start(this.targets, now);
    for (let i = 0; i < this.targets.length; i++) this.targetMayBeFinished(this.targets[i]!);
    this.pump();
  }

  /** Ends the run now: what is queued is read, probes still waiting are booked as timed out. */
  stop(): void {
    if (this.ended) return;
    if (this.pumping) {
      // called from an event inside the loop: the loop ends the run when that returns
      this.stopRequested = true;
      return;
    }
    if (this.startedAt < 0) this.startedAt = this.clock.now();
    this.receiveQueued();
    this.end('stopped');
  }

  /** The run's document. */
  document(includeProbes = true): PingDocument {
    const end = this.endedAt >= 0 ? this.endedAt : this.clock.now();
    return {
      schema: 'netdiag.ping/1',
      socket: this.mode,
      method: this.method,
      port: this.port,
      targets: this.targets.map((t) => t.result(includeProbes)),
      elapsed: this.startedAt >= 0 ? Math.round((end - this.startedAt) * 1000) / 1000 : 0,
    };
  }

  // ---------------------------------------------------------------------------------------
  // the loop

  private readonly pump = (): void => {
    if (this.ended || this.pumping) return;
    this.pumping = true;
    try {
      const sliceStart = this.clock.now();
      for (;;) {
        this.turnNow = sliceStart;
        let progress = this.receiveAll(false);
        const now = (this.turnNow = this.clock.now());
        if (now >= this.deadlineAt) {
          this.receiveQueued();
          this.end('deadline');
          return;
        }
        progress += this.expire(now);
        if (this.ended || this.stopRequested) return;
        progress += this.sendDue(now);
        if (this.ended || this.stopRequested) return;
        if (progress === 0) break;
        if (now - sliceStart >= SLICE_MS) {
          // more to do: let other callbacks run first
          this.deferred ??= this.clock.defer(() => {
            this.deferred = null;
            this.pump();
          });
          break;
        }
      }
      this.arm();
    } finally {
      this.pumping = false;
      if (this.stopRequested) this.stop();
    }
  };

  /** Sets the one timer for the earliest due time. */
  private arm(): void {
    let sendAt = this.scheduler.nextTime();
    if (this.batchesWaiting()) sendAt = Math.min(sendAt, this.retryAt);
    // after the kernel refused a send, nothing goes before the retry time
    if (sendAt !== Infinity) sendAt = Math.max(sendAt, this.retryAt);
    const at = Math.min(this.timeouts.peekTime(), sendAt, this.deadlineAt);
    // a timer already set for that time or earlier stays: when it fires early the pump does
    // nothing and arms again (a flood moves its earliest timeout on with every probe, and a
    // clearTimeout plus setTimeout per turn would cost more than the rare early wake-up)
    if (this.timer !== null && this.timerAt <= at) return;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.clock.now()));
  }

  private batchesWaiting(): boolean {
    for (let i = 0; i < this.channels.length; i++) if (this.channels[i]!.batch.count > 0) return true;
    return false;
  }

  /** Reads what every socket holds; errorQueue forces a look at the error queues. */
  private receiveAll(errorQueue: boolean): number {
    let n = 0;
    for (let i = 0; i < this.channels.length && !this.ended; i++) {
      const ch = this.channels[i]!;
      n += this.read(ch, i, false);
      if (errorQueue || ch.errorQueuePending) n += this.read(ch, i, true);
    }
    return n;
  }

  /** Reads everything already queued (error queues included), not just one read's worth. */
  private receiveQueued(): void {
    for (let rounds = 0; rounds < MAX_DRAIN_ROUNDS && this.receiveAll(rounds === 0) > 0; rounds++);
  }

  private read(ch: Channel, i: number, errorQueue: boolean): number {
    if (errorQueue) {
      ch.errorQueuePending = false;
      return ch.socket.read(true, this.deliver[i]!);
    }
    try {
      return ch.socket.read(false, this.deliver[i]!);
    } catch (e) {
      // an ICMP error also leaves a pending socket error (IP_RECVERR) that the next read
      // returns once; its details are in the error queue (iputils reads it there too)
      if (!isPendingSocketError(e) || (e as { syscall?: unknown }).syscall !== 'recvmmsg') throw e;
      ch.errorQueuePending = true;
      return 1;
    }
  }

  /** Books probes whose timeout is due as lost, after reading what already arrived. */
  private expire(now: number): number {
    if (this.timeouts.peekTime() > now) return 0;
    this.receiveQueued();
    let n = 0;
    while (!this.ended && this.timeouts.peekTime() <= now) {
      this.timeOut(this.timeouts.pop()!);
      n++;
    }
    return n;
  }

  private sendDue(now: number): number {
    if (now < this.retryAt) return 0;
    // a batch the kernel could not take whole goes first
    const channels = this.channels;
    for (let i = 0; i < channels.length; i++) {
      const ch = channels[i]!;
      if (ch.batch.count > 0 && !this.flush(ch, now)) return 0;
    }
    let issued = 0;
    for (;;) {
      const t = this.scheduler.takeDue(now);
      if (t === null) break;
      const ch = this.channelOf[t.family]!;
      this.issue(t, ch, now);
      issued++;
      // one full batch per turn, so replies are read between batches
      if (ch.batch.full) break;
    }
    for (let i = 0; i < channels.length; i++) if (channels[i]!.batch.count > 0) this.flush(channels[i]!, now);
    return issued;
  }

  /** Writes t's next probe into ch's batch. */
  private issue(t: TargetState, ch: Channel, now: number): void {
    const p = ch.newProbe(t, ++t.issued, ch.takeSeq32());
    t.inFlight++;
    const batch = ch.batch;
    const length = ch.writeProbe(p.seq32, t);
    batch.push(length, t.family, t.dest, t.destOffset, 0, -1, -1, t.scopeId);
    ch.batchProbes[batch.count - 1] = p;
    this.scheduler.afterIssue(t, now);
  }

  /** Sends ch's batch; false when the kernel took only part of it (the rest is retried). */
  private flush(ch: Channel, now: number): boolean {
    const batch = ch.batch;
    const count = batch.count;
    const sent = ch.socket.sendAndReceive(batch);
    const timeout = this.cfg.timeout;
    let failed = 0;
    for (let i = 0; i < sent; i++) {
      const p = ch.batchProbes[i]!;
      const t = p.target;
      p.sentSec = batch.sentSec(i);
      p.sentNsec = batch.sentNsec(i);
      p.state = ProbeState.Pending;
      t.transmitted++;
      t.lastSentAt = now;
      t.probes?.push(p);
      ch.remember(p);
      const errno = batch.errno(i);
      if (errno !== 0) {
        // the kernel refused it: settled below; the error queue may add the MTU
        p.error = { type: null, code: null, message: sendFailureMessage(errno), mtu: null };
        ch.failedSends.push(p);
        failed++;
        continue;
      }
      t.addPending(p);
      this.timeouts.schedule(p, now + timeout);
      if (this.observer !== null) {
        this.observer({ type: 'sent', index: t.index, target: t.info, seq: p.seq, sentAt: p.sentSec * 1e3 + p.sentNsec / 1e6 });
      }
    }
    if (sent === count) {
      batch.clear();
    } else {
      batch.shift(sent);
      ch.batchProbes.copyWithin(0, sent, count);
    }
    if (failed > 0) {
      // sendmsg queued the local errors itself: read them now for the MTU
      ch.errorQueuePending = false;
      ch.socket.read(true, this.deliver[this.channels.indexOf(ch)]!);
      for (const p of ch.failedSends.splice(0)) this.failSend(p);
    }
    if (sent < count) {
      this.retryAt = now + RETRY_MS;
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // what came back

  private onMessage(ch: Channel, m: IcmpMessage): void {
    if (this.ended) return;
    const r = ch.kind.classify(m, this.match);
    switch (r.kind) {
      case 'reply': {
        const p = r.seq32 >= 0 ? ch.bySeq32(r.seq32) : ch.byWireSeq(r.wireSeq, null);
        if (p === undefined || p.state === ProbeState.Queued) return;
        // a TCP answer belongs to a connection: from the target, or it is not ours
        if (r.state !== 0 && !fromTarget(m, p.target)) return;
        this.onReply(ch, p, m, r);
        this.release(ch, p);
        return;
      }
      case 'icmp-error': {
        const p = r.seq32 >= 0 ? ch.bySeq32(r.seq32) : ch.byWireSeq(r.wireSeq, r.destination);
        if (p === undefined || p.state === ProbeState.Queued) return;
        // the quoted destination must be the probe's (iputils checks it too)
        if (r.destination === null || sameAddress(r.destination, p.target.address)) this.onIcmpError(p, m, r);
        this.release(ch, p);
        return;
      }
      case 'local-error': {
        // each local error explains one failed send, in order: take that probe out of the list
        const i = ch.failedSends.findIndex((q) => !q.explained && (r.destination === null || sameAddress(r.destination, q.target.address)));
        const p = i >= 0 ? ch.failedSends[i] : undefined;
        if (p !== undefined) {
          p.explained = true;
          const mtu = r.errno === EMSGSIZE ? r.mtu : null;
          p.error = { type: null, code: null, message: localErrorMessage(ch.family, r.errno, mtu), mtu };
        }
        return;
      }
      default:
        return;
    }
  }

  /** The kernel receive time of m (now, when the kernel gave none) as [sec, nsec]. */
  private receiveTime(m: IcmpMessage): [number, number] {
    return m.rxSec >= 0 ? [m.rxSec, m.rxNsec] : this.clock.realtime();
  }

  private readFacts(ch: Channel, p: Probe, m: IcmpMessage, r: MatchResult): ReplyFacts {
    const f = this.facts;
    let rxSec = m.rxSec, rxNsec = m.rxNsec;
    if (rxSec < 0) [rxSec, rxNsec] = this.clock.realtime();
    const rtt = (rxSec - p.sentSec) * 1e3 + (rxNsec - p.sentNsec) / 1e6;
    f.rtt = rtt > 0 ? rtt : 0;
    f.receivedAt = rxSec * 1e3 + rxNsec / 1e6;
    f.flags = 0;
    if (!r.checksumOk) f.flags |= FLAG_CORRUPTED;
    const t = p.target;
    f.from = fromTarget(m, t) ? t.address : m.from;
    if (f.from !== t.address) f.flags |= FLAG_DIFFERENT_ADDRESS;
    f.payloadOffset = r.payloadOffset;
    f.payloadLength = r.payloadLength;
    f.badByte = ch.payload.firstBadByte(m.buf, r.payloadOffset, r.payloadLength);
    if (f.badByte >= 0) f.flags |= FLAG_BAD_PAYLOAD;
    f.state = r.state;
    f.bytes = r.replyBytes;
    return f;
  }

  private onReply(ch: Channel, p: Probe, m: IcmpMessage, r: MatchResult): void {
    const t = p.target;
    const f = this.readFacts(ch, p, m, r);
    if (!r.checksumOk) {
      // a damaged reply proves nothing: counted, flagged, and the probe keeps waiting
      t.corrupted++;
      p.flags |= FLAG_CORRUPTED;
      this.emitReply('reply', p, m, f, 0);
      return;
    }
    switch (p.state) {
      case ProbeState.Pending:
        this.notePipe(t, p);
        this.record(p, m, f);
        if (f.rtt > this.cfg.timeout) {
          // the kernel's timestamp says it came after the timeout: lost, and late
          t.late++;
          this.settleLost(p, 'late');
          this.emitReply('late', p, m, f, 0);
        } else {
          p.state = ProbeState.Replied;
          p.status = 'reply';
          t.received++;
          if (f.state === PORT_CLOSED) t.closed++;
          t.stats.add(f.rtt);
          this.unwait(p);
          this.emitReply('reply', p, m, f, 0);
        }
        this.afterSettle(t);
        return;
      case ProbeState.Errored:
        // the first reply after the error it was lost to: late; the error stays its result
        t.late++;
        p.state = ProbeState.ErroredThenAnswered;
        this.emitReply('late', p, m, f, 0);
        return;
      case ProbeState.ErroredThenAnswered:
        t.duplicates++;
        p.flags |= FLAG_DUP;
        this.emitReply('late', p, m, f, FLAG_DUP);
        return;
      case ProbeState.TimedOut:
        if (p.status === 'late') {
          t.duplicates++;
          p.flags |= FLAG_DUP;
          this.emitReply('late', p, m, f, FLAG_DUP);
        } else {
          // the first reply after its timeout
          t.late++;
          p.status = 'late';
          this.record(p, m, f);
          this.emitReply('late', p, m, f, 0);
        }
        return;
      default:
        // answered (or failed) already: a duplicate, whose time counts as in iputils
        t.duplicates++;
        p.flags |= FLAG_DUP;
        t.stats.add(f.rtt);
        this.emitReply('reply', p, m, f, FLAG_DUP);
    }
  }

  private record(p: Probe, m: IcmpMessage, f: ReplyFacts): void {
    p.rtt = f.rtt;
    p.ttl = m.ttl ?? -1;
    p.bytes = f.bytes;
    p.from = f.from;
    p.portState = f.state;
    p.flags |= f.flags & ~FLAG_CORRUPTED;
  }

  private emitReply(type: 'reply' | 'late', p: Probe, m: IcmpMessage, f: ReplyFacts, extra: number): void {
    if (this.observer === null) return;
    const t = p.target;
    const reply: PingEvent & { type: 'reply' | 'late' } = {
      type, index: t.index, target: t.info, seq: p.seq,
      reply: {
        rtt: f.rtt, ttl: m.ttl, tos: m.tos, bytes: f.bytes < 0 ? 0 : f.bytes, from: f.from, flags: flagNames(f.flags | extra),
        receivedAt: f.receivedAt,
        mismatch: f.badByte >= 0 && f.badByte < f.payloadLength
          ? { offset: f.badByte, expected: this.channelOf[t.family]!.payload.expectedByte(f.badByte, p.seq32), actual: m.buf[f.payloadOffset + f.badByte]! }
          : null,
      },
    };
    if (f.state !== 0) reply.reply.state = f.state === PORT_CLOSED ? 'closed' : 'open';
    this.observer(reply);
  }

  private onIcmpError(p: Probe, m: IcmpMessage, r: MatchResult): void {
    const t = p.target;
    const error: PingIcmpError = {
      type: r.type,
      code: r.code,
      message: r.message ?? icmpErrorMessage(t.family, r.type!, r.code!, { mtu: r.mtu, pointer: r.pointer }),
      mtu: r.mtu,
    };
    const [rxSec, rxNsec] = this.receiveTime(m);
    const rtt = Math.max(0, (rxSec - p.sentSec) * 1e3 + (rxNsec - p.sentNsec) / 1e6);
    t.errors++;
    const settles = p.state === ProbeState.Pending;
    if (settles) {
      this.notePipe(t, p);
      p.error = error;
      p.from = r.router ?? '';
      p.rtt = rtt;
      this.settleLost(p, 'error');
      p.state = ProbeState.Errored;
    } else if (p.state === ProbeState.TimedOut && p.status === 'timeout') {
      // the error explains the loss: the probe counts as errored from now on
      p.state = ProbeState.Errored;
      p.status = 'error';
      p.error = error;
      p.from = r.router ?? '';
    }
    this.observer?.({ type: 'error', index: t.index, target: t.info, seq: p.seq, error, from: r.router, rtt, receivedAt: rxSec * 1e3 + rxNsec / 1e6 });
    if (settles) this.afterSettle(t);
  }

  private failSend(p: Probe): void {
    const t = p.target;
    t.errors++;
    t.lost++;
    t.inFlight--;
    p.state = ProbeState.Errored;
    p.status = 'error';
    // it never left: no port state to tell
    p.portState = -1;
    this.observer?.({ type: 'error', index: t.index, target: t.info, seq: p.seq, error: p.error!, from: null, rtt: null, receivedAt: null });
    this.release(this.channelOf[t.family]!, p);
    // not afterSettle(): a flood would send the next at once, and fail again, in a loop
    this.scheduler.afterFailedSend(t, this.pumping ? this.turnNow : this.clock.now());
    this.targetMayBeFinished(t);
  }

  private timeOut(p: Probe): void {
    this.settleLost(p, 'timeout');
    const t = p.target;
    const ch = this.channelOf[t.family]!;
    ch.kind.forget(p.seq32);
    this.observer?.({ type: 'timeout', index: t.index, target: t.info, seq: p.seq });
    this.release(ch, p);
    if (!this.ended) this.afterSettle(t);
  }

  /** A run that keeps no probes lets a settled one go (see Channel.release). */
  private release(ch: Channel, p: Probe): void {
    if (!this.cfg.keepProbes && p.state !== ProbeState.Pending && p.state !== ProbeState.Queued) ch.release(p);
  }

  /** Ends a waiting probe without a reply. */
  private settleLost(p: Probe, status: 'timeout' | 'error' | 'late'): void {
    p.state = ProbeState.TimedOut;
    p.status = status;
    p.target.lost++;
    this.unwait(p);
  }

  /** p no longer waits: out of its target's list and the timeout heap. */
  private unwait(p: Probe): void {
    const t = p.target;
    t.inFlight--;
    t.removePending(p);
    this.timeouts.remove(p);
  }

  private notePipe(t: TargetState, p: Probe): void {
    const outstanding = t.transmitted - p.seq + 1;
    if (outstanding > t.pipe) t.pipe = outstanding;
  }

  private afterSettle(t: TargetState): void {
    this.scheduler.afterSettle(t, this.pumping ? this.turnNow : this.clock.now());
    this.targetMayBeFinished(t);
  }

  /** A target is finished when it wants no more probes and none is out. */
  private targetMayBeFinished(t: TargetState): void {
    if (t.finished || this.scheduler.wantsMore(t)) return;
    if (t.inFlight > 0) {
      // with a deadline, `count` replies end the target: what is still out is given up
      if (!this.untilReplies) return;
      const ch = this.channelOf[t.family]!;
      for (const p of t.pendingProbes()) {
        this.settleLost(p, 'timeout');
        ch.kind.forget(p.seq32);
        this.observer?.({ type: 'timeout', index: t.index, target: t.info, seq: p.seq });
        this.release(ch, p);
      }
      if (t.inFlight > 0) return;
    }
    t.finished = true;
    this.scheduler.cancel(t);
    this.finishedTargets++;
    if (this.finishedTargets === this.targets.length) this.end('done');
  }

  private end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    this.endedAt = this.clock.now();
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    if (this.deferred !== null) this.clock.cancelDeferred(this.deferred);
    this.timer = null;
    this.deferred = null;
    // the run is over: whatever is still out has waited its last (indexed loops: no iterator
    // objects for ten thousand targets while this code is still cold)
    const targets = this.targets;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      if (t.pendingHead === null) continue;
      const kind = this.channelOf[t.family]!.kind;
      for (const p of t.pendingProbes()) {
        this.settleLost(p, 'timeout');
        kind.forget(p.seq32);
        this.observer?.({ type: 'timeout', index: t.index, target: t.info, seq: p.seq });
      }
    }
    this.timeouts.clear();
    this.scheduler.clear();
    this.resolveDone();
  }
}


/** True when a reply came from the target's own address (compared as bytes when the socket can). */
function fromTarget(m: IcmpMessage, t: TargetState): boolean {
  return m.sourceEquals !== undefined ? m.sourceEquals(t.dest, t.destOffset) : m.from === t.address;
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (!a.includes(':') || !b.includes(':')) return false;
  // two spellings of one IPv6 address (e.g. ::1.2.3.4 and ::102:304)
  const x = Buffer.alloc(16), y = Buffer.alloc(16);
  try {
    writeAddress(a, x, 0);
    writeAddress(b, y, 0);
  } catch {
    return false;
  }
  return x.equals(y);
}
