// Interoperability with a peer that is not netdiag: Python's socket module (SOCK_SEQPACKET,
// socket.send_fds / socket.recv_fds), as server and as client, messages and fds both ways,
// and Python's empty messages (which Python itself cannot tell from end of stream).
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { SeqpacketServer, connectSeqpacket, type SeqpacketSocket } from '../../src/seqpacket/index.js';
import { startProcess, type RunningProcess } from '../helpers/process.js';
import { describeWith } from '../helpers/requirements.js';

/** A Python peer; it prints "ready" once listening (server mode) and a JSON report at the end. */
function python(script: string, ...args: string[]): RunningProcess {
  return startProcess('python3', ['-c', script, ...args], { timeoutMs: 20_000 });
}

async function stdoutLine(p: RunningProcess, want: string): Promise<void> {
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    p.child.stdout!.on('data', (d: Buffer) => {
      seen += d;
      if (seen.includes(want)) resolve();
    });
    void p.done.then((r) => reject(new Error(`python exited before '${want}': ${r.stderr}`)));
  });
}

async function report(p: RunningProcess): Promise<Record<string, unknown>> {
  const r = await p.done;
  if (r.code !== 0) throw new Error(`python failed (${r.code}): ${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as Record<string, unknown>;
}

const PY_SERVER = `
import json, os, socket, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path)
srv.listen(1)
print('ready', flush=True)
conn, _ = srv.accept()
got = []
while True:
    data, fds, flags, _ = socket.recv_fds(conn, 1 << 20, 16)
    if not data and not fds:
        break  # Python cannot tell an empty message from the end: netdiag never sends one here
    got.append({'data': data.decode(), 'fds': [os.readlink('/proc/self/fd/%d' % fd) for fd in fds], 'flags': flags})
    if data == b'send me an fd':
        r = os.open(sys.argv[2], os.O_RDONLY)
        socket.send_fds(conn, [b'here'], [r])
        os.close(r)
    else:
        conn.send(b'echo:' + data)
    for fd in fds:
        os.close(fd)
print(json.dumps(got), flush=True)
`;

const PY_CLIENT = `
import json, os, socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
c.connect(sys.argv[1])
r = os.open(sys.argv[2], os.O_RDONLY)
socket.send_fds(c, [b'hello from python'], [r, r])
os.close(r)
c.send(b'')
c.send(b'after the empty one')
replies = []
for _ in range(3):
    data, fds, flags, _ = socket.recv_fds(c, 1 << 16, 8)
    replies.append({'data': data.decode(), 'nfds': len(fds), 'flags': flags, 'content': os.read(fds[0], 100).decode() if fds else None})
    for fd in fds:
        os.close(fd)
c.shutdown(socket.SHUT_WR)
rest = c.recv(10)
print(json.dumps({'replies': replies, 'eof': rest == b''}), flush=True)
`;

describeWith(['tool:python3'], "interop with Python's socket module", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-py-'));
    file = join(dir, 'shared.txt');
    writeFileSync(file, 'shared content');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('netdiag client, Python server: messages and fds both ways', async () => {
    const path = join(dir, 'py-server.sock');
    const py = python(PY_SERVER, path, file);
    await stdoutLine(py, 'ready');
    const c = connectSeqpacket(path);
    const replies: { data: string; fds: number[] }[] = [];
    c.on('message', (d, info) => replies.push({ data: d.toString(), fds: info.fds }));
    const mine = openSync(file, 'r');
    c.send('one');
    c.send('with fd', { fds: [mine] });
    c.send('send me an fd');
    closeSync(mine);
    while (replies.length < 3) await once(c, 'message');
    const closed = once(c, 'close');
    c.end();
    const got = (await report(py)) as unknown as { data: string; fds: string[] }[];
    await closed;
    expect(got.map((g) => g.data)).toEqual(['one', 'with fd', 'send me an fd']);
    expect(got[1]!.fds).toEqual([file]);
    expect(replies.map((r) => r.data)).toEqual(['echo:one', 'echo:with fd', 'here']);
    expect(replies[2]!.fds).toHaveLength(1);
    expect(readFileSync(replies[2]!.fds[0]!, 'utf8')).toBe('shared content');
    replies.forEach((r) => r.fds.forEach((fd) => closeSync(fd)));
  });

  it('Python client, netdiag server: fds, an empty message, replies with fds, end of stream', async () => {
    const path = join(dir, 'nd-server.sock');
    const server = new SeqpacketServer();
    const received: { data: string; fds: number[] }[] = [];
    let ended = false;
    server.on('connection', (s: SeqpacketSocket) => {
      s.on('message', (d, info) => {
        received.push({ data: d.toString(), fds: info.fds });
        const reply = openSync(file, 'r');
        s.send(`got ${d.length} bytes`, { fds: info.fds.length > 0 ? [reply] : [] });
        closeSync(reply);
      });
      s.on('end', () => (ended = true));
    });
    server.listen(path);
    await once(server, 'listening');
    try {
      const py = python(PY_CLIENT, path, file);
      const r = (await report(py)) as { replies: { data: string; nfds: number; content: string | null }[]; eof: boolean };
      expect(received.map((m) => m.data)).toEqual(['hello from python', '', 'after the empty one']);
      expect(received[0]!.fds).toHaveLength(2);
      expect(readFileSync(received[0]!.fds[0]!, 'utf8')).toBe('shared content');
      expect(r.replies.map((x) => x.data)).toEqual(['got 17 bytes', 'got 0 bytes', 'got 19 bytes']);
      expect(r.replies[0]).toMatchObject({ nfds: 1, content: 'shared content' });
      expect(r.eof).toBe(true); // our side ended after the peer's shutdown
      expect(ended).toBe(true);
      received.forEach((m) => m.fds.forEach((fd) => closeSync(fd)));
    } finally {
      server.closeConnections();
      server.close();
    }
  });
});
