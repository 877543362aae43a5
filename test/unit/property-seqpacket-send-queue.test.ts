// Property tests of the seqpacket send queue's accounting (src/seqpacket/send-queue.ts): under
// any interleaving of pushes (small, large, with fds), partial sends, errors carrying how many
// went out, and a final discard, every message is sent at most once and in order with its own
// bytes and fds, bytes/messages count exactly what is still queued, and every fd duplicate the
// queue owns is closed exactly once (by the kernel taking it over or by discard).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SeqpacketBackend } from '../../src/seqpacket/backend.js';
import { COPY_LIMIT, SendQueue } from '../../src/seqpacket/send-queue.js';

type Step =
  | { kind: 'push'; size: number; fds: number; asString: boolean }
  | { kind: 'flush'; room: number }
  | { kind: 'fail'; room: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: COPY_LIMIT - 2, max: COPY_LIMIT + 64 })), fds: fc.integer({ min: 0, max: 3 }), asString: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flush' as const), room: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), room: fc.integer({ min: 0, max: 5 }) }) },
);

describe('SendQueue accounting (fast-check)', () => {
  // found by the property below: batches shared the empty fd array, so two batches with fds
  // wrote into the same memory and discard closed one fd twice and leaked the other
  it('keeps the fds of a staged and a zero-copy batch apart', () => {
    const closed: number[] = [];
    const backend = { sendMessages: () => 0, closeFds: (fds: Int32Array, s: number, c: number) => { for (let i = s; i < s + c; i++) closed.push(fds[i]!); } } as unknown as SeqpacketBackend;
    const q = new SendQueue();
    q.push(Buffer.alloc(0), 0, [1000]);
    q.push(Buffer.alloc(COPY_LIMIT + 1), COPY_LIMIT + 1, [1001]);
    q.discard(backend);
    expect(closed.sort()).toEqual([1000, 1001]);
  });

  it('sends each message once, in order, intact; counts what is queued; closes every fd once', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), fc.boolean(), (steps, drainAtEnd) => {
        let room = 0;
        let failAfter = -1; // send this many, then throw EAGAIN-like error carrying `sent`
        const received: { id: number; bytes: Buffer; fds: number[] }[] = [];
        const closed = new Map<number, number>();
        const backend = {
          sendMessages: (_fd: number, data: Buffer, desc: Int32Array, fds: Int32Array, start: number, count: number) => {
            let n = 0;
            for (; n < count; n++) {
              if (failAfter === 0) {
                failAfter = -1;
                throw Object.assign(new Error('ENOBUFS'), { code: 'ENOBUFS', sent: n });
              }
              if (room === 0) break;
              room--;
              if (failAfter > 0) failAfter--;
              const i = (start + n) * 4;
              const bytes = Buffer.from(data.subarray(desc[i]!, desc[i]! + desc[i + 1]!));
              received.push({ id: bytes.length >= 4 ? bytes.readUInt32BE(0) : -1, bytes, fds: Array.from(fds.subarray(desc[i + 2]!, desc[i + 2]! + desc[i + 3]!)) });
            }
            return n;
          },
          closeFds: (fds: Int32Array, start: number, count: number) => {
            for (let i = start; i < start + count; i++) closed.set(fds[i]!, (closed.get(fds[i]!) ?? 0) + 1);
          },
        } as unknown as SeqpacketBackend;

        const q = new SendQueue();
        const pushed: { bytes: Buffer; fds: number[] }[] = [];
        let nextFd = 1000;
        const flush = (): void => {
          try {
            q.flush(backend, 3);
          } catch (e) {
            expect((e as { code?: string }).code).toBe('ENOBUFS');
          }
        };
        for (const s of steps) {
          if (s.kind === 'push') {
            // ids are unique, so a message sent twice or out of order shows; strings stay ASCII
            const bytes = Buffer.alloc(Math.max(s.size, 4), 0x61);
            bytes.writeUInt32BE(0x30303030 + pushed.length, 0);
            const body = s.size >= 4 ? bytes : bytes.subarray(0, s.size);
            const fds = Array.from({ length: s.fds }, () => nextFd++);
            pushed.push({ bytes: Buffer.from(body), fds });
            q.push(s.asString ? body.toString('latin1') : body, body.length, fds.length ? fds : null);
          } else {
            room += s.room;
            if (s.kind === 'fail') failAfter = s.room;
            flush();
          }
          const sentCount = received.length;
          expect(q.messages).toBe(pushed.length - sentCount);
          expect(q.bytes).toBe(pushed.slice(sentCount).reduce((n, m) => n + m.bytes.length, 0));
          expect(q.empty).toBe(q.messages === 0);
        }
        if (drainAtEnd) {
          room = Number.MAX_SAFE_INTEGER;
          failAfter = -1;
          flush();
          expect(q.empty).toBe(true);
        }
        const sentCount = received.length;
        q.discard(backend);
        expect(q.messages).toBe(0);
        expect(q.bytes).toBe(0);
        // in order, intact, each once
        // (Buffer.equals: a deep toEqual over 16 KiB buffers is what would take the time)
        received.forEach((r, i) => {
          if (!r.bytes.equals(pushed[i]!.bytes)) expect.fail(`message ${i} arrived with other bytes`);
        });
        expect(JSON.stringify(received.map((r) => r.fds))).toBe(JSON.stringify(pushed.slice(0, sentCount).map((m) => m.fds)));
        // every duplicate closed exactly once: sent ones when the kernel took them, the rest on discard
        for (const m of pushed) for (const fd of m.fds) expect(closed.get(fd), `fd ${fd}`).toBe(1);
        expect([...closed.values()].every((n) => n === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
