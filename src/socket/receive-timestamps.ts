// Waits until the kernel stamps packets on arrival. The first socket asking for receive
// timestamps turns them on system-wide through deferred kernel work; until that work has run,
// packets get stamped only when read, i.e. with JS's delay. A datagram to ourselves on loopback
// tells: stamped before we read it means timestamps are on. The work usually takes a fraction of
// a millisecond to a few, so the first looks come after each turn of the event loop (callers start
// this right after opening their sockets and await it after resolving names), and only a long
// wait falls back to a millisecond timer.
import { native } from '../native.js';
import { writeAddress } from './address-bytes.js';
import { DatagramSocket } from './datagram-socket.js';
import { SendBatch } from './send-batch.js';

/** The socket that asked for timestamps early (requestReceiveTimestamps), kept open to the end. */
let earlyRequest: DatagramSocket | null = null;

/**
 * Asks the kernel to start stamping arrivals now, without waiting: a command that will need
 * timestamps calls this before loading its code, so the kernel's deferred switch-on (~6 ms)
 * runs meanwhile and receiveTimestampsOn() then finds it done. The socket stays open (and
 * timestamps on) until the process ends: closing it would switch them off again.
 */
export function requestReceiveTimestamps(): void {
  if (earlyRequest !== null) return;
  try {
    earlyRequest = new DatagramSocket({ family: 4, type: 'dgram', protocol: native().constants.IPPROTO_UDP });
  } catch {
    // no addon or no sockets here: the command says why when it opens its own
  }
}

/** How long to look again after every turn of the event loop before looking once a millisecond. */
const EAGER_MS = 5;

/** Resolves once arrival timestamps are on (or after maxWaitMs; at once when loopback is unusable). */
export async function receiveTimestampsOn(maxWaitMs = 50): Promise<void> {
  const n = native();
  let sock: DatagramSocket | null = null;
  try {
    sock = new DatagramSocket({ family: 4, type: 'dgram', protocol: n.constants.IPPROTO_UDP, source: '127.0.0.1' });
    const port = n.getsockname(sock.fd).port ?? 0;
    const batch = new SendBatch(1, 1);
    const dest = Buffer.alloc(16);
    writeAddress('127.0.0.1', dest, 0);
    const now = new Float64Array(2);
    let stampedBeforeRead = false;
    const check = (m: { rxSec: number; rxNsec: number }): void => {
      stampedBeforeRead = m.rxSec >= 0 && (m.rxSec < now[0]! || (m.rxSec === now[0]! && m.rxNsec <= now[1]!));
    };
    const start = performance.now();
    const deadline = start + maxWaitMs;
    for (;;) {
      batch.clear();
      batch.push(1, 4, dest, 0, port);
      if (sock.send(batch) !== 1 || batch.errno(0) !== 0) return;
      n.clockRealtime(now);
      // loopback delivers during sendmsg, so the datagram is already queued
      if (sock.read(false, check, 1) === 1 && stampedBeforeRead) return;
      const waited = performance.now();
      if (waited > deadline) return;
      await new Promise<void>((resolve) => (waited - start < EAGER_MS ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  } catch {
    // no usable loopback here: nothing to measure with
  } finally {
    sock?.close();
  }
}
