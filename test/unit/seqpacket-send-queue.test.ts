// The send queue: staging copies for small messages, zero-copy for large ones, partial
// sends at EAGAIN, errors carrying how many went out, and the fd duplicates it owns.
import { describe, expect, it } from 'vitest';

import type { SeqpacketBackend } from '../../src/seqpacket/backend.js';
import { COPY_LIMIT, SendQueue } from '../../src/seqpacket/send-queue.js';

interface Call {
  data: Buffer;
  start: number;
  count: number;
}

function fakeBackend(room: { n: number }, failAt: { index: number; code: string } | null = null) {
  const sent: { data: Buffer; fds: number[]; buffer: Buffer }[] = [];
  const calls: Call[] = [];
  const closed: number[] = [];
  const backend = {
    sendMessages: (_fd: number, data: Buffer, desc: Int32Array, fds: Int32Array, start: number, count: number) => {
      calls.push({ data, start, count });
      let n = 0;
      for (; n < count && room.n > 0; n++) {
        if (failAt !== null && sent.length === failAt.index) throw Object.assign(new Error(failAt.code), { code: failAt.code, sent: n });
        room.n--;
        const i = (start + n) * 4;
        sent.push({
          data: Buffer.from(data.subarray(desc[i]!, desc[i]! + desc[i + 1]!)),
          fds: Array.from(fds.subarray(desc[i + 2]!, desc[i + 2]! + desc[i + 3]!)),
          buffer: data,
        });
      }
      return n;
    },
    closeFds: (fds: Int32Array, start: number, count: number) => {
      for (let i = start; i < start + count; i++) closed.push(fds[i]!);
    },
  } as unknown as SeqpacketBackend;
  return { backend, sent, calls, closed };
}

describe('SendQueue', () => {
  it('sends many small messages in one call, in order, boundaries kept', () => {
    const room = { n: Infinity };
    const { backend, sent, calls } = fakeBackend(room);
    const q = new SendQueue();
    const texts = ['', 'a', 'bb', 'héllo', 'x'.repeat(1000)];
    for (const t of texts) q.push(t, Buffer.byteLength(t), null);
    expect(q.bytes).toBe(texts.reduce((s, t) => s + Buffer.byteLength(t), 0));
    expect(q.flush(backend, 3)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(sent.map((m) => m.data.toString())).toEqual(texts);
    expect(q.empty).toBe(true);
    expect(q.bytes).toBe(0);
  });

  it('sends large messages from the caller memory (no copy)', () => {
    const { backend, sent } = fakeBackend({ n: Infinity });
    const q = new SendQueue();
    const big = Buffer.alloc(COPY_LIMIT + 1, 7);
    const u8 = new Uint8Array(COPY_LIMIT * 2);
    q.push(big, big.length, null);
    q.push(u8, u8.length, null);
    q.flush(backend, 3);
    expect(sent[0]!.buffer).toBe(big);
    expect(sent[1]!.buffer.buffer).toBe(u8.buffer);
  });

  it('resumes after EAGAIN where it stopped', () => {
    const room = { n: 3 };
    const { backend, sent } = fakeBackend(room);
    const q = new SendQueue();
    for (let i = 0; i < 600; i++) q.push(`m${i}`, Buffer.byteLength(`m${i}`), null);
    expect(q.backlogged).toBe(true); // 600 messages do not fit one staging batch
    expect(q.flush(backend, 3)).toBe(false);
    expect(sent).toHaveLength(3);
    expect(q.messages).toBe(597);
    room.n = Infinity;
    expect(q.flush(backend, 3)).toBe(true);
    expect(sent.map((m) => m.data.toString())).toEqual(Array.from({ length: 600 }, (_, i) => `m${i}`));
  });

  it('closes the fd duplicates of sent messages, and of unsent ones on discard', () => {
    const room = { n: 1 };
    const { backend, sent, closed } = fakeBackend(room);
    const q = new SendQueue();
    q.push('a', 1, [100, 101]);
    q.push('b', 1, null);
    q.push('c', 1, [102]);
    q.flush(backend, 3);
    expect(sent[0]!.fds).toEqual([100, 101]);
    expect(closed).toEqual([100, 101]);
    q.discard(backend);
    expect(closed).toEqual([100, 101, 102]);
    expect(q.empty).toBe(true);
  });

  it('an error reports the messages sent before it and keeps the failing one', () => {
    const { backend, sent } = fakeBackend({ n: Infinity }, { index: 2, code: 'EPIPE' });
    const q = new SendQueue();
    for (const t of ['a', 'b', 'c', 'd']) q.push(t, 1, null);
    expect(() => q.flush(backend, 3)).toThrow('EPIPE');
    expect(sent).toHaveLength(2);
    expect(q.messages).toBe(2);
  });
});
