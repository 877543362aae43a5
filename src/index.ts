// netdiag's public API: re-exports only.
export { doctor } from './doctor.js';
export type { DoctorReport, DoctorCheck, SocketProbe } from './doctor.js';
export { PrivilegeError, UsageError } from './errors.js';
export type { SystemError } from './errors.js';
export { icmpAccess, chooseIcmpMode } from './privileges.js';
export type { IcmpAccess, IcmpMode, IcmpModeRequest } from './privileges.js';
export { addonInfo } from './native.js';
export type { AddonInfo } from './native.js';
export * from './ping/index.js';
export * from './traceroute/index.js';
export * from './sockets/index.js';
export * from './seqpacket/index.js';
export * from './serve/index.js';
