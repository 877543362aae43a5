// Public API of netdiag's ping (re-exported from src/index.ts).
export { ping, pingMany, pingStream, isReachable, type PingStreamOptions, type ReachableOptions } from './api.js';
export { preparedPingBackend, systemPingBackend } from './system-backend.js';
export { MissingSocketError } from './socket-pool.js';
export type { PingBackend, PingClock, PingSocket, PingSocketOptions } from './backend.js';
export { PingRun } from './run.js';
export { ResolveError } from './resolve.js';
export type {
  IcmpSocketKind, PingDocument, PingEvent, PingIcmpError, PingOptions, PingProbeResult, PingReply,
  PingRttSummary, PingRttFigures, PingRunStatus, PingTarget, PingTargetResult, PingTargetStatus, IputilsRtt, PmtuDiscovery, ProbeFlag, ProbeStatus,
  PingMethod, PingSocketKind, TcpMethodRequest, TcpPortState,
} from './types.js';
