// What the /proc table reader (proc-tables-reader.ts) and its worker thread
// (proc-reader-worker.ts) share, so that neither module loads the other.
//
// Protocol over the shared Int32Array `state`:
//   [READY] the worker sets 1 once it runs;
//   [GO]    the main thread sets 1 to hand over, after its last read;
//   [STOP]  the main thread sets 1 to make the worker quit;
//   [TABLE] index into `paths` where the worker starts;
//   [FD]    an fd the main thread already read part of (-1: open paths[TABLE] afresh).
// Messages: {table, chunk} (whole lines; the first chunk of a handed-over fd may start
// mid-line), {table, missing: true}, {table, end: true}, {released: true} (done with the
// handed-over fd, which the main thread closes: a worker may only close what it opened),
// {done: true}, {error}.

export const READY = 0;
export const GO = 1;
export const STOP = 2;
export const TABLE = 3;
export const FD = 4;
export const STATE_WORDS = 5;

/** The worker's workerData. */
export interface ReaderWorkerData {
  state: SharedArrayBuffer;
  paths: string[];
}

export interface ReaderWorkerMessage {
  table?: number;
  chunk?: Uint8Array;
  missing?: true;
  end?: true;
  released?: true;
  done?: true;
  error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

/** The end of the last complete line in buf[0, filled), 0 when there is none. */
export function linesEnd(buf: Buffer, filled: number): number {
  // (lastIndexOf with a negative offset would count from the end of the buffer)
  return filled === 0 ? 0 : buf.lastIndexOf(10, filled - 1) + 1;
}

/** buf when it has room after `filled`; else a buffer twice its size holding its bytes (a
 * line longer than the buffer: a very long unix path). */
export function withRoom<B extends Buffer>(buf: B, filled: number): B {
  if (filled < buf.length) return buf;
  const bigger = Buffer.allocUnsafe(buf.length * 2) as B;
  buf.copy(bigger, 0, 0, filled);
  return bigger;
}
