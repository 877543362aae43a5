// The addon's sock_diag calls on their own: argument checks that throw instead of crashing,
// errno errors that name the syscall, a dump read in a few large receives, and the
// descriptor of a terminated worker closed with it (the environment owns it).
import { readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { native } from '../../src/native.js';
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

describe('sockDiagOpen, netlinkSend, netlinkReceive', () => {
  it('checks their arguments', () => {
    const b = native();
    const fd = b.sockDiagOpen();
    try {
      expect(() => b.netlinkReceive(fd, Buffer.alloc(1000))).toThrow(RangeError);
      expect(() => b.netlinkSend(fd, Buffer.alloc(8))).toThrow(RangeError);
      expect(() => b.netlinkSend(fd, 'x' as unknown as Buffer)).toThrow(TypeError);
      expect(() => b.sockDiagOpen('')).toThrow(RangeError);
      expect(() => b.sockDiagOpen(7 as unknown as string)).toThrow(TypeError);
    } finally {
      b.close(fd);
    }
  });

  it('says which syscall failed', () => {
    expect(() => native().sockDiagOpen('/proc/self/nonexistent/ns/net')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'setns' }));
  });

  it('answers a dump with whole netlink messages ending in NLMSG_DONE', () => {
    const b = native();
    const fd = b.sockDiagOpen();
    try {
      // SOCK_DIAG_BY_FAMILY dump of netlink sockets (there is always one: this)
      const req = Buffer.alloc(36);
      req.writeUInt32LE(36, 0);
      req.writeUInt16LE(20, 4);
      req.writeUInt16LE(0x301, 6);
      req.writeUInt32LE(42, 8);
      req[16] = 16;
      req[17] = 255;
      b.netlinkSend(fd, req);
      const buf = Buffer.alloc(1 << 17);
      let done = false;
      for (let reads = 0; !done && reads < 100; reads++) {
        const n = b.netlinkReceive(fd, buf);
        expect(n).toBeGreaterThan(0);
        for (let p = 0; p < n; p += (buf.readUInt32LE(p) + 3) & ~3) {
          expect(buf.readUInt32LE(8 + p)).toBe(42);
          if (buf.readUInt16LE(p + 4) === 3) done = true;
        }
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
       parentPort.postMessage(b.sockDiagOpen());
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
});
