// Lifetimes under stress: destroy inside a handler with a full queue, a peer killed in the
// middle of a batch, backpressure against a slow reader, worker_threads (including a worker
// terminated with sockets open), process exit with sockets open, and 10,000 connect/close
// cycles leaving the fd count where it started. Child processes and workers run dist/.
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SeqpacketServer, connectSeqpacket, seqpacketPair, type SeqpacketSocket } from '../../src/seqpacket/index.js';
import { runProcess } from '../helpers/process.js';

const distIndex = join(__dirname, '..', '..', 'dist', 'seqpacket', 'index.js');
const distUrl = pathToFileURL(distIndex).href;
beforeAll(() => {
  if (!existsSync(distIndex)) throw new Error(`${distIndex} is missing: build it with npx tsc -p tsconfig.build.json`);
});

const open: SeqpacketSocket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});
function pair(...args: Parameters<typeof seqpacketPair>): [SeqpacketSocket, SeqpacketSocket] {
  const p = seqpacketPair(...args);
  open.push(...p);
  return p;
}
const fdCount = (): number => readdirSync('/proc/self/fd').length;

describe('destroy and peer death', () => {
  it('destroy() inside a handler with thousands queued: no more events, no crash', async () => {
    const [a, b] = pair();
    for (let i = 0; i < 3000; i++) a.send(`m${i}`);
    await new Promise((r) => setImmediate(r));
    let messages = 0;
    let lateEvents = 0;
    b.on('message', () => {
      messages++;
      if (messages === 10) b.destroy();
      else if (messages > 10) lateEvents++;
    });
    b.on('end', () => lateEvents++);
    b.on('error', () => lateEvents++);
    a.on('error', () => {});
    const aClosed = new Promise((r) => a.once('close', r));
    await once(b, 'close');
    await new Promise((r) => setTimeout(r, 20));
    expect(messages).toBe(10);
    expect(lateEvents).toBe(0);
    // the peer notices: end of stream or a reset, then close
    a.on('message', () => {});
    await aClosed;
  });

  it('a peer killed in the middle of a batch: every message it sent arrives in order, then the end', async () => {
    const [a, b] = pair();
    const code = `
      import { seqpacketFromFd } from ${JSON.stringify(distUrl)};
      const s = seqpacketFromFd(3);
      let i = 0;
      const pump = () => { for (;;) { const m = Buffer.alloc(8); m.writeUInt32LE(i++); if (!s.send(m)) return s.once('drain', pump); } };
      pump();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit', b.fileDescriptor] });
    b.destroy();
    const exited = once(child, 'exit');
    let expected = 0;
    let outOfOrder = 0;
    let killedAt = -1;
    a.on('message', (d) => {
      if (d.readUInt32LE(0) !== expected) outOfOrder++;
      expected++;
      if (expected === 20_000) {
        killedAt = expected;
        child.kill('SIGKILL'); // inside the handler, mid-batch
      }
    });
    const ending = new Promise<string>((resolve) => {
      a.once('end', () => resolve('end'));
      a.once('error', (e: Error & { code?: string }) => resolve(`error:${e.code}`));
    });
    const closed = new Promise((r) => a.once('close', r));
    const how = await ending;
    await closed;
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    expect(how).toMatch(/^(end|error:ECONNRESET)$/);
    expect(killedAt).toBe(20_000);
    expect(expected).toBeGreaterThanOrEqual(20_000);
    expect(outOfOrder).toBe(0);
  });
});

describe('backpressure', () => {
  it('a slow reader makes send() return false; drain follows; nothing is lost or reordered', async () => {
    const [a, b] = pair({ writableHighWaterMark: 64 * 1024, readableHighWaterMark: 16 });
    const total = 3000;
    const size = 1024;
    let refused = 0;
    let drains = 0;
    let maxQueued = 0;
    a.on('drain', () => drains++);
    let next = 0;
    const pump = (): void => {
      while (next < total) {
        const m = Buffer.alloc(size);
        m.writeUInt32LE(next++);
        const ok = a.send(m);
        maxQueued = Math.max(maxQueued, a.writableLength);
        if (!ok) {
          refused++;
          a.once('drain', pump);
          return;
        }
      }
      a.end();
    };
    pump();
    let expected = 0;
    for await (const { data } of b) {
      expect(data.readUInt32LE(0)).toBe(expected++);
      if (expected % 50 === 0) await new Promise((r) => setTimeout(r, 1)); // a slow consumer
    }
    expect(expected).toBe(total);
    expect(refused).toBeGreaterThan(0);
    expect(drains).toBe(refused);
    expect(maxQueued).toBeGreaterThanOrEqual(64 * 1024);
    // the kernel held the rest: far less than everything sat in user space
    expect(maxQueued).toBeLessThan(total * size);
  });
});

describe('worker_threads', () => {
  it('serves from a worker; a worker terminated with sockets open harms nobody', async () => {
    const name = `@netdiag-worker-${process.pid}`;
    const worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(distUrl)}).then(({ SeqpacketServer, seqpacketPair }) => {
        const server = new SeqpacketServer();
        server.on('connection', (s) => s.on('message', (d, info) => s.send(d, { fds: info.fds })));
        // a pair with a blocked writer and an idle reader, left open on purpose
        const [x, y] = seqpacketPair();
        while (x.send(Buffer.alloc(4096)));
        y.on('message', () => {}); y.pause();
        server.listen(${JSON.stringify(name)}, () => parentPort.postMessage('ready'));
        parentPort.on('message', (m) => parentPort.postMessage('idle'));
      });
      `,
      { eval: true },
    );
    const errors: unknown[] = [];
    worker.on('error', (e) => errors.push(e));
    const [ready] = (await once(worker, 'message')) as [string];
    expect(ready).toBe('ready');

    const client = connectSeqpacket(name);
    open.push(client);
    const replies: string[] = [];
    client.on('message', (d) => replies.push(d.toString()));
    for (let i = 0; i < 100; i++) client.send(`ping ${i}`);
    while (replies.length < 100) await once(client, 'message');
    expect(replies[99]).toBe('ping 99');

    const ended = new Promise<string>((resolve) => {
      client.once('end', () => resolve('end'));
      client.once('error', (e: Error & { code?: string }) => resolve(`error:${e.code}`));
    });
    // terminate between callbacks: termination in the middle of a poll callback is the
    // Poller's business (native/poller.cc), not this layer's
    worker.postMessage('idle?');
    await once(worker, 'message');
    const exited = once(worker, 'exit');
    await worker.terminate();
    const [exitCode] = (await exited) as [number];
    expect(exitCode).toBe(1); // terminated
    expect(await ended).toMatch(/^(end|error:ECONNRESET)$/);
    expect(errors).toEqual([]);
  });

  it('a worker whose sockets are unref’d or closed exits on its own', async () => {
    const worker = new Worker(
      `
      import(${JSON.stringify(distUrl)}).then(({ SeqpacketServer, seqpacketPair }) => {
        const server = new SeqpacketServer();
        server.listen('@netdiag-worker-unref-' + process.pid + '-' + require('node:worker_threads').threadId, () => server.unref());
        const [a, b] = seqpacketPair();
        a.on('message', () => {}); a.unref(); b.unref();
        const [c, d] = seqpacketPair();
        c.send('x'); d.on('message', () => { c.destroy(); d.destroy(); });
      });
      `,
      { eval: true },
    );
    const [code] = (await once(worker, 'exit')) as [number];
    expect(code).toBe(0);
  });
});

describe('process exit', () => {
  async function runChild(body: string) {
    const code = `import { SeqpacketServer, connectSeqpacket, seqpacketPair } from ${JSON.stringify(distUrl)};\n${body}`;
    return runProcess(process.execPath, ['--input-type=module', '-e', code], { timeoutMs: 20_000 });
  }

  it('exits 0 from process.exit() with servers, connections, blocked writers and waiting iterators open', async () => {
    const r = await runChild(`
      const name = '@netdiag-exit-' + process.pid;
      const server = new SeqpacketServer();
      server.on('connection', (s) => { s.on('message', () => {}); });
      server.listen(name, () => {
        const c = connectSeqpacket(name);
        c.on('connect', () => {
          const [x, y] = seqpacketPair();
          while (x.send(Buffer.alloc(8192)));           // blocked, waiting for writable
          const it = y.messages(); y.pause(); it.next(); // an iterator waiting
          for (let i = 0; i < 1000; i++) c.send('in flight');
          setImmediate(() => process.exit(0));
        });
      });
    `);
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });

  it('ends on its own when everything is unref’d, and when everything is closed', async () => {
    const unrefd = await runChild(`
      const server = new SeqpacketServer();
      server.listen('@netdiag-exit-unref-' + process.pid, () => server.unref());
      const [a, b] = seqpacketPair();
      a.on('message', () => {});
      a.unref(); b.unref();
      while (b.send(Buffer.alloc(8192)));
    `);
    expect([unrefd.code, unrefd.signal, unrefd.timedOut, unrefd.stderr]).toEqual([0, null, false, '']);
    const closed = await runChild(`
      const [a, b] = seqpacketPair();
      a.on('message', (d) => { if (String(d) === 'last') { a.end(); } });
      for (let i = 0; i < 100; i++) b.send('m');
      b.send('last');
      b.on('message', () => {});
      b.end();
      b.on('close', () => console.log('closed'));
    `);
    expect([closed.code, closed.stdout.trim(), closed.stderr]).toEqual([0, 'closed', '']);
  });
});

describe('connect/close cycles', () => {
  it('10,000 connect/close cycles leave the fd count where it started', async () => {
    const name = `@netdiag-cycles-${process.pid}`;
    const server = new SeqpacketServer();
    let accepted = 0;
    server.on('connection', (s: SeqpacketSocket) => {
      accepted++;
      s.on('message', () => {});
    });
    server.listen(name);
    await once(server, 'listening');
    const before = fdCount();
    const total = 10_000;
    const parallel = 50;
    let closedClients = 0;
    for (let done = 0; done < total; done += parallel) {
      await Promise.all(
        Array.from({ length: parallel }, async (_, k) => {
          const c = connectSeqpacket(name);
          c.on('message', () => {});
          await once(c, 'connect');
          if (k % 2 === 0) c.end(); // half end gracefully, half are destroyed
          else c.destroy();
          await once(c, 'close');
          closedClients++;
        }),
      );
    }
    while (server.connectionCount > 0) await new Promise((r) => setTimeout(r, 5));
    server.close();
    await once(server, 'close');
    expect(closedClients).toBe(total);
    expect(accepted).toBe(total);
    expect(fdCount()).toBe(before - 1); // the listening socket is closed too
  }, 120_000);
});
