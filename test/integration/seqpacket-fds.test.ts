// File descriptors over SCM_RIGHTS: both directions, close-on-exec on arrival, 253 in one
// message, the sender free to close its own at once, MSG_CTRUNC at RLIMIT_NOFILE (a child
// process), and every fd the application did not take closed (counted in /proc/self/fd).
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { seqpacketPair, type SeqpacketSocket } from '../../src/seqpacket/index.js';
import { describeWith } from '../helpers/requirements.js';

const distIndex = join(__dirname, '..', '..', 'dist', 'seqpacket', 'index.js');
const O_CLOEXEC = 0o2000000;

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netdiag-fds-'));
  file = join(dir, 'payload.txt');
  writeFileSync(file, 'the payload');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: SeqpacketSocket[] = [];
function pair(): [SeqpacketSocket, SeqpacketSocket] {
  const p = seqpacketPair();
  open.push(...p);
  return p;
}
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const isOpen = (fd: number): boolean => existsSync(`/proc/self/fd/${fd}`);
const flagsOf = (fd: number): number => parseInt(/^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
const closeAll = (fds: readonly number[]): void => fds.forEach((fd) => closeSync(fd));

function nextMessage(s: SeqpacketSocket): Promise<{ data: Buffer; fds: number[] }> {
  return new Promise((resolve, reject) => {
    s.once('message', (data, info) => resolve({ data: Buffer.from(data), fds: info.fds }));
    s.once('error', reject);
  });
}

async function settled(...sockets: SeqpacketSocket[]): Promise<void> {
  await Promise.all(sockets.map((s) => (s.destroyed ? Promise.resolve() : once(s, 'close'))));
  await new Promise((r) => setImmediate(r));
}

describe('passing fds', () => {
  it('passes an fd each way; it arrives close-on-exec and refers to the same file', async () => {
    const [a, b] = pair();
    const mine = openSync(file, 'r');
    const atB = nextMessage(b);
    a.send('here', { fds: [mine] });
    closeSync(mine); // send() keeps its own duplicate
    const m1 = await atB;
    expect(m1.data.toString()).toBe('here');
    expect(m1.fds).toHaveLength(1);
    expect(fstatSync(m1.fds[0]!).ino).toBe(statSync(file).ino);
    expect(flagsOf(m1.fds[0]!) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(readFileSync(m1.fds[0]!, 'utf8')).toBe('the payload');

    const atA = nextMessage(a);
    b.send('back', { fds: m1.fds });
    closeAll(m1.fds);
    const m2 = await atA;
    expect(m2.fds).toHaveLength(1);
    expect(fstatSync(m2.fds[0]!).ino).toBe(statSync(file).ino);
    closeAll(m2.fds);
  });

  it('passes 253 fds in one message and refuses 254', async () => {
    const [a, b] = pair();
    const fds = Array.from({ length: 253 }, () => openSync('/dev/null', 'r'));
    const got = nextMessage(b);
    a.send('many', { fds });
    const m = await got;
    expect(m.fds).toHaveLength(253);
    expect(new Set(m.fds).size).toBe(253);
    closeAll(m.fds);
    expect(() => a.send('too many', { fds: [...fds, fds[0]!] })).toThrow(/at most 253/);
    closeAll(fds);
  });

  it('throws EBADF at send() for an fd that is not open', () => {
    const [a] = pair();
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    expect(() => a.send('x', { fds: [fd] })).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('fds given to a message listener stay open after the socket closes: they are the listener’s', async () => {
    const [a, b] = pair();
    const mine = openSync(file, 'r');
    const got = nextMessage(b);
    a.send('x', { fds: [mine] });
    closeSync(mine);
    const m = await got;
    b.destroy();
    a.destroy();
    await settled(a, b);
    expect(isOpen(m.fds[0]!)).toBe(true);
    closeAll(m.fds);
  });
});

describe('fds nobody took are closed', () => {
  it('destroy() inside a handler closes the fds of the rest of the batch', async () => {
    const before = fdCount();
    const [a, b] = pair();
    const taken: number[] = [];
    b.on('message', (_d, info) => {
      taken.push(...info.fds);
      b.destroy();
    });
    for (let i = 0; i < 20; i++) {
      const fds = [openSync(file, 'r'), openSync(file, 'r'), openSync(file, 'r')];
      a.send(`m${i}`, { fds });
      closeAll(fds);
    }
    await settled(b);
    expect(taken).toHaveLength(3);
    closeAll(taken);
    a.destroy();
    await settled(a);
    expect(fdCount()).toBe(before);
  });

  it('leaving an iterator early closes the fds queued in it', async () => {
    const before = fdCount();
    const [a, b] = pair();
    for (let i = 0; i < 10; i++) {
      const fd = openSync(file, 'r');
      a.send(`m${i}`, { fds: [fd] });
      closeSync(fd);
    }
    for await (const { fds } of b) {
      closeAll(fds);
      break; // the socket is destroyed; the 9 queued messages' fds are closed
    }
    a.destroy();
    await settled(a, b);
    expect(fdCount()).toBe(before);
  });

  it('messages held by pause() are closed with the socket', async () => {
    const before = fdCount();
    const [a, b] = pair();
    b.on('message', (_d, info) => {
      closeAll(info.fds);
      b.pause();
    });
    for (let i = 0; i < 5; i++) {
      const fd = openSync(file, 'r');
      a.send(`m${i}`, { fds: [fd] });
      closeSync(fd);
    }
    await once(b, 'message');
    await new Promise((r) => setImmediate(r));
    b.destroy();
    a.destroy();
    await settled(a, b);
    expect(fdCount()).toBe(before);
  });

  it('unsent messages of a destroyed socket release their fd duplicates', async () => {
    const before = fdCount();
    const [a, b] = pair();
    b.pause(); // nobody reads: the kernel buffer fills, the rest stays queued in a
    let i = 0;
    for (; i < 2000 && a.send(Buffer.alloc(1024), { fds: [0] }); i++);
    expect(a.writableLength).toBeGreaterThan(0);
    a.destroy();
    b.destroy();
    await settled(a, b);
    expect(fdCount()).toBe(before);
  });
});

describeWith(['tool:prlimit'], 'MSG_CTRUNC at RLIMIT_NOFILE (child process)', () => {
  it('reports the lost fds as an error and closes the ones that arrived', async () => {
    if (!existsSync(distIndex)) throw new Error(`${distIndex} is missing: build it with npx tsc -p tsconfig.build.json`);
    const FREE = 3;
    const child = `
      import { seqpacketFromFd } from ${JSON.stringify(distIndex)};
      import { openSync, closeSync } from 'node:fs';
      const s = seqpacketFromFd(3);
      const fill = () => { const got = []; try { for (;;) got.push(openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; } return got; };
      const filler = fill();
      for (let i = 0; i < ${FREE}; i++) closeSync(filler.pop());
      s.on('message', (d, info) => { console.log(JSON.stringify({ unexpected: String(d), fds: info.fds.length })); process.exit(1); });
      s.on('error', (e) => {
        setImmediate(() => {
          const free = fill();
          free.forEach((fd) => closeSync(fd));
          console.log(JSON.stringify({ code: e.code, freeAfter: free.length }));
          process.exit(0);
        });
      });
      s.send('ready');
    `;
    const [a, b] = pair();
    const proc = spawn('prlimit', ['--nofile=200:200', process.execPath, '--input-type=module', '-e', child], {
      stdio: ['ignore', 'pipe', 'pipe', b.fileDescriptor],
    });
    b.destroy();
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = once(proc, 'exit');
    const ready = await nextMessage(a);
    expect(ready.data.toString()).toBe('ready');
    const fds = Array.from({ length: 10 }, () => openSync('/dev/null', 'r'));
    a.send('ten fds', { fds });
    closeAll(fds);
    const [code] = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim()) as { code: string; freeAfter: number };
    expect(report.code).toBe('ERR_SEQPACKET_FDS_TRUNCATED');
    // the 3 fds the kernel managed to install were closed, and so was the destroyed socket
    expect(report.freeAfter).toBe(FREE + 1);
  });
});
