// Time as the engines see it: a monotonic clock with timers, injected so that unit tests run
// on a fake one (test/helpers/fake-clock.ts) where time moves only when the test says so.
// Engines that also read kernel timestamps extend this interface with their own conversions
// (ping's PingClock, traceroute's TraceClock); scheduling always goes through these methods.

/** A timer as setTimer returned it; only the clock that made it can read it. */
export type TimerHandle = unknown;

export interface Clock {
  /** monotonic milliseconds, for deadlines and timers (never for RTTs: those come from kernel stamps) */
  now(): number;
  /** calls callback once, delayMs (clamped to >= 0) from now */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** whether a pending timer keeps the process alive (Node's ref/unref); a fake has no process to keep */
  refTimer(handle: TimerHandle, referenced: boolean): void;
}

/** The real clock: performance.now() and Node's timers. */
export function systemClock(): Clock {
  return SYSTEM_CLOCK;
}

const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, Math.max(0, delayMs)),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  refTimer: (handle, referenced) => {
    if (referenced) (handle as NodeJS.Timeout).ref();
    else (handle as NodeJS.Timeout).unref();
  },
};
