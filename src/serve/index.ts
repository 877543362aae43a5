// Public API of netdiag serve (re-exported from src/index.ts).
export { createProber, type Prober, type ProberOptions } from './prober.js';
export { createProberServer, type ProberServerOptions } from './http-server.js';
export { loadConfigFile, parseConfigText, parseConfigObject, configOfHosts, type ServeConfig, type TargetGroup, type ProbeModule, type ProbeSettings } from './config.js';
export { ConfigError } from './config-error.js';
export { negotiateFormat, CONTENT_TYPES, type ExpositionFormat } from './exposition.js';
export { ChunkPool } from './chunk-pool.js';
export type { ProbeAnswer, ProbeRequest as ServeProbeRequest } from './probe-endpoint.js';
