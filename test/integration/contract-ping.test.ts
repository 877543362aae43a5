// The PingBackend contract (test/contract/ping-backend.ts) against the system backend: real
// ICMP sockets to 127.0.0.1 and ::1. Raw sockets need root; ping sockets need this network
// namespace's net.ipv4.ping_group_range to admit our group.
import { readFileSync } from 'node:fs';
import { systemPingBackend } from '../../src/ping/system-backend.js';
import { describePingBackendContract } from '../contract/ping-backend.js';
import { describeWith } from '../helpers/requirements.js';

const real = { families: [4, 6] as const, run: <T>(p: Promise<T>): Promise<T> => p };

describeWith(['root'], 'system ping backend, raw sockets', () => {
  describePingBackendContract('system (raw)', systemPingBackend, { ...real, modes: ['raw'] });
});

/** Why ping sockets cannot be opened here, or null when they can. */
function pingSocketsRefused(): string | null {
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
  const gid = process.getgid?.() ?? -1;
  return gid >= lo! && gid <= hi! ? null : `net.ipv4.ping_group_range is "${lo} ${hi}", which does not admit group ${gid}`;
}

const refused = pingSocketsRefused();
if (refused === null) {
  describePingBackendContract('system (dgram)', systemPingBackend, { ...real, modes: ['dgram'] });
} else {
  process.stderr.write(`[skipped] system ping backend, ping sockets: ${refused}\n`);
}
