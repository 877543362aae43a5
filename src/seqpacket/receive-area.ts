// Where received messages land. One area per thread (JS runs one socket's read at a time):
// messages are packed back to back into a slab, and each message handed out is a Buffer
// view of it, so a batch costs one native call and no copies. A slab is replaced, never
// reused, once it cannot take another message of the reading socket's maximum size: views
// handed out earlier keep their bytes (like Node's own Buffer pool).
import { RECV_MESSAGE_STRIDE } from '../native.js';

/** Entries one recvMessages call may return. */
export const RECEIVE_BATCH = 256;
/** Room for the fds of a batch: at least one message with the maximum (253). */
const FDS_CAPACITY = 2048;
const MIN_SLAB = 256 * 1024;
/** Room beyond maxMessageSize in a reused (onread) buffer, so one call takes many messages. */
const REUSED_EXTRA = 256 * 1024;

export class ReceiveArea {
  readonly meta = new Int32Array(RECV_MESSAGE_STRIDE * RECEIVE_BATCH);
  readonly fds = new Int32Array(FDS_CAPACITY);
  slab: Buffer = Buffer.alloc(0);
  /** the backend that reports into meta/fds (tests switch between fakes) */
  private attached: { setReceiveArea(meta: Int32Array, fds: Int32Array): void } | null = null;

  /** Makes the backend report into this area's meta and fds. */
  attach(backend: { setReceiveArea(meta: Int32Array, fds: Int32Array): void }): void {
    if (this.attached === backend) return;
    backend.setReceiveArea(this.meta, this.fds);
    this.attached = backend;
  }
  /** where the next message may start */
  offset = 0;

  /** Makes sure a message of maxMessageSize fits after offset. */
  reserve(maxMessageSize: number): void {
    if (this.slab.length - this.offset >= maxMessageSize) return;
    this.slab = Buffer.allocUnsafeSlow(Math.max(MIN_SLAB, 2 * maxMessageSize));
    this.offset = 0;
  }

  private reused: Buffer = Buffer.alloc(0);

  /** The buffer onread sockets without their own share: overwritten by every read. */
  reusable(maxMessageSize: number): Buffer {
    if (this.reused.length < maxMessageSize + REUSED_EXTRA) {
      this.reused = Buffer.allocUnsafeSlow(maxMessageSize + REUSED_EXTRA);
      markReused(this.reused);
    }
    return this.reused;
  }

  /** Marks bytes up to `end` as handed out (8-byte aligned for the next one). */
  consume(end: number): void {
    this.offset = Math.min(this.slab.length, (end + 7) & ~7);
  }
}

let area: ReceiveArea | undefined;

/** The area of the current thread (module state is per worker). */
export function receiveArea(): ReceiveArea {
  return (area ??= new ReceiveArea());
}

/** Memory that reads overwrite (onread buffers): whoever keeps a view of it must copy. */
const reusedMemory = new WeakSet<ArrayBufferLike>();

export function markReused(b: Uint8Array): void {
  reusedMemory.add(b.buffer);
}

export function isReusedMemory(b: Uint8Array): boolean {
  return reusedMemory.has(b.buffer);
}
