// The worker thread that reads big /proc/net tables while the main thread parses
// (proc-tables-reader.ts starts it from this file's URL). The kernel formats
// /proc/net/tcp one 4 KiB page per read() at about 2 µs a line (~190 ms at 100k sockets on
// a 2-core VM): that work moves to the worker's core. See proc-reader-protocol.ts for how
// the two threads talk.
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { FD, GO, linesEnd, READY, STOP, TABLE, withRoom, type ReaderWorkerData, type ReaderWorkerMessage } from './proc-reader-protocol.js';

const CHUNK = 256 * 1024;

function post(message: ReaderWorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

/** Sends buf[0, end) as table t's next chunk, handing its memory over. */
function postChunk(t: number, buf: Buffer, end: number): void {
  post({ table: t, chunk: new Uint8Array(buf.buffer, buf.byteOffset, end) }, [buf.buffer as ArrayBuffer]);
}

/** Reads fd to its end (or STOP) and sends it as chunks of whole lines. */
function readTable(state: Int32Array, t: number, fd: number): void {
  let buf = Buffer.allocUnsafe(CHUNK);
  let filled = 0;
  while (!Atomics.load(state, STOP)) {
    buf = withRoom(buf, filled);
    const n = readSync(fd, buf, filled, buf.length - filled, null);
    if (n === 0) break;
    filled += n;
    if (buf.length - filled >= 8192) continue;
    const cut = linesEnd(buf, filled);
    if (cut === 0) continue;
    const next = Buffer.allocUnsafe(CHUNK);
    buf.copy(next, 0, cut, filled);
    postChunk(t, buf, cut);
    filled -= cut;
    buf = next;
  }
  if (filled > 0) postChunk(t, buf, filled);
  post({ table: t, end: true });
}

function run({ state: shared, paths }: ReaderWorkerData): void {
  const state = new Int32Array(shared);
  Atomics.store(state, READY, 1);
  Atomics.wait(state, GO, 0);
  let fd = Atomics.load(state, FD);
  let handed = fd >= 0;
  for (let t = Atomics.load(state, TABLE); t < paths.length && !Atomics.load(state, STOP); t++) {
    if (fd < 0) {
      try {
        fd = openSync(paths[t]!, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          post({ table: t, missing: true });
          continue;
        }
        throw e;
      }
    }
    try {
      readTable(state, t, fd);
    } finally {
      if (handed) post({ released: true });
      else closeSync(fd);
      handed = false;
      fd = -1;
    }
  }
  post({ done: true });
}

// Only as the reader's worker: imported anywhere else (a bundler may share this chunk),
// the module does nothing.
if (parentPort && (workerData as Partial<ReaderWorkerData> | null)?.state instanceof SharedArrayBuffer) {
  try {
    run(workerData as ReaderWorkerData);
  } catch (e) {
    const { message, code, errno, syscall, path } = e as NodeJS.ErrnoException;
    post({ error: { message, code, errno, syscall, path } });
  }
}
