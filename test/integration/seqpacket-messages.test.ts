// Messages over real SOCK_SEQPACKET sockets: exact boundaries for every size from 1 byte to
// the largest SO_SNDBUF allows, EMSGSIZE past it, truncation at maxMessageSize reported as an
// error, empty messages told apart from end of stream, and order over long runs.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';

import { native } from '../../src/native.js';
import { SeqpacketServer, connectSeqpacket, seqpacketPair, type SeqpacketSocket } from '../../src/seqpacket/index.js';

const open: SeqpacketSocket[] = [];
function pair(...args: Parameters<typeof seqpacketPair>): [SeqpacketSocket, SeqpacketSocket] {
  const p = seqpacketPair(...args);
  open.push(...p);
  return p;
}
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});

/** Resolves with the next n messages (copied), rejects on 'error'. */
function collect(s: SeqpacketSocket, n: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const onMessage = (d: Buffer): void => {
      got.push(Buffer.from(d));
      if (got.length === n) {
        s.off('message', onMessage);
        s.off('error', reject);
        resolve(got);
      }
    };
    s.on('message', onMessage);
    s.once('error', reject);
  });
}

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const SNDBUF = 212992; // Linux default net.core.wmem_default; checked below
const MAX = SNDBUF - 32;

describe('message sizes', () => {
  it('uses the default send buffer this suite assumes', () => {
    const [a] = pair();
    const n = native();
    expect(n.getsockoptInt(a.fileDescriptor, n.constants.SOL_SOCKET, n.constants.SO_SNDBUF)).toBe(SNDBUF);
  });

  it('keeps the boundaries and bytes of every size from 1 B to the maximum', async () => {
    const sizes = [1, 2, 3, 63, 64, 65, 255, 256, 4095, 4096, 4097, 16383, 16384, 16385, 65535, 65536, 65537, 131072, 200000, MAX - 1, MAX];
    const [a, b] = pair();
    const got = collect(b, sizes.length);
    for (const [i, size] of sizes.entries()) a.send(pattern(size, i));
    const messages = await got;
    expect(messages.map((m) => m.length)).toEqual(sizes);
    for (const [i, m] of messages.entries()) expect(m.equals(pattern(sizes[i]!, i))).toBe(true);
  });

  it('refuses a message over SO_SNDBUF with EMSGSIZE naming the limit', () => {
    const [a] = pair();
    let err: (Error & { code?: string; limit?: number }) | undefined;
    try {
      a.send(Buffer.alloc(MAX + 1));
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(err?.code).toBe('EMSGSIZE');
    expect(err?.limit).toBe(MAX);
    expect(err?.message).toContain(`at most ${MAX} bytes`);
    expect(err?.message).toContain('sendBufferSize');
    expect(a.destroyed).toBe(false);
  });

  it('sendBufferSize raises the limit (the kernel doubles it)', async () => {
    const [a, b] = pair({ sendBufferSize: 300_000, maxMessageSize: 1 << 20 });
    const size = 500_000;
    const got = collect(b, 1);
    a.send(pattern(size, 9));
    const [m] = await got;
    expect(m!.equals(pattern(size, 9))).toBe(true);
  });

  it('sends strings as UTF-8 and Uint8Array views by their own bounds', async () => {
    const [a, b] = pair();
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const got = collect(b, 2);
    a.send('héllo wörld ✓');
    a.send(backing.subarray(2, 5));
    const [s, u] = await got;
    expect(s!.toString('utf8')).toBe('héllo wörld ✓');
    expect([...u!]).toEqual([1, 2, 3]);
  });
});

describe('truncation', () => {
  it('a message of exactly maxMessageSize is fine; one byte more is an error, never a silent cut', async () => {
    const [a, b] = pair({ maxMessageSize: 1000 });
    const fine = collect(b, 1);
    a.send(pattern(1000, 1));
    expect((await fine)[0]!.length).toBe(1000);

    const got: number[] = [];
    b.on('message', (d) => got.push(d.length));
    a.send(pattern(10, 2));
    a.send(pattern(1001, 3));
    a.send(pattern(10, 4));
    const [err] = (await once(b, 'error')) as [Error & { code: string; length: number; maxMessageSize: number }];
    expect(err.code).toBe('ERR_SEQPACKET_MESSAGE_TRUNCATED');
    expect(err.length).toBe(1001);
    expect(err.maxMessageSize).toBe(1000);
    expect(got).toEqual([10]);
    expect(b.destroyed).toBe(true);
  });
});

describe('empty messages and end of stream', () => {
  it('delivers empty messages as empty buffers and ends only at the real end', async () => {
    const [a, b] = pair();
    const events: string[] = [];
    b.on('message', (d) => events.push(`[${d.toString()}]`));
    b.on('end', () => events.push('end'));
    const closed = once(b, 'close');
    a.send('');
    a.send('x');
    a.send(Buffer.alloc(0));
    a.send(new Uint8Array(0));
    a.send('y');
    a.send('');
    a.end();
    await closed;
    expect(events).toEqual(['[]', '[x]', '[]', '[]', '[y]', '[]', 'end']);
  });

  it('a peer that closes at once still delivers everything it sent', async () => {
    const [a, b] = pair();
    const got = collect(b, 3);
    const ended = once(b, 'end');
    a.send('1');
    a.send('');
    a.send('3');
    a.close();
    expect((await got).map(String)).toEqual(['1', '', '3']);
    await ended;
  });
});

describe('long runs', () => {
  it('keeps the order of 100,000 messages across many batches (iterator)', async () => {
    const [a, b] = pair();
    const total = 100_000;
    let next = 0;
    const pump = (): void => {
      while (next < total) {
        const m = Buffer.allocUnsafe(4);
        m.writeUInt32LE(next++);
        if (!a.send(m)) {
          a.once('drain', pump);
          return;
        }
      }
      a.end();
    };
    pump();
    let expected = 0;
    for await (const { data } of b) {
      expect(data.readUInt32LE(0)).toBe(expected);
      expected++;
    }
    expect(expected).toBe(total);
  });

  it('sends in both directions at once', async () => {
    const [a, b] = pair();
    const n = 5000;
    const atA = collect(a, n);
    const atB = collect(b, n);
    for (let i = 0; i < n; i++) {
      a.send(`a${i}`);
      b.send(`b${i}`);
    }
    expect((await atB).map(String)).toEqual(Array.from({ length: n }, (_, i) => `a${i}`));
    expect((await atA).map(String)).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
  });
});

describe('onread (one reused buffer)', () => {
  it('delivers every message intact across many batches, and echoes large ones safely', async () => {
    const sizes = [1, 64, 100, 20_000, 65536, 3];
    const total = 3000;
    const name = `@netdiag-onread-${process.pid}`;
    // an echo of a view of the reused buffer: send() must not keep a reference to it
    const server = new SeqpacketServer({
      onread: {
        callback(data) {
          (this as SeqpacketSocket).send(data);
        },
      },
    });
    server.listen(name);
    await once(server, 'listening');
    try {
      const a = connectSeqpacket(name);
      open.push(a);
      const received: Buffer[] = [];
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      a.on('message', (d) => {
        received.push(Buffer.from(d));
        if (received.length === total) done();
      });
      for (let i = 0; i < total; i++) a.send(pattern(sizes[i % sizes.length]!, i));
      await finished;
      for (let i = 0; i < total; i++) expect(received[i]!.equals(pattern(sizes[i % sizes.length]!, i))).toBe(true);
    } finally {
      server.closeConnections();
      server.close();
    }
  });

  it('an echo that has to wait in the send queue keeps its bytes while later reads reuse the buffer', async () => {
    const name = `@netdiag-onread-wait-${process.pid}`;
    const server = new SeqpacketServer({
      onread: {
        callback(data) {
          (this as SeqpacketSocket).send(data);
        },
      },
    });
    server.listen(name);
    await once(server, 'listening');
    try {
      const a = connectSeqpacket(name);
      open.push(a);
      const total = 60; // 60 x 30 KB: far more than the echo side's send buffer holds
      const received: Buffer[] = [];
      a.on('message', (d) => received.push(Buffer.from(d)));
      a.pause(); // nobody reads the echoes yet: they pile up in the server socket's queue
      for (let i = 0; i < total; i++) a.send(pattern(30_000, i));
      const [conn] = (await once(server, 'connection')) as [SeqpacketSocket];
      while (conn.writableLength === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50)); // more reads into the reused buffer meanwhile
      a.resume();
      while (received.length < total) await once(a, 'message');
      for (let i = 0; i < total; i++) expect(received[i]!.equals(pattern(30_000, i))).toBe(true);
    } finally {
      server.closeConnections();
      server.close();
    }
  });
});
