// Public traceroute API: a trace (Promise of the netdiag.traceroute/1 document), a report of
// per-hop statistics over cycles, and streaming forms of both. Unreachable destinations and
// silent hops are results, not exceptions; bad options throw TypeError/RangeError naming the
// option; a method the process may not use throws ERR_NETDIAG_PRIVILEGE naming the fix. A
// signal aborted while the run goes ends it early with what was learned (`aborted: true`);
// one aborted before it starts sends nothing and fails with an AbortError (src/abort.ts).
export type * from './types.js';
export type { TracerouteBackend, TransportRequest } from './backend.js';
export type { TraceClock } from './clock.js';
export type { ProbeTransport, ProbeRequest, ProbeReply, SendOutcome } from './transport.js';
export { preparedBackend, systemBackend } from './backend.js';
export { systemTraceClock } from './clock.js';
export { parseWaitArgument, DEFAULT_WAIT } from './wait-policy.js';
export { ReverseDnsCache } from '../runtime/reverse-dns.js';
// one module per kind of run, so a caller that imports one directly loads only its code
export { traceroute, tracerouteStream } from './trace-api.js';
export { tracerouteReport, tracerouteReportStream } from './report-api.js';
export { tracerouteMultipath } from './mda/run.js';
export { DEFAULT_MULTIPATH_INTERVAL_MS, MultipathHistory, tracerouteMultipathCycles } from './mda/watch.js';
export type { MultipathCycle, MultipathPathChange, MultipathPathRecord, MultipathWatchOptions } from './mda/watch.js';
export type * from './mda/types.js';
