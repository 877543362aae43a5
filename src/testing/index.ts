// netdiag/testing: real network namespaces for integration tests (yours and netdiag's own).
// Nothing here is loaded by `import 'netdiag'`; it is the package's "./testing" subpath.
export { testNetworkSupport } from './support.js';
export type { TestNetworkSupport } from './support.js';
export { NamespaceGroup, sweepStaleNamespaces } from './namespace-group.js';
export type { Family, FamilySelector, NftHook, RejectKind, RouteType, RuleOptions, RunAs, RunOptions } from './namespace-group.js';
export { Topology, createTopology } from './chain.js';
export type { Endpoint, Hop, Link, TopologyOptions } from './chain.js';
export { LoopbackNamespace, loopbackNamespace } from './loopback.js';
export type { LoopbackOptions } from './loopback.js';
export { Network, createNetwork } from './network.js';
export type { NetworkDescription, NetworkInterface, NetworkLink, NetworkLinkSpec, NetworkNode } from './network.js';
export { ProcessError, formatCommand, runChecked, runProcess, runProcessSync, startProcess } from './process.js';
export type { ProcessOptions, ProcessResult, RunningProcess } from './process.js';
export { PathResponder, SimulatedPath, createSimulatedPath } from './simulated-path.js';
export type { SimHop, SimScenario, SimulatedPathOptions } from './simulated-path.js';
