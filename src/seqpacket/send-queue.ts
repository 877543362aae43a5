// Messages waiting for the kernel. Small messages are copied into a staging buffer so a
// whole run of send() calls crosses into C++ once; large ones are sent from the caller's
// memory (like net.Socket.write, do not modify them until sent; views of an onread buffer
// are copied, as the next read would overwrite them). fds travel as duplicates
// owned by the queue: closed once sent, or when the queue is discarded.
import type { SeqpacketBackend } from './backend.js';
import { isReusedMemory } from './receive-area.js';

/** Messages up to this size are copied into the staging buffer. */
export const COPY_LIMIT = 16 * 1024;
const STAGING_BYTES = 64 * 1024;
const STAGING_MESSAGES = 256;
const DESC = 4; // offset, length, fdsOffset, fdsCount
const NO_FDS = new Int32Array(32); // never read: every message says it has 0 fds

class Batch {
  desc: Int32Array;
  fds: Int32Array = NO_FDS;
  fdCount = 0;
  count = 0;
  sent = 0;
  used = 0;
  constructor(
    public buf: Buffer,
    readonly staged: boolean,
    capacity: number,
  ) {
    // at least 128 bytes: V8 keeps typed arrays of 64 bytes or less on its heap, and handing
    // one to native code makes it move the contents off-heap first
    this.desc = new Int32Array(Math.max(capacity * DESC, 32));
  }
  get capacity(): number {
    return this.staged ? this.desc.length / DESC : 1;
  }
  reset(): void {
    this.count = this.sent = this.used = this.fdCount = 0;
  }
  addFds(fds: readonly number[]): void {
    const need = this.fdCount + fds.length;
    // NO_FDS is shared by every batch: the first fds get an array of their own
    if (need > this.fds.length || this.fds === NO_FDS) {
      const grown = new Int32Array(Math.max(need, this.fds.length * 2, 64));
      grown.set(this.fds.subarray(0, this.fdCount));
      this.fds = grown;
    }
    for (let i = 0; i < fds.length; i++) this.fds[this.fdCount + i] = fds[i]!;
    this.fdCount = need;
  }
}

export class SendQueue {
  private batches: Batch[] = [];
  private head = 0;
  private spare: Batch | null = null;
  /** bytes accepted by send() and not yet by the kernel */
  bytes = 0;
  messages = 0;

  get empty(): boolean {
    return this.messages === 0;
  }

  /** More than one batch waits: the tail filled up, so it is worth a synchronous flush. */
  get backlogged(): boolean {
    return this.batches.length - this.head > 1;
  }

  /** Queues one message; `fds` are duplicates the queue now owns. */
  push(data: Buffer | Uint8Array | string, length: number, fds: readonly number[] | null): void {
    let b: Batch;
    if (length > COPY_LIMIT) {
      // zero-copy, except from an onread buffer, which the next read overwrites
      const owned = typeof data === 'string' ? Buffer.from(data) : isReusedMemory(data) ? Buffer.from(data) : toBuffer(data);
      b = new Batch(owned, false, 1);
      this.batches.push(b);
    } else {
      b = this.tailForStaging(length);
      if (typeof data === 'string') b.buf.write(data, b.used, length, 'utf8');
      else if (length > 0) b.buf.set(data, b.used);
    }
    const d = b.desc;
    const i = b.count * DESC;
    d[i] = b.used;
    d[i + 1] = length;
    d[i + 2] = b.fdCount;
    d[i + 3] = fds === null ? 0 : fds.length;
    if (fds !== null) b.addFds(fds);
    b.used += length;
    b.count++;
    this.bytes += length;
    this.messages++;
  }

  private tailForStaging(length: number): Batch {
    const tail = this.batches.length > this.head ? this.batches[this.batches.length - 1]! : undefined;
    if (tail !== undefined && tail.staged && tail.count < tail.capacity && tail.used + length <= tail.buf.length) return tail;
    let b = this.spare;
    if (b !== null) {
      this.spare = null;
      b.reset();
    } else {
      b = new Batch(Buffer.allocUnsafeSlow(STAGING_BYTES), true, STAGING_MESSAGES);
    }
    this.batches.push(b);
    return b;
  }

  /**
   * Hands queued messages to the kernel until it refuses (EAGAIN). Returns true when the
   * queue is empty. A system error is rethrown after the messages sent before it are
   * accounted for; the failing message stays queued.
   */
  flush(backend: SeqpacketBackend, fd: number): boolean {
    while (this.head < this.batches.length) {
      const b = this.batches[this.head]!;
      if (b.sent < b.count) {
        let n: number;
        try {
          n = backend.sendMessages(fd, b.buf, b.desc, b.fds, b.sent, b.count - b.sent);
        } catch (e) {
          const sent = (e as { sent?: unknown }).sent;
          if (typeof sent === 'number' && sent > 0) this.completed(backend, b, sent);
          throw e;
        }
        this.completed(backend, b, n);
        if (b.sent < b.count) return false;
      }
      this.head++;
      if (b.staged && this.spare === null) {
        b.reset();
        this.spare = b;
      }
    }
    this.batches.length = 0;
    this.head = 0;
    return true;
  }

  private completed(backend: SeqpacketBackend, b: Batch, n: number): void {
    const d = b.desc;
    let bytes = 0;
    const from = b.sent;
    for (let i = from; i < from + n; i++) bytes += d[i * DESC + 1]!;
    if (b.fdCount > 0 && n > 0) {
      // the kernel holds its own references now: close our duplicates
      const first = d[from * DESC + 2]!;
      const last = from + n - 1;
      const end = d[last * DESC + 2]! + d[last * DESC + 3]!;
      if (end > first) backend.closeFds(b.fds, first, end - first);
    }
    b.sent += n;
    this.bytes -= bytes;
    this.messages -= n;
  }

  /** Drops everything not sent, closing the duplicated fds it held. */
  discard(backend: SeqpacketBackend): void {
    for (let k = this.head; k < this.batches.length; k++) {
      const b = this.batches[k]!;
      if (b.fdCount > 0 && b.sent < b.count) {
        const first = b.desc[b.sent * DESC + 2]!;
        if (b.fdCount > first) backend.closeFds(b.fds, first, b.fdCount - first);
      }
    }
    this.batches.length = 0;
    this.head = 0;
    this.bytes = 0;
    this.messages = 0;
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
