// The addon's netlink calls on their own: argument checks that throw instead of crashing,
// errno errors that name the syscall, a dump read in a few large receives (on this thread or
// on the pool), the descriptor of a terminated worker closed with it (the environment owns
// it), and a pool receive that outlives a close() or its worker without touching anything else.
import { readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { native } from '../../src/native.js';
import { netlinkDumpRequest } from '../../src/sockets/netlink/sock-diag-messages.js';
import { repoRoot } from '../helpers/built-package.js';

const nodeGypBuild = createRequire(import.meta.url).resolve('node-gyp-build');

const netlinkSockets = (): Set<string> => {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      if (link.startsWith('socket:')) out.add(`${fd} ${link}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
};

/** Walks a chain of netlink messages: every one is of `seq`; true when NLMSG_DONE is among them. */
function endsWithDone(buf: Buffer, n: number, seq: number): boolean {
  let done = false;
  for (let p = 0; p < n; p += (buf.readUInt32LE(p) + 3) & ~3) {
    expect(buf.readUInt32LE(8 + p)).toBe(seq);
    if (buf.readUInt16LE(p + 4) === 3) done = true;
  }
  return done;
}

describe('netlinkOpen, netlinkSend, netlinkReceive', () => {
  it('checks their arguments', () => {
    const b = native();
    const fd = b.netlinkOpen(4);
    try {
      expect(() => b.netlinkReceive(fd, Buffer.alloc(1000))).toThrow(RangeError);
      expect(() => b.netlinkSend(fd, Buffer.alloc(8))).toThrow(RangeError);
      expect(() => b.netlinkSend(fd, 'x' as unknown as Buffer)).toThrow(TypeError);
      expect(() => b.netlinkOpen(4, '')).toThrow(RangeError);
      expect(() => b.netlinkOpen(4, 7 as unknown as string)).toThrow(TypeError);
    } finally {
      b.close(fd);
    }
  });

  it('says which syscall failed', () => {
    expect(() => native().netlinkOpen(4, '/proc/self/nonexistent/ns/net')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'setns' }));
  });

  it('answers a dump with whole netlink messages ending in NLMSG_DONE', () => {
    const b = native();
    const fd = b.netlinkOpen(4);
    try {
      b.netlinkSend(fd, netlinkDumpRequest(42));
      const buf = Buffer.alloc(1 << 17);
      let done = false;
      for (let reads = 0; !done && reads < 100; reads++) {
        const n = b.netlinkReceive(fd, buf);
        expect(n).toBeGreaterThan(0);
        done = endsWithDone(buf, n, 42);
      }
      expect(done).toBe(true);
    } finally {
      b.close(fd);
    }
  });

  it('closes the sock_diag socket of a terminated worker', async () => {
    const before = netlinkSockets();
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const b = require(${JSON.stringify(nodeGypBuild)})(${JSON.stringify(repoRoot)});
       parentPort.postMessage(b.netlinkOpen(4));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const fd = await new Promise<number>((resolve) => worker.once('message', resolve));
    const link = readlinkSync(`/proc/self/fd/${fd}`);
    expect(before.has(`${fd} ${link}`)).toBe(false);
    await worker.terminate();
    const after = netlinkSockets();
    expect(after.has(`${fd} ${link}`)).toBe(false);
  });

  it('answers the same dump on a pool thread (netlinkReceiveAsync), checking its arguments first', async () => {
    const b = native();
    const fd = b.netlinkOpen(4);
    try {
      expect(() => b.netlinkReceiveAsync(fd, Buffer.alloc(1000))).toThrow(RangeError);
      expect(() => b.netlinkReceiveAsync(-1, Buffer.alloc(1 << 17))).toThrow();
      b.netlinkSend(fd, netlinkDumpRequest(43));
      const buf = Buffer.alloc(1 << 17);
      let done = false;
      for (let reads = 0; !done && reads < 100; reads++) {
        const n = await b.netlinkReceiveAsync(fd, buf);
        expect(n).toBeGreaterThan(0);
        done = endsWithDone(buf, n, 43);
      }
      expect(done).toBe(true);
    } finally {
      b.close(fd);
    }
  });

  it('a pool receive still waiting when JS closes its socket reads its own duplicate, never the descriptor number reused meanwhile', async () => {
    const b = native();
    const idle = b.netlinkOpen(4);
    // nothing was asked on it: the receive waits for the socket's 5 s timeout
    const waiting = b.netlinkReceiveAsync(idle, Buffer.alloc(1 << 17));
    b.close(idle);
    const fd = b.netlinkOpen(4);
    try {
      expect(fd).toBe(idle);
      b.netlinkSend(fd, netlinkDumpRequest(44));
      const buf = Buffer.alloc(1 << 17);
      let done = false;
      for (let reads = 0; !done && reads < 100; reads++) done = endsWithDone(buf, b.netlinkReceive(fd, buf), 44);
      expect(done).toBe(true);
    } finally {
      b.close(fd);
    }
    await expect(waiting).rejects.toMatchObject({ code: 'EAGAIN', syscall: 'recvmsg' });
  }, 15_000);

  it('a worker terminated while its pool receive waits ends cleanly, and the duplicate descriptor closes when the receive is over', async () => {
    const before = netlinkSockets();
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const b = require(${JSON.stringify(nodeGypBuild)})(${JSON.stringify(repoRoot)});
       const fd = b.netlinkOpen(4);
       b.netlinkReceiveAsync(fd, Buffer.alloc(1 << 17)).catch(() => {});
       parentPort.postMessage(fd);
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    await new Promise<number>((resolve) => worker.once('message', resolve));
    expect(await worker.terminate()).toBe(1);
    // the pool thread's duplicate goes once its receive times out (5 s)
    let left = [...netlinkSockets()].filter((s) => !before.has(s));
    for (let i = 0; i < 80 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = [...netlinkSockets()].filter((s) => !before.has(s));
    }
    expect(left).toEqual([]);
  }, 15_000);
});
