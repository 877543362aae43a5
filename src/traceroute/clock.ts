// Time for the traceroute engine: a monotonic clock with timers for scheduling, and the
// conversion of kernel timestamps (CLOCK_REALTIME, the clock of SO_TIMESTAMPNS and of the send
// times the addon takes around sendmsg) to milliseconds. RTTs only ever subtract two stamps.
import { native, tsDiffMs } from '../native.js';

export type TimerHandle = unknown;

export interface TraceClock {
  /** monotonic milliseconds, for deadlines and timers */
  now(): number;
  /** a kernel timestamp as milliseconds on one fixed base (RTT = difference of two) */
  stamp(sec: number, nsec: number): number;
  /** the current CLOCK_REALTIME on the same base as stamp(), for answers the kernel did not stamp */
  realtimeStamp(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: performance.now(), Node timers, CLOCK_REALTIME from the addon. */
export function systemClock(): TraceClock {
  const n = native();
  const out = new Float64Array(2);
  n.clockRealtime(out);
  const baseSec = out[0]!;
  const baseNsec = out[1]!;
  return {
    now: () => performance.now(),
    stamp: (sec, nsec) => tsDiffMs(sec, nsec, baseSec, baseNsec),
    realtimeStamp: () => {
      n.clockRealtime(out);
      return tsDiffMs(out[0]!, out[1]!, baseSec, baseNsec);
    },
    setTimer: (callback, delayMs) => setTimeout(callback, Math.max(0, delayMs)),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}
