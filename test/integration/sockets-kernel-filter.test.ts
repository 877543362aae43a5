// The port and address filters compiled to INET_DIAG_REQ_BYTECODE: each filter runs with the
// kernel filtering (bytecode) and without (user space alone), and both must give the same
// sockets, which /proc must list too; with the bytecode the kernel sends only what matches.
// Loopback only; everything is closed afterwards.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanSockets } from '../../src/sockets/scan.js';
import type { ListSocketsOptions, SocketEntry } from '../../src/sockets/types.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const ports: { v4: number; v6: number; dual: number } = { v4: 0, v6: 0, dual: 0 };

async function serve(options: net.ListenOptions): Promise<number> {
  const server = net.createServer((s) => sockets.push(s));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(options, resolve));
  return (server.address() as net.AddressInfo).port;
}

async function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.once('error', reject);
    sockets.push(s);
  });
}

beforeAll(async () => {
  ports.v4 = await serve({ port: 0, host: '127.0.0.1' });
  ports.v6 = await serve({ port: 0, host: '::1' });
  ports.dual = await serve({ port: 0, host: '::', ipv6Only: false });
  for (let i = 0; i < 3; i++) {
    await connect('127.0.0.1', ports.v4);
    await connect('::1', ports.v6);
    await connect('127.0.0.1', ports.dual);
  }
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function run(options: ListSocketsOptions, internals: { kernelFilter?: boolean }, backend: 'netlink' | 'proc' = 'netlink'): Promise<{ entries: SocketEntry[]; records: number }> {
  const scan = scanSockets({ protocols: ['tcp'], states: ['all'], ...options, backend }, internals);
  const entries: SocketEntry[] = [];
  for await (const batch of scan) entries.push(...batch);
  return { entries, records: scan.recordsReceived };
}

/** What identifies a socket and does not change between two dumps. */
const key = (s: SocketEntry): string => JSON.stringify([s.family, s.state, s.localAddress, s.localPort, s.remoteAddress, s.remotePort, s.inode]);
/** Ours only: other processes' sockets may come and go between the dumps. */
const ours = (s: SocketEntry): boolean => [ports.v4, ports.v6, ports.dual].some((p) => s.localPort === p || s.remotePort === p);
const keys = (list: SocketEntry[]): string[] => list.filter(ours).map(key).sort();

const FILTERS: [string, () => ListSocketsOptions][] = [
  ['a local port', () => ({ localPort: ports.v4 })],
  ['a remote port', () => ({ remotePort: ports.v6 })],
  ['any of two local ports', () => ({ localPort: [ports.v4, ports.v6] })],
  ['a local port range', () => ({ localPort: { from: Math.min(ports.v4, ports.dual), to: Math.max(ports.v4, ports.dual) } })],
  ['every port (nothing to compile)', () => ({ localPort: { from: 0, to: 65535 } })],
  ['an IPv4 local address (also v4-mapped)', () => ({ localAddress: '127.0.0.1', localPort: ports.dual })],
  ['an IPv6 local address', () => ({ localAddress: '::1' })],
  ['a v4-mapped IPv6 address (IPv6 sockets only)', () => ({ localAddress: '::ffff:127.0.0.1' })],
  ['a remote CIDR and a remote port', () => ({ remoteAddress: '127.0.0.0/8', remotePort: ports.dual })],
  ['any of two remote addresses', () => ({ remoteAddress: ['::1', '127.0.0.1'], remotePort: [ports.v4, ports.v6] })],
  ['IPv4 /0', () => ({ localAddress: '0.0.0.0/0' })],
  ['established, a local port and an address', () => ({ states: ['established'], localPort: ports.dual, localAddress: '::ffff:127.0.0.0/104' })],
];

describe('kernel bytecode and user space agree', () => {
  for (const [name, make] of FILTERS) {
    it(name, async () => {
      const options = make();
      const kernel = await run(options, { kernelFilter: true });
      const user = await run(options, { kernelFilter: false });
      const proc = await run(options, {}, 'proc');
      expect(keys(kernel.entries)).toEqual(keys(user.entries));
      expect(keys(kernel.entries)).toEqual(keys(proc.entries));
      // the kernel sent only what matched; without bytecode it sent every TCP socket
      expect(kernel.records).toBe(kernel.entries.length);
      expect(user.records).toBeGreaterThanOrEqual(user.entries.length);
    });
  }

  it('finds what each filter is about (the filters are not vacuous)', async () => {
    expect((await run({ localPort: ports.v4 }, {})).entries).toHaveLength(4);
    expect((await run({ localAddress: '127.0.0.1', localPort: ports.dual }, {})).entries).toHaveLength(3);
    expect((await run({ localAddress: '::ffff:127.0.0.1', localPort: ports.dual }, {})).entries).toHaveLength(3);
    expect((await run({ states: ['established'], remotePort: ports.v6 }, {})).entries).toHaveLength(3);
  });
});
