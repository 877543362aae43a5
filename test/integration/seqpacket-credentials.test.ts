// Peer credentials and access control against a real unprivileged peer: a child process
// running as uid/gid 65534 (setpriv) connects with netdiag (dist/). allowUids turns it
// away ('rejected', connection closed), allowGids lets it in, SO_PEERCRED names it, and the
// socket file's mode and owner decide whether it may connect at all. Needs root.
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { SeqpacketServer, type RejectedPeer, type SeqpacketServerOptions, type SeqpacketSocket } from '../../src/seqpacket/index.js';
import { startProcess } from '../helpers/process.js';
import { describeWith } from '../helpers/requirements.js';
import { worldReadablePath } from '../helpers/built-package.js';

const distIndex = join(__dirname, '..', '..', 'dist', 'seqpacket', 'index.js');
const NOBODY = 65534;

interface ClientReport {
  uid: number;
  outcome: string;
  reply?: string;
}

/** Runs a netdiag client as uid/gid 65534: connect, send, report what came back. */
async function clientAsNobody(address: string): Promise<{ pid: number; report: ClientReport }> {
  if (!existsSync(distIndex)) throw new Error(`${distIndex} is missing: build it with npx tsc -p tsconfig.build.json`);
  const code = `
    import { connectSeqpacket } from ${JSON.stringify(worldReadablePath(distIndex))};
    const report = (outcome, reply) => { console.log(JSON.stringify({ uid: process.getuid(), outcome, reply })); process.exit(0); };
    const s = connectSeqpacket(${JSON.stringify(address)});
    s.on('connect', () => s.send('hello from nobody'));
    s.on('message', (d) => report('message', String(d)));
    s.on('end', () => report('end'));
    s.on('error', (e) => report('error:' + e.code));
  `;
  const p = startProcess('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '--input-type=module', '-e', code], {
    timeoutMs: 20_000,
  });
  const r = await p.done;
  if (r.code !== 0) throw new Error(`${r.command} failed: ${r.stderr}`);
  return { pid: p.pid!, report: JSON.parse(r.stdout.trim()) as ClientReport };
}

describeWith(['root', 'tool:setpriv'], 'peer credentials and the uid/gid filter (a child as uid 65534)', () => {
  let dir: string;
  let n = 0;
  const servers: SeqpacketServer[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-cred-'));
    chmodSync(dir, 0o755); // nobody may reach the socket files; their own mode decides
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeConnections();
      s.close();
    }
  });

  async function echoServer(address: string, options: SeqpacketServerOptions) {
    const srv = new SeqpacketServer(options);
    servers.push(srv);
    const connections: SeqpacketSocket[] = [];
    const rejected: RejectedPeer[] = [];
    srv.on('connection', (s: SeqpacketSocket) => {
      connections.push(s);
      s.on('message', (d) => s.send(`echo: ${d}`));
      s.on('error', () => {});
    });
    srv.on('rejected', (p) => rejected.push(p));
    srv.listen(address);
    await once(srv, 'listening');
    return { srv, connections, rejected };
  }

  it('rejects a peer whose uid is not allowed: closed at once and reported', async () => {
    const address = `@netdiag-cred-${process.pid}-${++n}`;
    const { connections, rejected } = await echoServer(address, { allowUids: [0] });
    const { pid, report } = await clientAsNobody(address);
    expect(report.uid).toBe(NOBODY);
    expect(report.outcome).toMatch(/^(end|error:ECONNRESET|error:EPIPE)$/); // closed under its feet
    expect(connections).toHaveLength(0);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ pid, uid: NOBODY, gid: NOBODY });
    expect(rejected[0]!.reason).toContain(String(NOBODY));
  });

  it('admits it by gid, and SO_PEERCRED names the child', async () => {
    const address = `@netdiag-cred-${process.pid}-${++n}`;
    const { connections, rejected } = await echoServer(address, { allowUids: [0], allowGids: [NOBODY] });
    const { pid, report } = await clientAsNobody(address);
    expect(report).toEqual({ uid: NOBODY, outcome: 'message', reply: 'echo: hello from nobody' });
    expect(rejected).toHaveLength(0);
    expect(connections).toHaveLength(1);
    expect(connections[0]!.peerCredentials).toEqual({ pid, uid: NOBODY, gid: NOBODY });
  });

  it('mode 0600 keeps the unprivileged peer out of a root-owned socket file', async () => {
    const path = join(dir, `m${++n}.sock`);
    await echoServer(path, { mode: 0o600 });
    const { report } = await clientAsNobody(path);
    expect(report.outcome).toBe('error:EACCES');
  });

  it('mode 0666 lets it in', async () => {
    const path = join(dir, `m${++n}.sock`);
    await echoServer(path, { mode: 0o666 });
    const { report } = await clientAsNobody(path);
    expect(report.outcome).toBe('message');
  });

  it('owner hands the socket file to the peer’s user', async () => {
    const path = join(dir, `o${++n}.sock`);
    await echoServer(path, { mode: 0o600, owner: { uid: NOBODY, gid: NOBODY } });
    const st = statSync(path);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o600]);
    const { report } = await clientAsNobody(path);
    expect(report.outcome).toBe('message');
  });
});
