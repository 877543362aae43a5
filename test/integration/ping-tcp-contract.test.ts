// The TCP part of the PingBackend contract (test/contract/ping-backend.ts) against the system
// backend on loopback: a listener on 127.0.0.1 and ::1 in this process (one probe at a time:
// its accept queue never fills), and a port nothing listens on. SYN sockets need root.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { systemPingBackend } from '../../src/ping/system-backend.js';
import { describeTcpPingBackendContract } from '../contract/ping-backend.js';

const servers: Server[] = [];
const ports = { open: 0, closed: 0 };

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.on('error', () => {}).destroy());
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}

beforeAll(async () => {
  const v4 = await listen('127.0.0.1', 0);
  ports.open = (v4.address() as { port: number }).port;
  servers.push(v4, await listen('::1', ports.open));
  const spare = await listen('127.0.0.1', 0);
  ports.closed = (spare.address() as { port: number }).port;
  await new Promise((r) => spare.close(r));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const raw = process.getuid?.() === 0;
if (!raw) process.stderr.write('[skipped] TCP SYN part of the contract: needs root (raw sockets)\n');
describeTcpPingBackendContract('system', systemPingBackend, {
  methods: raw ? ['tcp-syn', 'tcp-connect'] : ['tcp-connect'], families: [4, 6], ports: () => ports, run: (p) => p,
});
