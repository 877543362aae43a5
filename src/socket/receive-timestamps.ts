// Waits until the kernel stamps packets on arrival. The first socket asking for receive
// timestamps turns them on system-wide through deferred kernel work; until that work has run,
// packets get stamped only when read, i.e. with JS's delay. A datagram to ourselves on loopback
// tells: stamped before we read it means timestamps are on. The work usually takes a fraction of
// a millisecond to a few, so the first looks come after each turn of the event loop (callers start
// this right after opening their sockets and await it after resolving names), and only a long
// wait falls back to a millisecond timer.
import { native, RECV_ADDR_STRIDE, RECV_META_STRIDE, RecvMeta } from '../native.js';
import { writeAddress } from './address-bytes.js';
import { SendBatch } from './send-batch.js';

/** How long to look again after every turn of the event loop before looking once a millisecond. */
const EAGER_MS = 5;

/** Resolves once arrival timestamps are on (or after maxWaitMs; at once when loopback is unusable). */
export async function receiveTimestampsOn(maxWaitMs = 50): Promise<void> {
  const n = native();
  const C = n.constants;
  let fd = -1;
  try {
    fd = n.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP);
    n.setsockoptInt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
    n.bind(fd, 4, '127.0.0.1', 0);
    const port = n.getsockname(fd).port ?? 0;
    const batch = new SendBatch(1, 1);
    const dest = Buffer.alloc(16);
    writeAddress('127.0.0.1', dest, 0);
    const buf = Buffer.alloc(64);
    const meta = new Float64Array(RECV_META_STRIDE);
    const addrs = Buffer.alloc(RECV_ADDR_STRIDE);
    const now = new Float64Array(2);
    const start = performance.now();
    const deadline = start + maxWaitMs;
    for (;;) {
      batch.clear();
      batch.push(1, 4, dest, 0, port);
      if (n.sendBatch(fd, batch.data, batch.desc, batch.addrs, 1, batch.out) !== 1 || batch.errno(0) !== 0) return;
      n.clockRealtime(now);
      // loopback delivers during sendmsg, so the datagram is already queued
      if (n.recvBatch(fd, buf, 64, 1, meta, addrs, false) === 1) {
        const sec = meta[RecvMeta.tsSec]!, nsec = meta[RecvMeta.tsNsec]!;
        if (sec >= 0 && (sec < now[0]! || (sec === now[0]! && nsec <= now[1]!))) return;
      }
      const waited = performance.now();
      if (waited > deadline) return;
      await new Promise<void>((resolve) => (waited - start < EAGER_MS ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  } catch {
    // no usable loopback here: nothing to measure with
  } finally {
    if (fd >= 0) n.close(fd);
  }
}
