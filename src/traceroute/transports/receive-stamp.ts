// The time a reply arrived, on the trace clock's stamp base.
import type { TraceClock } from '../clock.js';

/** Receive time of a datagram on the clock's stamp base (the kernel's stamp when it gave one). */
export function receiveStamp(clock: TraceClock, rxSec: number, rxNsec: number): number {
  return rxSec >= 0 ? clock.stamp(rxSec, rxNsec) : clock.realtimeStamp();
}
