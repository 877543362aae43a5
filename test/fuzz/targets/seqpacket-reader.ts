// The JS side of seqpacket receiving (src/seqpacket/reader.ts, receive-area.ts): decoding the
// per-message entries the addon reports (offset, length, flags, fds) into messages. A fake
// kernel that keeps the addon's contract (messages back to back from the offset given, each
// with room for maxMessageSize, fds in the fd area, a terminal entry ending the batch) plays
// a queue the input describes: messages of any size with up to 253 fds, truncations, lost
// fds, errors and end of stream, and a consumer that pauses at the input's choosing.
// Invariants: every message arrives once, in order, with its bytes and its fds, and keeps its
// bytes after later reads; every fd is either delivered or closed, exactly once; a terminal
// entry ends reading with endOfStream or destroy(error with a code).
import {
  RECV_MESSAGE_END, RECV_MESSAGE_ERROR, RECV_MESSAGE_FDS_TRUNCATED, RECV_MESSAGE_STRIDE, RECV_MESSAGE_TRUNCATED,
} from '../../../src/native.js';
import type { SeqpacketBackend } from '../../../src/seqpacket/backend.js';
import type { SeqpacketMessage } from '../../../src/seqpacket/message-iterator.js';
import { AdaptiveReader, FDS_PER_MESSAGE_MAX } from '../../../src/seqpacket/reader.js';
import { check } from '../invariants.js';

type Entry =
  | { kind: 'message'; id: number; length: number; fds: number[] }
  | { kind: 'terminal'; flags: number; length: number; fds: number[] };

function queueFrom(data: Buffer, maxMessageSize: number): Entry[] {
  const q: Entry[] = [];
  let nextFd = 100;
  for (let i = 2; i + 2 < data.length && q.length < 600; i += 3) {
    const k = data[i]!, x = data[i + 1]!, y = data[i + 2]!;
    const fdCount = k % 16 === 0 ? x % (FDS_PER_MESSAGE_MAX + 1) : k % 4 === 0 ? x % 4 : 0;
    const fds = Array.from({ length: fdCount }, () => nextFd++);
    if (k >= 8) {
      q.push({ kind: 'message', id: q.length, length: ((x << 8) | y) % (maxMessageSize + 1), fds });
    } else {
      const flags = [RECV_MESSAGE_END, RECV_MESSAGE_ERROR, RECV_MESSAGE_TRUNCATED, RECV_MESSAGE_FDS_TRUNCATED][k % 4]!;
      const length = flags === RECV_MESSAGE_ERROR ? 1 + (y % 130) : flags === RECV_MESSAGE_TRUNCATED ? maxMessageSize + 1 + y : 0;
      q.push({ kind: 'terminal', flags, length, fds: flags === RECV_MESSAGE_END || flags === RECV_MESSAGE_ERROR ? [] : fds });
      break; // nothing follows a terminal entry
    }
  }
  return q;
}

function fill(buf: Buffer, at: number, length: number, id: number): void {
  for (let i = 0; i < length; i++) buf[at + i] = (id * 31 + i) & 0xff;
}

export function fuzz(data: Buffer): void {
  if (data.length < 2) return;
  const maxMessageSize = 1 + ((data[0]! << 4) % 70_000);
  const pausePattern = data[1]!;
  const queue = queueFrom(data, maxMessageSize);
  let head = 0;
  let meta: Int32Array = new Int32Array(0);
  let fdArea: Int32Array = new Int32Array(0);
  const closed = new Map<number, number>();

  const backend = {
    setReceiveArea(m: Int32Array, f: Int32Array) { meta = m; fdArea = f; },
    recvMessages(_fd: number, buf: Buffer, offset: number, max: number, maxMessages: number): number {
      check(max === maxMessageSize, `read with maxMessageSize ${max}, not ${maxMessageSize}`);
      check(offset >= 0 && buf.length - offset >= max, `read at ${offset} of a ${buf.length}-byte buffer without room for ${max}`);
      check(maxMessages >= 1 && maxMessages <= meta.length / RECV_MESSAGE_STRIDE, `read asks for ${maxMessages} entries`);
      let n = 0, at = offset, fdAt = 0;
      while (n < maxMessages && head < queue.length) {
        if (buf.length - at < max || fdArea.length - fdAt < FDS_PER_MESSAGE_MAX) break; // no room: the addon stops
        const e = queue[head++]!;
        const m = n * RECV_MESSAGE_STRIDE;
        meta[m] = at;
        meta[m + 3] = fdAt;
        meta[m + 4] = e.fds.length;
        for (const fd of e.fds) fdArea[fdAt++] = fd;
        if (e.kind === 'message') {
          fill(buf, at, e.length, e.id);
          meta[m + 1] = e.length;
          meta[m + 2] = 0;
          at += e.length;
          n++;
        } else {
          meta[m + 1] = e.length;
          meta[m + 2] = e.flags;
          n++;
          break;
        }
      }
      return n;
    },
    closeFds(fds: Int32Array, start: number, count: number) {
      for (let i = start; i < start + count; i++) closed.set(fds[i]!, (closed.get(fds[i]!) ?? 0) + 1);
    },
  } as unknown as SeqpacketBackend;

  const delivered: SeqpacketMessage[] = [];
  let destroyed: Error | null = null;
  let ended = 0;
  let deliveries = 0;
  const host = {
    destroyed: () => destroyed !== null,
    wantRead: () => ((pausePattern >> (deliveries % 8)) & 1) === 0 || deliveries % 3 === 0,
    deliver(messages: SeqpacketMessage[]) {
      check(destroyed === null && ended === 0, 'a message delivered after the end');
      delivered.push(...messages);
      deliveries++;
      return ((pausePattern >> (deliveries % 8)) & 1) === 0;
    },
    endOfStream() { ended++; },
    destroy(err: Error) { check(destroyed === null, 'destroyed twice'); destroyed = err; },
  };
  const reader = new AdaptiveReader(host, backend, { maxMessageSize, onread: null });
  for (let wakeup = 0; wakeup < 2000 && head < queue.length && destroyed === null && ended === 0; wakeup++) reader.readBatches(3);

  const messages = queue.filter((e): e is Extract<Entry, { kind: 'message' }> => e.kind === 'message' && queue.indexOf(e) < head);
  check(delivered.length === messages.length, `${delivered.length} messages delivered of ${messages.length} read`);
  delivered.forEach((m, i) => {
    const e = messages[i]!;
    check(m.data.length === e.length, `message ${i}: ${m.data.length} bytes, sent ${e.length}`);
    const want = Buffer.alloc(e.length);
    fill(want, 0, e.length, e.id);
    check(m.data.equals(want), `message ${i}: bytes differ (overwritten by a later read?)`);
    check(JSON.stringify(m.fds) === JSON.stringify(e.fds), `message ${i}: fds ${JSON.stringify(m.fds)}, sent ${JSON.stringify(e.fds)}`);
  });
  const terminal = queue[head - 1]?.kind === 'terminal' ? (queue[head - 1] as Extract<Entry, { kind: 'terminal' }>) : null;
  if (terminal) {
    for (const fd of terminal.fds) check(closed.get(fd) === 1, `fd ${fd} of a terminal entry closed ${closed.get(fd) ?? 0} times`);
    if (terminal.flags === RECV_MESSAGE_END) check(ended === 1 && destroyed === null, 'end of stream not reported once');
    else check(destroyed !== null && typeof (destroyed as { code?: unknown }).code === 'string', 'a failed read did not destroy with a coded error');
  }
  for (const m of delivered) for (const fd of m.fds) check(!closed.has(fd), `fd ${fd} both delivered and closed`);
  check(closed.size === (terminal?.fds.length ?? 0), `${closed.size} fds closed, expected ${terminal?.fds.length ?? 0}`);
}
