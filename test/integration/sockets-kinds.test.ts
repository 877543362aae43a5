// One socket of every kind, made for real, found by listSockets with the right fields and
// owner: TCP listening/established/TIME_WAIT, UDP bound/connected, unix stream (path,
// abstract, unbound), unix dgram and seqpacket (python3: Node cannot make them), raw ICMP
// (python3, CAP_NET_RAW). Each suite runs on both backends (sock_diag and /proc), and the two
// must list the same sockets with the same fields. Everything is loopback or AF_UNIX and
// closed afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listSockets, type SocketEntry } from '../../src/sockets/index.js';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';

const comm = readFileSync('/proc/self/comm', 'utf8').trim();

/** The socket with this inode; its owners must include (pid, command) at an fd that is it. */
function expectOwned(s: SocketEntry | undefined, pid: number, command: string): SocketEntry {
  expect(s).toBeDefined();
  const owner = s!.owners!.find((o) => o.pid === pid);
  expect(owner, `owner ${pid} of inode ${s!.inode}`).toMatchObject({ pid, command });
  expect(readlinkSync(`/proc/${pid}/fd/${owner!.fd}`)).toBe(`socket:[${s!.inode}]`);
  return s!;
}

const inodeOfFd = (pid: number, fd: number): number => Number(/socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))![1]);

// python3 holds what Node cannot make and reports each socket's fd and inode
const PY_UNIX = `
import json, os, socket, sys
base, tag = sys.argv[1], sys.argv[2]
def info(s): return {'fd': s.fileno(), 'inode': os.fstat(s.fileno()).st_ino}
seq = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); seq.bind(base + '/seq.sock'); seq.listen()
seqc = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); seqc.connect(base + '/seq.sock'); seqa, _ = seq.accept()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dg.bind(base + '/dgram sock with spaces')
adg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); adg.bind(b'\\0netdiag-' + tag.encode() + b'\\0x')
unbound = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(json.dumps({'pid': os.getpid(), 'seq': info(seq), 'seqc': info(seqc), 'seqa': info(seqa), 'dg': info(dg), 'adg': info(adg), 'unbound': info(unbound)}), flush=True)
sys.stdin.read()
`;

const PY_RAW = `
import json, os, socket, sys
r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
print(json.dumps({'pid': os.getpid(), 'r4': os.fstat(r4.fileno()).st_ino, 'r6': os.fstat(r6.fileno()).st_ino}), flush=True)
sys.stdin.read()
`;

interface PyChild {
  child: ChildProcess;
  report: Record<string, unknown> & { pid: number };
}

async function startPython(script: string, args: string[]): Promise<PyChild> {
  const child = spawn('python3', ['-c', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`python3 exited with ${code} before reporting its sockets`)));
  });
  return { child, report: JSON.parse(line) as PyChild['report'] };
}

function stopPython(p: PyChild | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.stdin!.end();
    p.child.kill('SIGTERM');
  });
}

const listen = (server: net.Server, ...args: unknown[]): Promise<void> => new Promise((resolve) => (server.listen as (...a: unknown[]) => void)(...args, resolve));
const connect = (options: net.NetConnectOpts): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect(options, () => resolve(s));
    s.once('error', reject);
  });

const BACKENDS = ['netlink', 'proc'] as const;

for (const backend of BACKENDS) {
  describeWith(['tool:python3'], `sockets of every kind (${backend})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-kinds-'));
    const tag = `${process.pid}-${Date.now()}`;
    const servers: net.Server[] = [];
    const clients: net.Socket[] = [];
    const udp: dgram.Socket[] = [];
    let tcpServer: net.Server;
    let tcpClient: net.Socket;
    let tcpAccepted: net.Socket;
    let py: PyChild | undefined;

    beforeAll(async () => {
      tcpServer = net.createServer();
      servers.push(tcpServer);
      const accepted = new Promise<net.Socket>((resolve) => tcpServer.once('connection', resolve));
      await listen(tcpServer, 0, '127.0.0.1');
      tcpClient = await connect({ host: '127.0.0.1', port: (tcpServer.address() as net.AddressInfo).port });
      clients.push(tcpClient);
      tcpAccepted = await accepted;
      clients.push(tcpAccepted);
      py = await startPython(PY_UNIX, [dir, tag]);
    });

    afterAll(async () => {
      for (const c of clients) c.destroy();
      for (const u of udp) u.close();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      await stopPython(py);
      rmSync(dir, { recursive: true, force: true });
    });

    it('finds a TCP listener and both ends of a connection, with their owner', async () => {
      const port = (tcpServer.address() as net.AddressInfo).port;
      const doc = await listSockets({ backend, protocols: ['tcp'], localAddress: '127.0.0.1', owners: true });
      const listener = doc.sockets.find((s) => s.state === 'LISTEN' && s.localPort === port);
      expectOwned(listener, process.pid, comm);
      expect(listener).toMatchObject({ family: 'inet', type: 'stream', localAddress: '127.0.0.1', remoteAddress: '0.0.0.0', remotePort: 0, uid: process.getuid!(), mapped: false });
      const client = doc.sockets.find((s) => s.localPort === tcpClient.localPort && s.remotePort === port);
      expectOwned(client, process.pid, comm);
      expect(client).toMatchObject({ state: 'ESTABLISHED', remoteAddress: '127.0.0.1', recvQueue: 0, sendQueue: 0 });
      const server = doc.sockets.find((s) => s.localPort === port && s.remotePort === tcpClient.localPort);
      expectOwned(server, process.pid, comm);
      expect(doc.ownersUnreadable).not.toContain(process.pid);
    });

    it('finds a TIME_WAIT socket after an active close, without inode or owner', async () => {
      const server = net.createServer((s) => s.on('end', () => s.end()));
      servers.push(server);
      await listen(server, 0, '127.0.0.1');
      const port = (server.address() as net.AddressInfo).port;
      const client = await connect({ host: '127.0.0.1', port });
      const localPort = client.localPort!;
      await new Promise((resolve) => {
        client.on('close', resolve);
        client.resume();
        client.end();
      });
      const doc = await listSockets({ backend, protocols: ['tcp'], localPort, remotePort: port, owners: true });
      expect(doc.sockets).toHaveLength(1);
      expect(doc.sockets[0]).toMatchObject({ state: 'TIME_WAIT', inode: null, uid: null, owners: [], timer: { kind: 'timewait' } });
      expect(doc.sockets[0]!.timer!.expires).toBeGreaterThan(0);
    });

    it('finds UDP sockets bound (UNCONN) and connected (ESTABLISHED)', async () => {
      const bound = dgram.createSocket('udp4');
      const connected = dgram.createSocket('udp6');
      udp.push(bound, connected);
      await new Promise<void>((r) => bound.bind(0, '127.0.0.1', r));
      await new Promise<void>((r) => connected.bind(0, '::1', r));
      await new Promise<void>((r) => connected.connect(bound.address().port, '::1', () => r()));
      const doc = await listSockets({ backend, protocols: ['udp'], owners: true });
      const b = doc.sockets.find((s) => s.family === 'inet' && s.localPort === bound.address().port);
      expectOwned(b, process.pid, comm);
      expect(b).toMatchObject({ type: 'dgram', state: 'UNCONN', localAddress: '127.0.0.1', remotePort: 0 });
      const c = doc.sockets.find((s) => s.family === 'inet6' && s.localPort === connected.address().port);
      expectOwned(c, process.pid, comm);
      expect(c).toMatchObject({ state: 'ESTABLISHED', localAddress: '::1', remoteAddress: '::1', remotePort: bound.address().port });
    });

    it('finds IPv4-mapped connections on a dual-stack listener, and an IPv4 filter matches them', async () => {
      const server = net.createServer();
      servers.push(server);
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      await listen(server, { port: 0, host: '::', ipv6Only: false });
      const port = (server.address() as net.AddressInfo).port;
      const client = await connect({ host: '127.0.0.1', port });
      clients.push(client, await accepted);
      const doc = await listSockets({ backend, protocols: ['tcp'], localAddress: '127.0.0.1', localPort: port });
      expect(doc.sockets).toHaveLength(1);
      expect(doc.sockets[0]).toMatchObject({ family: 'inet6', state: 'ESTABLISHED', localAddress: '::ffff:127.0.0.1', remoteAddress: '::ffff:127.0.0.1', remotePort: client.localPort, mapped: true });
    });

    it('finds unix stream sockets: a path, an abstract name, an unbound client', async () => {
      const path = join(dir, 'stream.sock');
      const server = net.createServer();
      servers.push(server);
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      await listen(server, path);
      const client = await connect({ path });
      clients.push(client, await accepted);
      const abstract = net.createServer();
      servers.push(abstract);
      await listen(abstract, `\0netdiag-stream-${tag}`);
      const doc = await listSockets({ backend, protocols: ['unix'], owners: true });
      const mine = doc.sockets.filter((s) => s.owners!.some((o) => o.pid === process.pid));
      const listener = mine.find((s) => s.path === path && s.state === 'LISTEN');
      expectOwned(listener, process.pid, comm);
      // sock_diag also says the queues (a listener's backlog as Send-Q) and the uid
      expect(listener).toMatchObject({ family: 'unix', type: 'stream', localAddress: null, localPort: null, ...(backend === 'proc' ? { recvQueue: null, uid: null } : { recvQueue: 0, sendQueue: 511, uid: process.getuid!() }) });
      // the accepted end shows the listener's path; the client is unbound
      expect(mine.filter((s) => s.path === path && s.state === 'ESTABLISHED')).toHaveLength(1);
      const clientInode = inodeOfFd(process.pid, (client as unknown as { _handle: { fd: number } })._handle.fd);
      expect(mine.find((s) => s.inode === clientInode)).toMatchObject({ state: 'ESTABLISHED', path: null });
      // Node binds abstract names with the whole NUL-padded sun_path: the kernel prints the
      // padding as '@' too
      const named = mine.find((s) => s.path?.startsWith(`@netdiag-stream-${tag}`));
      expectOwned(named, process.pid, comm);
      expect(named!.path).toMatch(new RegExp(`^@netdiag-stream-${tag}@*$`));
    });

    it('finds unix seqpacket and dgram sockets, paths with spaces, NULs in abstract names', async () => {
      const r = py!.report as unknown as Record<'seq' | 'seqc' | 'seqa' | 'dg' | 'adg' | 'unbound', { fd: number; inode: number }> & { pid: number };
      const doc = await listSockets({ backend, protocols: ['unix'], pids: [r.pid] });
      const by = (k: keyof typeof r) => doc.sockets.find((s) => s.inode === (r[k] as { inode: number }).inode);
      expect(by('seq')).toMatchObject({ type: 'seqpacket', state: 'LISTEN', path: join(dir, 'seq.sock') });
      expect(by('seqc')).toMatchObject({ type: 'seqpacket', state: 'ESTABLISHED', path: null });
      expect(by('seqa')).toMatchObject({ type: 'seqpacket', state: 'ESTABLISHED', path: join(dir, 'seq.sock') });
      expect(by('dg')).toMatchObject({ type: 'dgram', state: 'UNCONN', path: join(dir, 'dgram sock with spaces') });
      expect(by('adg')).toMatchObject({ type: 'dgram', state: 'UNCONN', path: `@netdiag-${tag}@x` });
      expect(by('unbound')).toMatchObject({ type: 'dgram', state: 'UNCONN', path: null });
      for (const k of ['seq', 'seqc', 'seqa', 'dg', 'adg', 'unbound'] as const) {
        expect(by(k)!.owners).toEqual([{ pid: r.pid, command: 'python3', fd: r[k].fd }]);
      }
    });

    it('prints them through the compiled CLI like ss -p', () => {
      const port = (tcpServer.address() as net.AddressInfo).port;
      const r = spawnSync(process.execPath, [cliPath(), 'ss', '-tlnp', '--sport', String(port), '--backend', backend], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port\s*Process$/);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(new RegExp(`^LISTEN\\s+0\\s+\\d+\\s+127\\.0\\.0\\.1:${port}\\s+0\\.0\\.0\\.0:\\*\\s+users:\\(\\("${comm}",pid=${process.pid},fd=\\d+\\)\\)$`));
      const json = spawnSync(process.execPath, [cliPath(), 'sockets', '-tl', '--sport', String(port), '--json', '--backend', backend], { encoding: 'utf8' });
      expect(JSON.parse(json.stdout)).toMatchObject({ schema: 'netdiag.sockets/1', backend, sockets: [{ localPort: port, state: 'LISTEN' }] });
    });

    it('keeps the temporary directory to itself', () => {
      expect(statSync(dir).isDirectory()).toBe(true);
    });

    it('says which backend answered', async () => {
      const doc = await listSockets({ backend, protocols: ['tcp', 'udp', 'unix'] });
      expect(doc.backend).toBe(backend);
    });
  });
}

describeWith(['tool:python3'], 'both backends', () => {
  const servers: net.Server[] = [];
  const clients: net.Socket[] = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('list the same sockets with the same contract fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-both-'));
    try {
      for (const [host, path] of [['127.0.0.1', null], ['::1', null], [null, join(dir, 'both.sock')]] as const) {
        const server = net.createServer();
        servers.push(server);
        const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
        if (path) await listen(server, path);
        else await listen(server, 0, host);
        clients.push(await connect(path ? { path } : { host: host!, port: (server.address() as net.AddressInfo).port }), await accepted);
      }
      const mine = (d: { sockets: SocketEntry[] }): string[] =>
        d.sockets
          .filter((s) => s.owners!.some((o) => o.pid === process.pid))
          .map((s) => JSON.stringify([s.protocol, s.family, s.type, s.state, s.localAddress, s.localPort, s.remoteAddress, s.remotePort, s.mapped, s.inode, s.path, s.owners, s.service, s.protocol === 'unix' ? null : [s.uid, s.recvQueue, s.state === 'LISTEN' ? null : s.sendQueue]]))
          .sort();
      const options = { protocols: ['tcp', 'udp', 'unix'] as const, owners: true, states: ['all'] as const };
      const viaNetlink = await listSockets({ ...options, protocols: [...options.protocols], states: [...options.states], backend: 'netlink' });
      const viaProc = await listSockets({ ...options, protocols: [...options.protocols], states: [...options.states], backend: 'proc' });
      expect(mine(viaNetlink).length).toBeGreaterThanOrEqual(9);
      expect(mine(viaNetlink)).toEqual(mine(viaProc));
      // what only netlink knows is there, as null where it does not apply
      for (const s of viaNetlink.sockets) for (const k of ['cookie', 'cgroup', 'tos', 'shutdown', 'peerInode', 'memory', 'tcpInfo']) expect(s).toHaveProperty(k);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const backend of ['auto', 'proc'] as const) {
  describeWith(['net_raw', 'tool:python3'], `raw sockets (${backend}; this kernel may lack raw_diag)`, () => {
    let py: PyChild | undefined;
    beforeAll(async () => {
      py = await startPython(PY_RAW, []);
    });
    afterAll(() => stopPython(py));

    it('finds raw ICMP and ICMPv6 sockets with the protocol as their port', async () => {
      const r = py!.report as { pid: number; r4: number; r6: number };
      const doc = await listSockets({ backend, protocols: ['raw'], owners: true });
      const r4 = doc.sockets.find((s) => s.inode === r.r4);
      const r6 = doc.sockets.find((s) => s.inode === r.r6);
      expect(r4).toMatchObject({ family: 'inet', type: 'raw', state: 'UNCONN', localAddress: '0.0.0.0', localPort: 1, service: null });
      expect(r6).toMatchObject({ family: 'inet6', type: 'raw', state: 'UNCONN', localAddress: '::', localPort: 58 });
      expectOwned(r4, r.pid, 'python3');
      expectOwned(r6, r.pid, 'python3');
    });
  });
}
