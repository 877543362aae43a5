// The PingBackend contract (test/contract/ping-backend.ts) against the system backend: real
// ICMP sockets to 127.0.0.1 and ::1. Raw sockets need root. Ping sockets need the network
// namespace's net.ipv4.ping_group_range to admit our group: when the host's does not, this
// file runs itself again inside a namespace of its own (lo only) whose range does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

import { systemPingBackend } from '../../src/ping/system-backend.js';
import { describePingBackendContract } from '../contract/ping-backend.js';
import { describeWith } from '../helpers/requirements.js';
import { useLoopbackNamespace } from '../helpers/topology.js';

const real = { families: [4, 6] as const, run: <T>(p: Promise<T>): Promise<T> => p };
/** set for the run inside the namespace: only the ping-socket suite runs there */
const INSIDE = 'NETDIAG_CONTRACT_PING_SOCKETS';

/** Why ping sockets cannot be opened in this namespace, or null when they can. */
function pingSocketsRefused(): string | null {
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
  const gid = process.getgid?.() ?? -1;
  return gid >= lo! && gid <= hi! ? null : `net.ipv4.ping_group_range is "${lo} ${hi}", which does not admit group ${gid}`;
}

if (process.env[INSIDE] === '1') {
  describePingBackendContract('system (dgram)', systemPingBackend, { ...real, modes: ['dgram'] });
} else {
  describeWith(['root'], 'system ping backend, raw sockets', () => {
    describePingBackendContract('system (raw)', systemPingBackend, { ...real, modes: ['raw'] });
  });

  if (pingSocketsRefused() === null) {
    describePingBackendContract('system (dgram)', systemPingBackend, { ...real, modes: ['dgram'] });
  } else {
    describeWith(['root', 'tool:ip'], 'system ping backend, ping sockets (in a namespace that admits them)', () => {
      const lo = useLoopbackNamespace();

      it('passes the contract there', async () => {
        const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
        const self = fileURLToPath(import.meta.url);
        const r = await lo.run(lo.ns, process.execPath, [vitest, 'run', '--reporter=verbose', self], {
          // plain text, so the summary can be read
          env: { ...process.env, [INSIDE]: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
          timeoutMs: 120_000,
        });
        expect(r.code, r.stdout + r.stderr).toBe(0);
        // the suite ran there, every test of it, and none was skipped
        expect(r.stdout).toMatch(/PingBackend contract: system \(dgram\)/);
        expect(r.stdout).not.toMatch(/skipped/i);
        expect(r.stdout).toMatch(/Tests\s+\d+ passed \(\d+\)/);
      }, 150_000);
    });
  }
}
