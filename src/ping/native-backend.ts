// The real backend: IcmpSocket from src/icmp, the privilege check from src/privileges, Node's
// timers, and CLOCK_REALTIME from the addon (the clock of its send and receive timestamps).

import { performance } from 'node:perf_hooks';
import { IcmpSocket } from '../socket/icmp-socket.js';
import { receiveTimestampsOn } from '../socket/receive-timestamps.js';
import { native } from '../native.js';
import { chooseIcmpMode } from '../privileges.js';
import type { PingBackend, PingClock, PingSocket, PingSocketOptions, TimerHandle } from './backend.js';
import type { IcmpSocketKind } from './types.js';

const realtimeOut = new Float64Array(2);

export const nodeClock: PingClock = {
  now: () => performance.now(),
  realtime(): [number, number] {
    native().clockRealtime(realtimeOut);
    return [realtimeOut[0]!, realtimeOut[1]!];
  },
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle: TimerHandle) => clearTimeout(handle as NodeJS.Timeout),
  defer: (callback) => setImmediate(callback),
  cancelDeferred: (handle: TimerHandle) => clearImmediate(handle as NodeJS.Immediate),
};

export const nativeBackend: PingBackend = {
  clock: nodeClock,
  chooseMode: (request: IcmpSocketKind | 'auto') => chooseIcmpMode(request),
  timestampsReady: () => receiveTimestampsOn(),
  openSocket(options: PingSocketOptions): PingSocket {
    return new IcmpSocket({
      family: options.family,
      mode: options.mode,
      ttl: options.ttl,
      tos: options.tos,
      mark: options.mark,
      device: options.device,
      source: options.source,
      pmtu: options.pmtu,
      receiveBuffer: options.receiveBuffer,
    });
  },
};
