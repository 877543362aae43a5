// What SeqpacketSocket relies on from a SeqpacketBackend (src/seqpacket/backend.ts), as one
// suite run against the native addon (test/integration/contract-seqpacket.test.ts) and against
// the fake kernel the socket's unit tests use (test/unit/contract-seqpacket.test.ts), so the
// fake cannot drift from the kernel: message boundaries, empty messages and end of stream,
// truncation, fds in flight, the send-size limit and a full send buffer, what a closed peer
// does to both directions, and level-triggered polling that can be paused and resumed.
import { describe, expect, it } from 'vitest';

import {
  POLL_HANGUP, POLL_READABLE, RECV_MESSAGE_END, RECV_MESSAGE_STRIDE, RECV_MESSAGE_TRUNCATED,
} from '../../src/native.js';
import {
  SHUT_WR, SNDBUF_OVERHEAD, SOCK_SEQPACKET, SOL_SOCKET, SO_PASSCRED, SO_SNDBUF, type SeqpacketBackend,
} from '../../src/seqpacket/backend.js';

export interface SeqpacketContractEnv {
  /** one turn of the event loop: pollers report what is ready on their fds */
  loopTurn(): Promise<void>;
}

interface Received {
  text: string;
  length: number;
  flags: number;
  fds: number[];
}

/** The receive area every backend reports into (off-heap: larger than 64 bytes). */
const meta = new Int32Array(RECV_MESSAGE_STRIDE * 64);
const fdsOut = new Int32Array(256);

/** A connected pair, end of stream told from empty messages (SO_PASSCRED, as the socket sets it). */
function pairOn(b: SeqpacketBackend, opened: number[]): [number, number] {
  const [x, y] = b.socketpair(SOCK_SEQPACKET);
  opened.push(x, y);
  for (const fd of [x, y]) b.setsockoptInt(fd, SOL_SOCKET, SO_PASSCRED, 1);
  b.setReceiveArea(meta, fdsOut);
  return [x, y];
}

/** Sends the messages in one call; returns what sendMessages returned. */
function sendAll(b: SeqpacketBackend, fd: number, messages: (string | Buffer)[], fdsEach: number[][] = []): number {
  const bufs = messages.map((m) => (typeof m === 'string' ? Buffer.from(m) : m));
  const data = Buffer.concat(bufs);
  const desc = new Int32Array(4 * bufs.length);
  const allFds = fdsEach.flat();
  const fds = new Int32Array(Math.max(1, allFds.length));
  fds.set(allFds);
  let offset = 0;
  let fdOffset = 0;
  bufs.forEach((buf, i) => {
    const n = fdsEach[i]?.length ?? 0;
    desc.set([offset, buf.length, fdOffset, n], i * 4);
    offset += buf.length;
    fdOffset += n;
  });
  return b.sendMessages(fd, data, desc, fds, 0, bufs.length);
}

/** One recvMessages call: the entries, copied out. */
function receive(b: SeqpacketBackend, fd: number, maxMessageSize = 64, maxMessages = 16): Received[] {
  const buf = Buffer.alloc(maxMessageSize * maxMessages);
  const n = b.recvMessages(fd, buf, 0, maxMessageSize, maxMessages);
  return Array.from({ length: n }, (_, i) => {
    const [offset, length, flags, fdsOffset, fdsCount] = meta.subarray(i * RECV_MESSAGE_STRIDE, (i + 1) * RECV_MESSAGE_STRIDE);
    const stored = Math.min(length!, maxMessageSize);
    return {
      text: buf.toString('latin1', offset!, offset! + ((flags! & RECV_MESSAGE_END) !== 0 ? 0 : stored)),
      length: length!, flags: flags!,
      fds: Array.from(fdsOut.subarray(fdsOffset!, fdsOffset! + fdsCount!)),
    };
  });
}

/** The fds a test opened; whatever it has not closed itself is closed after it. */
class Opened {
  readonly fds: number[] = [];
  /** the test closed fd itself */
  closedBy(b: SeqpacketBackend, fd: number): void {
    b.close(fd);
    this.fds.splice(this.fds.indexOf(fd), 1);
  }
}

/** Runs body on a fresh backend and pair, closing every fd it opened afterwards. */
async function onPair(
  makeBackend: () => SeqpacketBackend,
  body: (b: SeqpacketBackend, x: number, y: number, opened: Opened) => void | Promise<void>,
): Promise<void> {
  const b = makeBackend();
  const opened = new Opened();
  try {
    const [x, y] = pairOn(b, opened.fds);
    await body(b, x, y, opened);
  } finally {
    for (const fd of opened.fds.splice(0)) b.close(fd);
  }
}

/** What fn threw (null when it returned). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
}

export function describeSeqpacketBackendContract(name: string, makeBackend: () => SeqpacketBackend, env: SeqpacketContractEnv): void {
  describe(`SeqpacketBackend contract: ${name}`, () => {
    it('socketpair gives two distinct connected fds, each way', () =>
      onPair(makeBackend, (b, x, y) => {
        expect(Number.isInteger(x) && x >= 0 && Number.isInteger(y) && y >= 0).toBe(true);
        expect(x).not.toBe(y);
        expect(sendAll(b, x, ['to y'])).toBe(1);
        expect(sendAll(b, y, ['to x'])).toBe(1);
        expect(receive(b, y).map((m) => m.text)).toEqual(['to y']);
        expect(receive(b, x).map((m) => m.text)).toEqual(['to x']);
      }));

    it('keeps message boundaries, empty messages included, and reads nothing more than was sent', () =>
      onPair(makeBackend, (b, x, y) => {
        expect(sendAll(b, y, ['one', '', 'three'])).toBe(3);
        const got = receive(b, x);
        expect(got.map((m) => [m.text, m.length, m.flags, m.fds])).toEqual([['one', 3, 0, []], ['', 0, 0, []], ['three', 5, 0, []]]);
        // nothing queued: EAGAIN is no entry, not an error
        expect(receive(b, x)).toEqual([]);
      }));

    it('stops at maxMessages, leaving the rest queued in order', () =>
      onPair(makeBackend, (b, x, y) => {
        expect(sendAll(b, y, ['1', '2', '3', '4', '5'])).toBe(5);
        expect(receive(b, x, 64, 2).map((m) => m.text)).toEqual(['1', '2']);
        expect(receive(b, x, 64, 16).map((m) => m.text)).toEqual(['3', '4', '5']);
      }));

    it('reports a message longer than maxMessageSize as truncated, with its real length, and ends the batch there', () =>
      onPair(makeBackend, (b, x, y) => {
        const long = 'x'.repeat(100);
        expect(sendAll(b, y, [long, 'after'])).toBe(2);
        const got = receive(b, x, 64);
        expect(got[0]).toMatchObject({ text: long.slice(0, 64), length: 100 });
        expect(got[0]!.flags & RECV_MESSAGE_TRUNCATED).toBe(RECV_MESSAGE_TRUNCATED);
        // a damaged message ends the batch (the socket stops there); the rest of it is lost,
        // and the next read gets the next message whole
        expect(got).toHaveLength(1);
        expect(receive(b, x).map((m) => [m.text, m.flags])).toEqual([['after', 0]]);
      }));

    it('passes fds as new descriptors that closeFds can close, each with its own message', () =>
      onPair(makeBackend, (b, x, y, opened) => {
        const [p, q] = b.socketpair(SOCK_SEQPACKET);
        opened.fds.push(p, q);
        expect(sendAll(b, y, ['two fds', 'none', 'one fd'], [[p, q], [], [p]])).toBe(3);
        const got = receive(b, x);
        expect(got.map((m) => [m.text, m.fds.length])).toEqual([['two fds', 2], ['none', 0], ['one fd', 1]]);
        const received = got.flatMap((m) => m.fds);
        // installed afresh in this process: none is a number already in use by the sender's fds
        for (const fd of received) expect([x, y, p, q]).not.toContain(fd);
        expect(new Set(received).size).toBe(3);
        b.closeFds(Int32Array.from(received), 0, received.length);
      }));

    it('tells end of stream from an empty message, and keeps reporting it', () =>
      onPair(makeBackend, (b, x, y) => {
        expect(sendAll(b, y, ['', 'last'])).toBe(2);
        b.shutdown(y, SHUT_WR);
        const got = receive(b, x);
        expect(got.map((m) => [m.text, m.length, m.flags])).toEqual([['', 0, 0], ['last', 4, 0], ['', 0, RECV_MESSAGE_END]]);
        expect(receive(b, x).map((m) => m.flags)).toEqual([RECV_MESSAGE_END]);
        // the other direction still works after a half close
        expect(sendAll(b, x, ['reply'])).toBe(1);
        expect(receive(b, y).map((m) => m.text)).toEqual(['reply']);
      }));

    it('refuses a message over SO_SNDBUF - 32 with EMSGSIZE, and takes one of exactly that size', () =>
      onPair(makeBackend, (b, x, y) => {
        const limit = b.getsockoptInt(y, SOL_SOCKET, SO_SNDBUF) - SNDBUF_OVERHEAD;
        expect(limit).toBeGreaterThan(0);
        const thrown = thrownBy(() => sendAll(b, y, ['first', Buffer.alloc(limit + 1)]));
        // the socket reads code and sent; errno and syscall name it in messages
        expect(thrown).toBeInstanceOf(Error);
        expect(thrown).toMatchObject({ code: 'EMSGSIZE', errno: 90, syscall: 'sendmsg', sent: 1 });
        expect(sendAll(b, y, [Buffer.alloc(limit)])).toBe(1);
        const got = receive(b, x, limit + 1, 4);
        expect(got.map((m) => m.length)).toEqual(['first'.length, limit]);
      }));

    it('takes no more once the unread messages fill SO_SNDBUF (EAGAIN: fewer sent), and again once read', () =>
      onPair(makeBackend, (b, x, y) => {
        const limit = b.getsockoptInt(y, SOL_SOCKET, SO_SNDBUF) - SNDBUF_OVERHEAD;
        expect(sendAll(b, y, [Buffer.alloc(limit), 'small'])).toBe(1);
        expect(sendAll(b, y, ['small'])).toBe(0);
        expect(receive(b, x, limit, 1).map((m) => m.length)).toEqual([limit]);
        expect(sendAll(b, y, ['small'])).toBe(1);
      }));

    it('after the peer closes: its queued messages, then end of stream; sending fails with EPIPE', () =>
      onPair(makeBackend, (b, x, y, opened) => {
        expect(sendAll(b, y, ['parting'])).toBe(1);
        opened.closedBy(b, y);
        expect(receive(b, x).map((m) => [m.text, m.flags])).toEqual([['parting', 0], ['', RECV_MESSAGE_END]]);
        const thrown = thrownBy(() => sendAll(b, x, ['anyone?']));
        expect(thrown).toBeInstanceOf(Error);
        expect(thrown).toMatchObject({ code: 'EPIPE', errno: 32, syscall: 'sendmsg', sent: 0 });
      }));

    it('polls level-triggered: readable while unread, silent while stopped, again when restarted', () =>
      onPair(makeBackend, async (b, x, y) => {
        const reports: number[] = [];
        const poller = b.createPoller(x, (status, events) => {
          expect(status).toBe(0);
          reports.push(events);
        });
        try {
          poller.start(POLL_READABLE);
          await env.loopTurn();
          expect(reports).toEqual([]);
          sendAll(b, y, ['wake']);
          await env.loopTurn();
          expect(reports.length).toBeGreaterThan(0);
          expect(reports.every((e) => (e & POLL_READABLE) !== 0)).toBe(true);
          // paused: nothing, though the message is still unread and more arrives
          poller.stop();
          reports.length = 0;
          sendAll(b, y, ['more']);
          await env.loopTurn();
          expect(reports).toEqual([]);
          // resumed: still readable (level-triggered), until read
          poller.start(POLL_READABLE);
          await env.loopTurn();
          expect(reports.length).toBeGreaterThan(0);
          expect(receive(b, x).map((m) => m.text)).toEqual(['wake', 'more']);
          reports.length = 0;
          await env.loopTurn();
          expect(reports).toEqual([]);
        } finally {
          poller.close();
        }
        // closed: start refuses
        expect(() => poller.start(POLL_READABLE)).toThrow();
      }));

    it('reports a hang-up to a poller watching only for it when the peer closes', () =>
      onPair(makeBackend, async (b, x, y, opened) => {
        const reports: number[] = [];
        const poller = b.createPoller(x, (_status, events) => reports.push(events));
        try {
          poller.start(POLL_HANGUP);
          // a message is no hang-up
          sendAll(b, y, ['not yet']);
          await env.loopTurn();
          expect(reports).toEqual([]);
          opened.closedBy(b, y);
          await env.loopTurn();
          expect(reports.length).toBeGreaterThan(0);
          expect(reports.every((e) => (e & POLL_HANGUP) !== 0 && (e & POLL_READABLE) === 0)).toBe(true);
        } finally {
          poller.close();
        }
      }));
  });
}
