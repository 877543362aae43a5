// Reads /proc/net tables in order and yields their complete lines in chunks.
//
// The kernel formats these files one page per read() (~50 µs per 4 KiB for TCP), so at
// 100k sockets reading alone takes ~190 ms. For big tables (`offload`) a worker thread does
// those reads on the other core while this thread parses: until the worker has started,
// this thread reads synchronously itself, then hands the open file over between two reads
// (proc-reader-worker.ts, a module of its own that tsc's dist/sockets/ and the CLI bundle's
// dist/bin/ both hold next to this code). Small tables never pay for a worker.
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { FD, GO, linesEnd, READY, STATE_WORDS, STOP, TABLE, withRoom, type ReaderWorkerData, type ReaderWorkerMessage } from './proc-reader-protocol.js';

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
  /**
   * The worker's module, by default proc-reader-worker.js next to this one; tests that run
   * this file from its TypeScript source give a compiled copy (Node 20 cannot run .ts).
   */
  workerUrl?: URL;
}

type WorkerMessage = ReaderWorkerMessage;

const BUFFER_SIZE = 256 * 1024;
const YIELD_BYTES = 512 * 1024;

/** The worker's module: a sibling file in dist/sockets/ and in the bundle's dist/bin/. */
const WORKER_URL = new URL('./proc-reader-worker.js', import.meta.url);

/**
 * This process's node options for the worker (module loaders such as --import still apply
 * there), less --input-type: it is only for string input, and a worker given it fails to
 * start (node --input-type=module -e 'import("netdiag")...').
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i]!.startsWith('--input-type=')) out.push(argv[i]!);
  }
  return out;
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

  constructor(paths: string[], url: URL) {
    this.state[FD] = -1;
    const workerData: ReaderWorkerData = { state: this.state.buffer as SharedArrayBuffer, paths };
    this.worker = new Worker(url, { execArgv: workerExecArgv(), workerData });
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

  /**
   * True when the worker failed before it ran (its module could not be loaded: a bundle
   * without proc-reader-worker.js, say): it has read and opened nothing.
   */
  get failedToStart(): boolean {
    return this.failure !== null && !this.ready;
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

/**
 * A reader worker, or null where threads are not allowed. Without a worker, or with one that
 * fails to start (chunksOf), this thread reads alone: the worker only makes it faster.
 */
function startWorker(paths: string[], url: URL): ReaderWorker | null {
  try {
    return new ReaderWorker(paths, url);
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
  const worker = options.offload ? startWorker(paths, options.workerUrl ?? WORKER_URL) : null;
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
          buf = withRoom(buf, filled);
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
      let m: WorkerMessage;
      try {
        m = await worker.next();
      } catch (e) {
        // handed everything over before it ran, and it never did: read here instead
        if (!handedOverAtOnce || !worker.failedToStart) throw e;
        worker.stop();
        yield* chunksOf(paths, null, false, signal);
        return;
      }
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
