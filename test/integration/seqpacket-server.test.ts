// SeqpacketServer and connectSeqpacket on real sockets: paths and abstract names, peer
// credentials both ways, sends queued before 'connect', socket file mode, stale socket files
// (detected, replaced only when asked), live servers never stolen, files that are not
// sockets left alone, close() removing only its own file, and connect errors.
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { native } from '../../src/native.js';
import { SeqpacketServer, connectSeqpacket, type SeqpacketServerOptions, type SeqpacketSocket } from '../../src/seqpacket/index.js';
import { systemBackend } from '../../src/seqpacket/backend.js';
import { probeSocketPath } from '../../src/seqpacket/bind.js';

let dir: string;
let counter = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netdiag-srv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const socketPath = (): string => join(dir, `s${++counter}.sock`);
const abstractName = (): string => `@netdiag-test-${process.pid}-${++counter}`;

const servers: SeqpacketServer[] = [];
const sockets: SeqpacketSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const srv of servers.splice(0)) {
    srv.closeConnections();
    srv.close();
  }
});

async function listening(path: string, options?: SeqpacketServerOptions): Promise<SeqpacketServer> {
  const srv = new SeqpacketServer(options);
  servers.push(srv);
  srv.listen(path);
  await once(srv, 'listening');
  return srv;
}

function connect(path: string): SeqpacketSocket {
  const s = connectSeqpacket(path);
  sockets.push(s);
  return s;
}

async function listenError(path: string, options?: SeqpacketServerOptions): Promise<Error & { code: string; stale?: boolean }> {
  const srv = new SeqpacketServer(options);
  servers.push(srv);
  srv.listen(path);
  const [err] = (await once(srv, 'error').catch((e: unknown) => [e])) as [Error & { code: string; stale?: boolean }];
  return err;
}

/** A socket file nobody listens on, as a crashed server leaves it. */
function staleSocketFile(path: string): void {
  const n = native();
  const fd = n.socket(n.constants.AF_UNIX, n.constants.SOCK_SEQPACKET);
  n.bind(fd, 1, path);
  n.close(fd);
}

describe('listening and connecting', () => {
  it.each([
    ['a path', socketPath],
    ['an abstract name', abstractName],
  ])('serves on %s; both ends see each other’s credentials; sends queue until connect', async (_what, name) => {
    const path = name();
    const srv = await listening(path);
    expect(srv.address()).toBe(path);
    const accepted = once(srv, 'connection') as Promise<[SeqpacketSocket]>;
    const client = connect(path);
    expect(client.connecting).toBe(true);
    client.send('sent before connect');
    const [conn] = await accepted;
    sockets.push(conn);
    const [first] = (await once(conn, 'message')) as [Buffer];
    expect(first.toString()).toBe('sent before connect');
    expect(client.connecting).toBe(false);
    const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
    expect(conn.peerCredentials).toEqual(me);
    expect(client.peerCredentials).toEqual(me);
    conn.send('reply');
    const [reply] = (await once(client, 'message')) as [Buffer];
    expect(reply.toString()).toBe('reply');
  });

  it('emits connect, then the close of both ends after end()', async () => {
    const path = abstractName();
    const srv = await listening(path);
    srv.on('connection', (c: SeqpacketSocket) => c.on('message', () => {}));
    const client = connect(path);
    await once(client, 'connect');
    client.on('message', () => {});
    client.end();
    await once(client, 'close');
    srv.close();
    await once(srv, 'close');
  });

  it('applies mode to the socket file before anyone can connect', async () => {
    const path = socketPath();
    await listening(path, { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).isSocket()).toBe(true);
  });

  it('refuses mode and owner for abstract names', () => {
    expect(() => new SeqpacketServer({ mode: 0o600 }).listen(abstractName())).toThrow(/mode/);
    expect(() => new SeqpacketServer({ owner: { uid: 0 } }).listen(abstractName())).toThrow(/owner/);
  });

  it('close() removes its socket file and waits for its connections', async () => {
    const path = socketPath();
    const srv = await listening(path);
    const accepted = once(srv, 'connection') as Promise<[SeqpacketSocket]>;
    const client = connect(path);
    const [conn] = await accepted;
    let closed = false;
    srv.close(() => (closed = true));
    expect(existsSync(path)).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false); // one connection is still open
    expect(srv.connectionCount).toBe(1);
    conn.destroy();
    client.destroy();
    await once(srv, 'close');
    expect(closed).toBe(true);
  });

  it('close() leaves a successor’s socket file alone', async () => {
    const path = socketPath();
    const first = await listening(path);
    unlinkSync(path);
    await listening(path);
    first.close();
    expect(existsSync(path)).toBe(true);
    const c = connect(path);
    await once(c, 'connect');
  });
});

describe('taken paths', () => {
  it('detects a stale socket file and leaves it unless replaceStale', async () => {
    const path = socketPath();
    staleSocketFile(path);
    expect(probeSocketPath(systemBackend(), path)).toBe('stale');
    const err = await listenError(path);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.stale).toBe(true);
    expect(err.message).toMatch(/stale.*replaceStale/);
    expect(existsSync(path)).toBe(true);

    await listening(path, { replaceStale: true });
    expect(probeSocketPath(systemBackend(), path)).toBe('live');
    const c = connect(path);
    await once(c, 'connect');
  });

  it('never steals a live server, even with replaceStale', async () => {
    const path = socketPath();
    const live = await listening(path);
    const err = await listenError(path, { replaceStale: true });
    expect(err.code).toBe('EADDRINUSE');
    expect(err.stale).toBe(false);
    expect(err.message).toMatch(/already listening/);
    const accepted = once(live, 'connection');
    connect(path);
    const [conn] = (await accepted) as [SeqpacketSocket];
    sockets.push(conn);
  });

  it('never steals a stream server on the path either (connect gives EPROTOTYPE)', async () => {
    const path = socketPath();
    const stream = net.createServer();
    await new Promise<void>((r) => stream.listen(path, r));
    try {
      const err = await listenError(path, { replaceStale: true });
      expect(err.code).toBe('EADDRINUSE');
      expect(existsSync(path)).toBe(true);
      const c = connectSeqpacket(path);
      const [cerr] = (await once(c, 'error').catch((e: unknown) => [e])) as [Error & { code: string }];
      expect(cerr.code).toBe('EPROTOTYPE');
    } finally {
      await new Promise((r) => stream.close(r));
    }
  });

  it('does not remove a file that is not a socket', async () => {
    const path = socketPath();
    writeFileSync(path, 'precious');
    const err = await listenError(path, { replaceStale: true });
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toMatch(/not a socket/);
    expect(statSync(path).isFile()).toBe(true);
  });

  it('reports an abstract name in use', async () => {
    const name = abstractName();
    await listening(name);
    const err = await listenError(name);
    expect(err.code).toBe('EADDRINUSE');
  });
});

describe('connect errors', () => {
  async function connectError(path: string): Promise<Error & { code: string }> {
    const c = connectSeqpacket(path);
    const failed = new Promise<Error & { code: string }>((r) => c.once('error', (e) => r(e as Error & { code: string })));
    const closed = new Promise((r) => c.once('close', r));
    const err = await failed;
    await closed;
    expect(c.destroyed).toBe(true);
    return err;
  }

  it('ENOENT for a missing path, naming it', async () => {
    const path = socketPath();
    const err = await connectError(path);
    expect(err.code).toBe('ENOENT');
    expect(err.message).toContain(path);
  });

  it('ECONNREFUSED for a stale file or an unused abstract name', async () => {
    const path = socketPath();
    staleSocketFile(path);
    expect((await connectError(path)).code).toBe('ECONNREFUSED');
    expect((await connectError(abstractName())).code).toBe('ECONNREFUSED');
  });

  it('validates the path at the call', () => {
    expect(() => connectSeqpacket('')).toThrow(RangeError);
    expect(() => connectSeqpacket(42 as unknown as string)).toThrow(TypeError);
    expect(() => connectSeqpacket('/' + 'x'.repeat(200))).toThrow(/107 bytes/);
  });
});
