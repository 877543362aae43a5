// Reads /proc/net tables in order and yields their complete lines in chunks.
//
// The kernel formats these files one page per read() (~50 µs per 4 KiB for TCP), so at
// 100k sockets reading alone takes ~190 ms. For big tables (`offload`) a worker thread does
// those reads on the other core while this thread parses: until the worker has started,
// this thread reads synchronously itself, then hands the open file over between two reads
// (proc-reader-worker.ts). Small tables never pay for a worker.
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { FD, GO, READER_WORKER_SOURCE, READY, STATE_WORDS, STOP, TABLE } from './proc-reader-worker.js';

export interface TableChunk {
  /** index into the paths given to readTables */
  table: number;
  buf: Buffer;
  start: number;
  end: number;
}

export interface ReadTablesOptions {
  /** read through a worker thread (worth it above some 20k lines) */
  offload?: boolean;
  /** give every table to the worker at once (this thread has other work meanwhile) */
  handOverAtOnce?: boolean;
  signal?: AbortSignal;
}

interface WorkerMessage {
  table?: number;
  chunk?: Uint8Array;
  missing?: true;
  end?: true;
  released?: true;
  done?: true;
  error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

const BUFFER_SIZE = 256 * 1024;
const YIELD_BYTES = 512 * 1024;

/** The end of the last complete line in buf[0, filled), 0 when there is none. */
function linesEnd(buf: Buffer, filled: number): number {
  // (lastIndexOf with a negative offset would count from the end of the buffer)
  return filled === 0 ? 0 : buf.lastIndexOf(10, filled - 1) + 1;
}

/** A worker thread and the queue of what it sent. */
class ReaderWorker {
  readonly state = new Int32Array(new SharedArrayBuffer(STATE_WORDS * 4));
  private readonly worker: Worker;
  private readonly queue: WorkerMessage[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  /** the fd handed over, this thread's to close once the worker has released it */
  private handedFd = -1;
  private stopped = false;

  constructor(paths: string[]) {
    this.state[FD] = -1;
    // execArgv: [] so a parent's --input-type=module cannot turn the CommonJS source into ESM
    this.worker = new Worker(READER_WORKER_SOURCE, { eval: true, execArgv: [], workerData: { state: this.state.buffer, paths } });
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.released) this.closeHandedFd();
      else this.push(m);
    });
    this.worker.on('error', (e: Error) => {
      this.failure = e;
      this.push({ done: true });
    });
    this.worker.on('exit', () => {
      this.closeHandedFd();
      this.push({ done: true });
    });
  }

  get ready(): boolean {
    return Atomics.load(this.state, READY) === 1;
  }

  /** Lets the worker go on from table `table`, continuing `fd` when it is not -1. */
  handOver(table: number, fd: number): void {
    this.handedFd = fd;
    Atomics.store(this.state, TABLE, table);
    Atomics.store(this.state, FD, fd);
    Atomics.store(this.state, GO, 1);
    Atomics.notify(this.state, GO);
  }

  async next(): Promise<WorkerMessage> {
    while (this.queue.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    const m = this.queue.shift()!;
    if (this.failure) throw this.failure;
    if (m.error) throw Object.assign(new Error(m.error.message), m.error);
    return m;
  }

  /** Stops the worker (it closes what it opened) without keeping the process alive. */
  stop(): void {
    this.stopped = true;
    Atomics.store(this.state, STOP, 1);
    Atomics.store(this.state, GO, 1);
    Atomics.notify(this.state, GO);
    this.queue.length = 0;
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  private closeHandedFd(): void {
    if (this.handedFd < 0) return;
    closeSync(this.handedFd);
    this.handedFd = -1;
  }

  private push(m: WorkerMessage): void {
    if (this.stopped) return;
    this.queue.push(m);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** A reader worker, or null where threads are not allowed (this thread then reads alone). */
function startWorker(paths: string[]): ReaderWorker | null {
  try {
    return new ReaderWorker(paths);
  } catch {
    return null;
  }
}

/**
 * Starts reading `paths` (a missing file is skipped: its protocol is not loaded) and returns
 * the chunks of complete lines, table by table. The worker, if any, starts at once; call
 * return() on the generator if you stop before the end.
 */
export function readTables(paths: string[], options: ReadTablesOptions = {}): AsyncGenerator<TableChunk> {
  const worker = options.offload ? startWorker(paths) : null;
  const handedOver = worker !== null && options.handOverAtOnce === true;
  if (handedOver) worker.handOver(0, -1);
  return chunksOf(paths, worker, handedOver, options.signal);
}

async function* chunksOf(paths: string[], worker: ReaderWorker | null, handedOverAtOnce: boolean, signal: AbortSignal | undefined): AsyncGenerator<TableChunk> {
  try {
    // the partial last line this thread read before handing its file over
    let carry: Buffer | null = null;
    let carryTable = -1;
    let handedOver = handedOverAtOnce;

    let sinceYield = 0;
    for (let t = 0; t < paths.length && !handedOver; t++) {
      let fd: number;
      try {
        fd = openSync(paths[t]!, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      let ownFd = true;
      try {
        let buf = Buffer.allocUnsafe(BUFFER_SIZE);
        let filled = 0;
        for (;;) {
          if (worker?.ready) {
            // the worker reads on from here while this thread parses what it has
            const cut = linesEnd(buf, filled);
            carry = Buffer.from(buf.subarray(cut, filled));
            carryTable = t;
            ownFd = false;
            worker.handOver(t, fd);
            handedOver = true;
            if (cut > 0) yield { table: t, buf, start: 0, end: cut };
            break;
          }
          if (filled === buf.length) {
            // no newline in the whole buffer (a very long unix path): grow it
            const bigger = Buffer.allocUnsafe(buf.length * 2);
            buf.copy(bigger, 0, 0, filled);
            buf = bigger;
          }
          const n = readSync(fd, buf, filled, buf.length - filled, null);
          if (n === 0) break;
          filled += n;
          sinceYield += n;
          if (buf.length - filled < 8192) {
            const cut = linesEnd(buf, filled);
            if (cut > 0) {
              yield { table: t, buf, start: 0, end: cut };
              buf.copy(buf, 0, cut, filled);
              filled -= cut;
            }
          }
          if (sinceYield >= YIELD_BYTES) {
            sinceYield = 0;
            await yieldToLoop();
            signal?.throwIfAborted();
          }
        }
        if (!handedOver && filled > 0) yield { table: t, buf, start: 0, end: filled };
      } finally {
        if (ownFd) closeSync(fd);
      }
    }
    if (!worker || !handedOver) return;

    for (;;) {
      const m = await worker.next();
      signal?.throwIfAborted();
      if (m.done) return;
      const table = m.table!;
      if (m.chunk) {
        let buf = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
        if (carry !== null && carryTable === table) {
          buf = Buffer.concat([carry, buf]);
          carry = null;
        }
        yield { table, buf, start: 0, end: buf.length };
      } else if (m.end && carry !== null && carryTable === table) {
        if (carry.length > 0) yield { table, buf: carry, start: 0, end: carry.length };
        carry = null;
      }
    }
  } finally {
    worker?.stop();
  }
}
