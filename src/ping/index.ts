// Public API of netdiag's ping (re-exported from src/index.ts).
export { ping, pingMany, pingStream, isReachable, type ReachableOptions } from './api.js';
export { PingRun } from './run.js';
export { ResolveError } from './resolve.js';
export type {
  IcmpSocketKind, PingDocument, PingEvent, PingIcmpError, PingOptions, PingProbeResult, PingReply,
  PingRttSummary, PingTarget, PingTargetResult, PmtuDiscovery, ProbeFlag, ProbeStatus,
} from './types.js';
