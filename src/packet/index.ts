// The packet layer: pure encoders/decoders over Uint8Array/Buffer with explicit offsets.
export * from './address.js';
export * from './checksum.js';
export * from './ip-protocol.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './icmp.js';
export * from './icmp-errors.js';
export * from './icmp-extensions.js';
export * from './icmp-error-parse.js';
export * from './icmp-error-build.js';
export * from './udp.js';
export * from './tcp.js';
