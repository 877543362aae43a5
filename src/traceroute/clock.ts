// Time for the traceroute engine: the shared monotonic clock with timers (src/runtime/clock.ts)
// plus the conversion of kernel timestamps (CLOCK_REALTIME, the clock of SO_TIMESTAMPNS and of
// the send times the addon takes around sendmsg) to milliseconds. RTTs only ever subtract two stamps.
import { native, tsDiffMs } from '../native.js';
import { systemClock, type Clock } from '../runtime/clock.js';

export interface TraceClock extends Clock {
  /** a kernel timestamp as milliseconds on one fixed base (RTT = difference of two) */
  stamp(sec: number, nsec: number): number;
  /** the current CLOCK_REALTIME on the same base as stamp(), for answers the kernel did not stamp */
  realtimeStamp(): number;
}

/** The real clock: the system clock's timers, CLOCK_REALTIME from the addon. */
export function systemTraceClock(): TraceClock {
  const n = native();
  const out = new Float64Array(2);
  n.clockRealtime(out);
  const baseSec = out[0]!;
  const baseNsec = out[1]!;
  return {
    ...systemClock(),
    stamp: (sec, nsec) => tsDiffMs(sec, nsec, baseSec, baseNsec),
    realtimeStamp: () => {
      n.clockRealtime(out);
      return tsDiffMs(out[0]!, out[1]!, baseSec, baseNsec);
    },
  };
}
