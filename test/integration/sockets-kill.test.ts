// netdiag ss -K: SOCK_DESTROY closes exactly the connections the filter matches, the peers
// see the abort (a reset), and it is printed; without a filter it refuses, and without
// CAP_NET_ADMIN it says that is what it needs. tcp_info of a connection with traffic is sane.
// Loopback only; everything is closed afterwards.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listSockets } from '../../src/sockets/index.js';
import { cliPath, worldReadableRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

async function serve(): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    accepted.push(s);
    sockets.push(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

async function connect(port: number): Promise<net.Socket> {
  const s = await new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => resolve(c));
    c.once('error', reject);
  });
  s.on('error', () => {});
  sockets.push(s);
  return s;
}

const closedWith = (s: net.Socket): Promise<string> =>
  new Promise((resolve) => {
    let code = 'closed';
    s.on('error', (e: NodeJS.ErrnoException) => (code = e.code ?? 'error'));
    s.once('close', () => resolve(code));
  });

/** Runs the CLI without blocking this process's loop (the sockets must see their reset). */
function cli(args: string[], setprivArgs: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const argv = setprivArgs.length > 0 ? ['setpriv', ...setprivArgs, process.execPath] : [process.execPath];
  const child = spawn(argv[0]!, [...argv.slice(1), setprivArgs.length > 0 ? `${worldReadableRoot()}/bin/netdiag.js` : cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describeWith(['net_admin'], 'netdiag ss -K', () => {
  let a: { port: number; accepted: net.Socket[] };
  let b: { port: number; accepted: net.Socket[] };
  let clientsA: net.Socket[];
  let clientB: net.Socket;

  beforeAll(async () => {
    a = await serve();
    b = await serve();
    clientsA = [await connect(a.port), await connect(a.port)];
    clientB = await connect(b.port);
    // the accepted ends are there once the server has seen them
    while (a.accepted.length < 2 || b.accepted.length < 1) await new Promise((r) => setTimeout(r, 5));
  });

  it('refuses to run without a filter', async () => {
    const r = await cli(['ss', '-K']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^netdiag: -K closes every socket the filter matches and no filter was given \(add one, e\.g\. .*\)\n$/);
  });

  it('says it needs CAP_NET_ADMIN when it has not', async () => {
    const r = await cli(['ss', '-K', 'dport', '=', `:${a.port}`], ['--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CAP_NET_ADMIN/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(clientsA.every((c) => !c.destroyed)).toBe(true);
  });

  it('closes exactly the matched connections; their peers see a reset', async () => {
    const peers = a.accepted.map(closedWith);
    const locals = clientsA.map(closedWith);
    const localPorts = clientsA.map((c) => c.localPort);
    const r = await cli(['ss', '-tnK', 'dport', '=', `:${a.port}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3); // header and the two closed
    for (const p of localPorts) expect(r.stdout).toContain(`127.0.0.1:${p}`);
    expect(await Promise.all(peers)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(await Promise.all(locals)).toEqual(['ECONNABORTED', 'ECONNABORTED']);
    // the other connection and the listener live on
    expect(clientB.destroyed).toBe(false);
    const left = await listSockets({ protocols: ['tcp'], localAddress: '127.0.0.1', states: ['established'], remotePort: a.port });
    expect(left.sockets).toHaveLength(0);
    const still = await listSockets({ protocols: ['tcp'], states: ['established'], remotePort: b.port });
    expect(still.sockets).toHaveLength(1);
  });
});

describeWith([], 'tcp_info over netlink', () => {
  it('is sane for a loopback connection with traffic (rtt > 0, cwnd >= 1, bytes acked)', async () => {
    const server = net.createServer((s) => s.pipe(s));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const c = await connect(port);
    for (let i = 0; i < 10; i++) {
      c.write(Buffer.alloc(4096, i));
      await new Promise((r) => c.once('data', r));
    }
    const doc = await listSockets({
      backend: 'netlink', protocols: ['tcp'], localPort: c.localPort, remotePort: port, tcpInfo: true, memory: true,
    }); // both ports: under parallel churn the ephemeral port may also be another connection's
    expect(doc.sockets).toHaveLength(1);
    const info = doc.sockets[0]!.tcpInfo!;
    expect(info.rtt).toBeGreaterThan(0);
    expect(info.rtt).toBeLessThan(1000);
    expect(info.cwnd).toBeGreaterThanOrEqual(1);
    expect(info.bytesAcked).toBeGreaterThanOrEqual(4096);
    expect(info.congestion).toMatch(/^\w+$/);
    expect(doc.sockets[0]!.memory!.sndbuf).toBeGreaterThan(0);
    const text = spawnSync(process.execPath, [cliPath(), 'ss', '-tni', '--sport', String(c.localPort), '--dport', String(port)], { encoding: 'utf8' });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/\n\t .*rtt:[\d.]+\/[\d.]+ .*cwnd:\d+/);
  });
});
