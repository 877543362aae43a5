// What a target host may be before anything resolves it, where probes to it really go, and the
// caps every target list shares (ping and traceroute, library and CLI alike).
export { destinationOf, scopeIdOf, TargetScopeError, thisHostAddress, type Destination, type DestinationOptions } from './destination.js';
export { hostProblem, mappedIPv4, type HostProblem } from './host-text.js';
export { MAX_HOST_LENGTH, MAX_TARGETS, MAX_TARGET_FILE_LINES, MAX_TARGET_LINE_BYTES } from './limits.js';
