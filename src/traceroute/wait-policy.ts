// Linux traceroute's adaptive wait (-w MAX,HERE,NEAR, traceroute 2.1 get_timeout()): a probe
// waits MAX at most, but once another probe of the same hop answered it waits HERE times that
// RTT, and otherwise once a probe sent after it (a later hop) answered, NEAR times that RTT.
// So a silent hop costs a few RTTs once the path behind it answered, not seconds.
import type { ProbeSlot } from './probe-slot.js';
import type { WaitSpec } from './types.js';

/** traceroute adds 1 ms to the RTT "to avoid precision issues" before multiplying. */
export const WAIT_PRECISION_MS = 1;

export const DEFAULT_WAIT: WaitSpec = { maxMs: 5000, here: 3, near: 10 };

function scaled(rtt: number, factor: number, maxMs: number): number {
  const v = (rtt + WAIT_PRECISION_MS) * factor;
  return v < maxMs ? v : maxMs;
}

/** How long (ms after its send) the probe in slots[i] waits for an answer, given what the others know. */
export function probeTimeout(slots: readonly ProbeSlot[], i: number, queries: number, wait: WaitSpec): number {
  const slot = slots[i]!;
  if (wait.here > 0) {
    const hopStart = i - slot.n;
    for (let j = hopStart; j < hopStart + queries && j < slots.length; j++) {
      const p = slots[j]!;
      if (j !== i && p.done && p.rtt !== null && p.rtt > 0) return scaled(p.rtt, wait.here, wait.maxMs);
    }
  }
  if (wait.near > 0) {
    for (let j = i + 1; j < slots.length && slots[j]!.sent; j++) {
      const p = slots[j]!;
      if (p.done && p.rtt !== null && p.rtt > 0) return scaled(p.rtt, wait.near, wait.maxMs);
    }
  }
  return wait.maxMs;
}

/**
 * Parses traceroute's -w argument "MAX[,HERE,NEAR]" in seconds. A single value (the old
 * syntax) turns the adaptive factors off, as traceroute does. Returns null when malformed.
 */
export function parseWaitArgument(text: string): WaitSpec | null {
  const parts = text.split(',');
  if (parts.length > 3 || parts.some((p) => !/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(p))) return null;
  const [max, here, near] = parts.map(Number);
  if (!(max! > 0)) return null;
  // one value turns adaptation off; a factor left out of MAX,HERE keeps its default
  if (parts.length === 1) return { maxMs: max! * 1000, here: 0, near: 0 };
  return { maxMs: max! * 1000, here: here!, near: near ?? DEFAULT_WAIT.near };
}
