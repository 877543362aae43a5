// Source of the worker thread that reads big /proc/net tables while the main thread parses.
// The kernel formats /proc/net/tcp one 4 KiB page per read() at about 2 µs a line (~190 ms
// at 100k sockets on a 2-core VM): that work moves to the worker's core. An eval'd
// CommonJS string, so the same code runs from src/ (tests) and dist/.
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

export const READER_WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const state = new Int32Array(workerData.state);
const paths = workerData.paths;
const CHUNK = 256 * 1024;
Atomics.store(state, ${READY}, 1);
Atomics.wait(state, ${GO}, 0);
try {
  let fd = Atomics.load(state, ${FD});
  let handed = fd >= 0;
  for (let t = Atomics.load(state, ${TABLE}); t < paths.length && !Atomics.load(state, ${STOP}); t++) {
    if (fd < 0) {
      try {
        fd = openSync(paths[t], 'r');
      } catch (e) {
        if (e.code === 'ENOENT') { parentPort.postMessage({ table: t, missing: true }); continue; }
        throw e;
      }
    }
    try {
      let buf = Buffer.allocUnsafe(CHUNK);
      let filled = 0;
      for (;;) {
        if (Atomics.load(state, ${STOP})) break;
        if (filled === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, filled);
          buf = bigger;
        }
        const n = readSync(fd, buf, filled, buf.length - filled, null);
        if (n === 0) break;
        filled += n;
        if (buf.length - filled >= 8192) continue;
        const cut = buf.lastIndexOf(10, filled - 1) + 1;
        if (cut === 0) continue;
        const next = Buffer.allocUnsafe(CHUNK);
        buf.copy(next, 0, cut, filled);
        const chunk = new Uint8Array(buf.buffer, buf.byteOffset, cut);
        parentPort.postMessage({ table: t, chunk }, [buf.buffer]);
        filled -= cut;
        buf = next;
      }
      if (filled > 0) {
        const chunk = new Uint8Array(buf.buffer, buf.byteOffset, filled);
        parentPort.postMessage({ table: t, chunk }, [buf.buffer]);
      }
      parentPort.postMessage({ table: t, end: true });
    } finally {
      if (handed) parentPort.postMessage({ released: true });
      else closeSync(fd);
      handed = false;
      fd = -1;
    }
  }
  parentPort.postMessage({ done: true });
} catch (e) {
  parentPort.postMessage({ error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path } });
}
`;
