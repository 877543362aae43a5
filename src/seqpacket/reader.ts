// Reading a readable socket: at most READ_ROUNDS batches per readable event, so one busy
// peer cannot starve the loop, each batch one native call into the thread's receive area.
// The batch size adapts: 1 for request/response (no recvmsg that would only say EAGAIN),
// growing fourfold per full batch under a flood, and a lone message now and then probes
// whether more waited behind it.
import {
  RECV_MESSAGE_END,
  RECV_MESSAGE_ERROR,
  RECV_MESSAGE_FDS_TRUNCATED,
  RECV_MESSAGE_STRIDE,
  RECV_MESSAGE_TRUNCATED,
} from '../native.js';
import type { SeqpacketBackend } from './backend.js';
import { fdsTruncatedError, messageTooLargeError, recvError, withContext } from './errors.js';
import type { SeqpacketMessage } from './message-iterator.js';
import type { ResolvedSocketOptions } from './options.js';
import { RECEIVE_BATCH, receiveArea } from './receive-area.js';

/** Batches read per readable event before yielding to the loop. */
const READ_ROUNDS = 4;
/** Most lone-message wakeups between two probes for more (see readBatches). */
const MAX_PROBE_INTERVAL = 16;
/** SCM_MAX_FD: the most fds one message can carry */
export const FDS_PER_MESSAGE_MAX = 253;

/** What the reader needs from its socket. */
export interface ReaderHost {
  destroyed(): boolean;
  /** whether reading should go on (a handler may have paused, destroyed, filled an iterator) */
  wantRead(): boolean;
  /** hands a batch to the consumers; false: they stopped taking (paused, destroyed, none left) */
  deliver(messages: SeqpacketMessage[]): boolean;
  /** the peer ended its side (EOF after the batch's messages) */
  endOfStream(): void;
  destroy(err: Error): unknown;
}

export class AdaptiveReader {
  /** messages the next read asks for: 1 for request/response, growing under floods */
  private readBudget = 1;
  /** wakeups that found a lone message since the last probe for more */
  private loneReads = 0;
  /** probe for more after this many lone reads; doubles while probes find nothing */
  private probeEvery = 1;
  /** the current read is a probe: did anything wait behind the lone message? */
  private probing = false;

  constructor(
    private readonly host: ReaderHost,
    private readonly backend: SeqpacketBackend,
    private readonly opts: Pick<ResolvedSocketOptions, 'maxMessageSize' | 'onread'>,
  ) {}

  /** Reads what fd has, batch by batch, until it runs dry, the consumers stop or the rounds are used. */
  readBatches(fd: number): void {
    const host = this.host;
    const area = receiveArea();
    area.attach(this.backend);
    const max = this.opts.maxMessageSize;
    const onread = this.opts.onread;
    for (let round = 0; round < READ_ROUNDS; round++) {
      // a handler may have paused or destroyed the socket, or filled an iterator
      if (round > 0 && !host.wantRead()) return;
      // onread: one reused buffer; otherwise fresh memory the messages keep
      let slab: Buffer;
      let start: number;
      if (onread !== null) {
        slab = onread.buffer ?? area.reusable(max);
        start = 0;
      } else {
        area.reserve(max);
        slab = area.slab;
        start = area.offset;
      }
      const want = this.readBudget;
      let n: number;
      try {
        n = this.backend.recvMessages(fd, slab, start, max, want);
      } catch (e) {
        host.destroy(withContext(e, 'receive failed'));
        return;
      }
      if (n === 0) {
        if (this.probing) this.probeEvery = Math.min(MAX_PROBE_INTERVAL, this.probeEvery * 2);
        this.probing = false;
        this.readBudget = 1;
        return;
      }
      if (this.probing) {
        this.probing = false;
        this.probeEvery = 1; // messages were queued behind the lone one: a flood, read on
      }
      const meta = area.meta;
      const ab = slab.buffer;
      const base = slab.byteOffset;
      const messages: SeqpacketMessage[] = [];
      let count = 0;
      let end = start;
      let fdsEnd = 0;
      let eof = false;
      let failure: Error | null = null;
      for (let k = 0; k < n; k++) {
        const m = k * RECV_MESSAGE_STRIDE;
        const off = meta[m]!;
        const len = meta[m + 1]!;
        const flags = meta[m + 2]!;
        const fdCount = meta[m + 4]!;
        if (fdCount > 0) fdsEnd = meta[m + 3]! + fdCount;
        if (flags === 0) {
          const fds = fdCount > 0 ? Array.from(area.fds.subarray(meta[m + 3]!, fdsEnd)) : [];
          messages.push({ data: Buffer.from(ab, base + off, len), fds });
          count++;
          end = off + len;
          continue;
        }
        // a terminal entry (end, error, truncation): its fds go nowhere, it ends the batch
        if (fdCount > 0) this.backend.closeFds(area.fds, meta[m + 3]!, fdCount);
        failure = terminalEntry(flags, len, fdCount, max);
        if (failure === null) eof = true;
        break;
      }
      if (onread === null) area.consume(end);
      const delivered = count === 0 || host.deliver(messages);
      if (host.destroyed()) return;
      if (failure !== null) {
        // errors are not held back behind paused messages
        host.destroy(failure);
        return;
      }
      if (eof) {
        host.endOfStream();
        return;
      }
      if (!delivered) return;
      if (n < want) {
        // fewer than asked: the queue ran dry (EAGAIN), unless the slab or the fd area ran
        // out of room; ask for about as many next time
        if (slab.length - end >= max && fdsEnd + FDS_PER_MESSAGE_MAX <= area.fds.length) {
          this.readBudget = Math.max(1, n);
          return;
        }
        continue;
      }
      if (want === 1) {
        // a lone message, as in request/response: back to the loop without the recvmsg that
        // would most likely say EAGAIN; only now and then probe whether more was waiting
        if (++this.loneReads < this.probeEvery) return;
        this.loneReads = 0;
        this.probing = true;
      }
      this.readBudget = Math.min(RECEIVE_BATCH, want * 4);
    }
  }
}

/** A batch entry that is not a message: null for end of stream, else the error it reports. */
function terminalEntry(flags: number, len: number, fdCount: number, maxMessageSize: number): Error | null {
  if (flags & RECV_MESSAGE_END) return null;
  if (flags & RECV_MESSAGE_ERROR) return recvError(len);
  if (flags & RECV_MESSAGE_TRUNCATED) return messageTooLargeError(len, maxMessageSize);
  if (flags & RECV_MESSAGE_FDS_TRUNCATED) return fdsTruncatedError(fdCount);
  return new Error(`unknown receive flags ${flags}`);
}
