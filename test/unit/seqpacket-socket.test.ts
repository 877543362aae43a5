// SeqpacketSocket's state machine over a fake kernel: delivery and batching, pause and
// consumers, destroy inside a handler, throwing listeners, end of stream, errors from the
// receive path, backpressure and 'drain', and who closes which fd.
import { describe, expect, it } from 'vitest';

import { POLL_HANGUP, POLL_READABLE, POLL_WRITABLE } from '../../src/native.js';
import { resolveSocketOptions, type SeqpacketSocketOptions } from '../../src/seqpacket/options.js';
import { SeqpacketSocket } from '../../src/seqpacket/socket.js';
import { FakeKernel, type Inbound } from '../helpers/seqpacket-fake-kernel.js';

function socketOn(kernel: FakeKernel, options: SeqpacketSocketOptions = {}): SeqpacketSocket {
  return new SeqpacketSocket({ backend: kernel.backend(), options: resolveSocketOptions(options), fd: kernel.fd, connecting: false });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Queues messages '1'..'20'; the read policy grows its batches, so some batch has 3+. */
function twenty(k: FakeKernel, fdsEach = 0): void {
  for (let i = 1; i <= 20; i++) k.push(k.message(String(i), fdsEach));
}

/** Whether this message opens the first batch that has at least two more behind it. */
function opensBigBatch(k: FakeKernel, text: string): boolean {
  const b = k.batches[k.batches.length - 1]!;
  return b[0] === text && b.length >= 3;
}

/** The messages read in the same batch after `text`. */
function restOfBatch(k: FakeKernel, text: string): string[] {
  const b = k.batches.find((x) => x.includes(text))!;
  return b.slice(b.indexOf(text) + 1);
}

const upTo = (text: string): string[] => Array.from({ length: Number(text) }, (_, i) => String(i + 1));
const all = upTo('20');

describe('receiving', () => {
  it('reads nothing until someone consumes, then delivers every message in order', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    expect(k.poller!.events & POLL_READABLE).toBe(0);
    const got: string[] = [];
    s.on('message', (d) => got.push(d.toString()));
    expect(k.poller!.events & POLL_READABLE).toBe(POLL_READABLE);
    k.push(k.message('a'), k.message(''), k.message('ccc'));
    k.drain();
    expect(got).toEqual(['a', '', 'ccc']);
  });

  it('bounds the work per wakeup, and asks for more per call as a flood goes on', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    let n = 0;
    s.on('message', () => n++);
    for (let i = 0; i < 5000; i++) k.push(k.message('x'));
    const perWakeup: number[] = [];
    while (k.inbound.length > 0) {
      const before = n;
      k.fire();
      perWakeup.push(n - before);
    }
    expect(n).toBe(5000);
    expect(Math.max(...perWakeup)).toBe(1024); // at most 4 batches of 256 per wakeup
    expect(Math.max(...k.batches.map((b) => b.length))).toBe(256);
    expect(k.recvCalls).toBeLessThan(40);
  });

  it('reads lone messages (request/response) without an extra, empty read each time', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    let n = 0;
    s.on('message', () => n++);
    for (let i = 0; i < 100; i++) {
      k.push(k.message('request'));
      k.fire();
    }
    expect(n).toBe(100);
    // probes for more become rare once they keep finding nothing
    expect(k.recvCalls).toBeLessThan(120);
    // and a flood after that still ends up in big batches
    for (let i = 0; i < 2000; i++) k.push(k.message('x'));
    k.drain();
    expect(Math.max(...k.batches.map((b) => b.length))).toBe(256);
  });

  it('keeps the rest of a batch when the only listener goes away (once)', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const got: string[] = [];
    let trigger = '';
    const listener = (d: Buffer): void => {
      got.push(d.toString());
      if (trigger === '' && opensBigBatch(k, d.toString())) {
        trigger = d.toString();
        s.off('message', listener);
      }
    };
    s.on('message', listener);
    twenty(k, 1);
    k.drain();
    expect(got).toEqual(upTo(trigger));
    expect(k.poller!.events & POLL_READABLE).toBe(0); // no consumer: not reading
    const rest: string[] = [];
    s.once('message', (d) => rest.push(d.toString()));
    await tick();
    expect(rest).toEqual(restOfBatch(k, trigger).slice(0, 1)); // from what was kept pending
    s.on('message', (d) => rest.push(d.toString()));
    await tick();
    k.drain();
    expect([...got, ...rest]).toEqual(all);
    expect(k.closedFds).toEqual([]); // nothing was dropped
  });

  it('pause() inside a handler holds the rest until resume()', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const got: string[] = [];
    let trigger = '';
    s.on('message', (d) => {
      got.push(d.toString());
      if (trigger === '' && opensBigBatch(k, d.toString())) {
        trigger = d.toString();
        s.pause();
      }
    });
    twenty(k);
    k.drain();
    expect(got).toEqual(upTo(trigger));
    expect(k.poller!.events).toBe(0);
    const unread = k.inbound.length;
    s.resume();
    await tick();
    expect(k.inbound).toHaveLength(unread); // the kept rest came first, without reading
    k.drain();
    expect(got).toEqual(all);
    expect(k.poller!.events & POLL_READABLE).toBe(POLL_READABLE);
  });

  it('destroy() inside a handler stops the batch and closes the fds nobody saw', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const seen: number[][] = [];
    let trigger = '';
    s.on('message', (d, info) => {
      seen.push(info.fds);
      if (trigger === '' && opensBigBatch(k, d.toString())) {
        trigger = d.toString();
        s.destroy();
      }
    });
    const closed = new Promise((r) => s.once('close', r));
    twenty(k, 2);
    const unreadFds = (): number[] => k.inbound.flatMap((m) => (m.kind === 'message' ? m.fds : []));
    k.drain();
    await closed;
    expect(seen).toHaveLength(Number(trigger));
    // the listener's fds are the listener's; those of the rest of the batch are closed; the
    // kernel keeps the unread ones (and drops them with the socket)
    expect(k.openFds).toEqual(new Set([...seen.flat(), ...unreadFds()]));
    expect(k.closedFds).toHaveLength(2 * restOfBatch(k, trigger).length);
    expect(restOfBatch(k, trigger).length).toBeGreaterThanOrEqual(2);
    expect(k.closed).toBe(true);
    expect(k.poller!.closed).toBe(true);
  });

  it('a throwing listener loses no message: the rest follows on the next tick', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const got: string[] = [];
    let trigger = '';
    s.on('message', (d) => {
      got.push(d.toString());
      if (trigger === '' && opensBigBatch(k, d.toString())) {
        trigger = d.toString();
        throw new Error('boom');
      }
    });
    twenty(k);
    expect(() => k.drain()).toThrow('boom');
    await tick();
    k.drain();
    expect(got).toEqual(all);
  });

  it('end of stream: "end" after the last message, then ends its side and closes', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const events: string[] = [];
    s.on('message', (d) => events.push(`m:${d}`));
    s.on('end', () => events.push('end'));
    s.on('close', () => events.push('close'));
    k.push(k.message('last'), { kind: 'end' });
    k.drain();
    await tick();
    expect(events).toEqual(['m:last', 'end', 'close']);
    expect(k.shutdownCalls).toBe(1);
  });

  it('allowHalfOpen keeps the sending side open after the peer ends', async () => {
    const k = new FakeKernel();
    const s = socketOn(k, { allowHalfOpen: true });
    s.on('message', () => {});
    let ended = false;
    s.on('end', () => (ended = true));
    k.push({ kind: 'end' });
    k.drain();
    await tick();
    expect(ended).toBe(true);
    expect(s.destroyed).toBe(false);
    expect(s.send('still here')).toBe(true);
    await tick();
    expect(k.sent.map((m) => m.data.toString())).toEqual(['still here']);
    const closed = new Promise((r) => s.once('close', r));
    s.end();
    await closed;
  });

  it('a message over maxMessageSize is an error naming both sizes, never a silent cut', async () => {
    const k = new FakeKernel();
    const s = socketOn(k, { maxMessageSize: 8 });
    const got: string[] = [];
    s.on('message', (d) => got.push(d.toString()));
    const error = new Promise<Error>((r) => s.once('error', r));
    const big = k.message('0123456789abcdef', 2);
    k.push(k.message('ok'), big, k.message('after'));
    k.drain();
    const err = (await error) as Error & { code: string; length: number; maxMessageSize: number };
    expect(got).toEqual(['ok']);
    expect(err.code).toBe('ERR_SEQPACKET_MESSAGE_TRUNCATED');
    expect(err.length).toBe(16);
    expect(err.maxMessageSize).toBe(8);
    expect(err.message).toMatch(/16 bytes.*maxMessageSize 8/);
    expect(k.openFds.size).toBe(0); // the truncated message's fds were closed
  });

  it('fds lost by the kernel (MSG_CTRUNC) are an error; the ones that came are closed', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    s.on('message', () => {});
    const error = new Promise<Error>((r) => s.once('error', r));
    const m = k.message('x', 2) as Extract<Inbound, { kind: 'message' }>;
    m.fdsTruncated = true;
    k.push(m);
    k.drain();
    expect(((await error) as Error & { code: string }).code).toBe('ERR_SEQPACKET_FDS_TRUNCATED');
    expect(k.openFds.size).toBe(0);
  });

  it('a receive error comes after the messages before it', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const got: string[] = [];
    s.on('message', (d) => got.push(d.toString()));
    const error = new Promise<Error>((r) => s.once('error', r));
    k.push(k.message('a'), { kind: 'error', errno: 104 });
    k.drain();
    const err = (await error) as Error & { code: string };
    expect(got).toEqual(['a']);
    expect(err.code).toBe('ECONNRESET');
  });

  it('with no consumer it watches for hang-up, and closes if it has ended too', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    expect(k.poller!.events).toBe(POLL_HANGUP);
    s.end();
    expect(k.shutdownCalls).toBe(1);
    const closed = new Promise((r) => s.once('close', r));
    k.fire(POLL_HANGUP);
    await closed;
  });
});

describe('onread', () => {
  it('hands views of one reused buffer to the callback, with the socket as this', () => {
    const k = new FakeKernel();
    const buffer = Buffer.alloc(64);
    const seen: { text: string; sameMemory: boolean; self: unknown }[] = [];
    const s = socketOn(k, {
      maxMessageSize: 16,
      onread: {
        buffer,
        callback(this: unknown, data) {
          seen.push({ text: data.toString(), sameMemory: data.buffer === buffer.buffer, self: this });
        },
      },
    });
    expect(k.poller!.events & POLL_READABLE).toBe(POLL_READABLE); // onread is a consumer from the start
    k.push(k.message('one'), k.message('two'));
    k.drain();
    k.push(k.message('three'));
    k.drain();
    expect(seen.map((x) => x.text)).toEqual(['one', 'two', 'three']);
    expect(seen.every((x) => x.sameMemory && x.self === s)).toBe(true);
    expect(() => s.messages()).toThrow(/onread/);
    s.destroy();
  });

  it('returning false pauses; what waits is copied before another socket reuses the buffer', async () => {
    // two sockets share the thread's reused onread buffer, as a server's connections do
    const k1 = new FakeKernel();
    const k2 = new FakeKernel();
    const got1: string[] = [];
    const got2: string[] = [];
    let paused = false;
    const s1 = socketOn(k1, {
      onread: {
        callback: (data) => {
          got1.push(data.toString());
          if (!paused && opensBigBatch(k1, data.toString())) {
            paused = true;
            return false;
          }
        },
      },
    });
    const s2 = socketOn(k2, { onread: { callback: (data) => void got2.push(data.toString()) } });
    twenty(k1);
    k1.drain();
    expect(s1.isPaused).toBe(true);
    for (let i = 0; i < 20; i++) k2.push(k2.message(`other ${i}`));
    k2.drain(); // overwrites the shared buffer
    expect(got2).toHaveLength(20);
    s1.resume();
    await tick();
    k1.drain();
    expect(got1).toEqual(all);
    s1.destroy();
    s2.destroy();
  });

  it('rejects a buffer smaller than maxMessageSize and a missing callback', () => {
    expect(() => resolveSocketOptions({ maxMessageSize: 100, onread: { buffer: Buffer.alloc(99), callback: () => {} } })).toThrow(/onread.buffer/);
    expect(() => resolveSocketOptions({ onread: {} })).toThrow(/onread.callback/);
  });
});

describe('async iteration', () => {
  it('yields messages and ends with the stream', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    k.push(k.message('a'), k.message('b', 1), { kind: 'end' });
    const it = s.messages();
    k.drain();
    const got: { data: string; fds: number }[] = [];
    for await (const m of it) got.push({ data: m.data.toString(), fds: m.fds.length });
    expect(got).toEqual([
      { data: 'a', fds: 0 },
      { data: 'b', fds: 1 },
    ]);
  });

  it('stops reading at readableHighWaterMark and resumes when pulled', async () => {
    const k = new FakeKernel();
    const s = socketOn(k, { readableHighWaterMark: 3 });
    for (let i = 0; i < 10; i++) k.push(k.message(String(i)));
    const it = s.messages();
    k.drain();
    // one batch was read; reading stops while 3 or more wait
    expect(k.poller!.events & POLL_READABLE).toBe(0);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await it.next();
      got.push(r.value!.data.toString());
      if ((k.poller!.events & POLL_READABLE) !== 0 && k.inbound.length > 0) k.drain();
    }
    expect(got).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('leaving the loop early destroys the socket and closes queued fds', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    k.push(k.message('a', 1), k.message('b', 1), k.message('c', 1));
    const it = s.messages();
    k.drain();
    const first = await it.next();
    await it.return!();
    expect(s.destroyed).toBe(true);
    expect(k.openFds).toEqual(new Set(first.value!.fds));
  });

  it('destroyOnReturn: false leaves the socket usable', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    k.push(k.message('a'));
    const it = s.messages({ destroyOnReturn: false });
    k.drain();
    await it.next();
    await it.return!();
    expect(s.destroyed).toBe(false);
    const again = s.messages();
    k.push(k.message('b'));
    k.drain();
    expect((await again.next()).value!.data.toString()).toBe('b');
  });

  it('an error rejects the iteration instead of crashing without an error listener', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const it = s.messages();
    k.push({ kind: 'error', errno: 104 });
    k.drain();
    await expect(it.next()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await it.next()).done).toBe(true);
  });
});

describe('sending', () => {
  it('sends the first message of a tick at once and batches the rest into one flush', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const calls: number[] = [];
    const b = k.backend();
    const orig = b.sendMessages;
    const sock = new SeqpacketSocket({
      backend: { ...b, sendMessages: (...a) => (calls.push(a[5]), orig(...a)) },
      options: resolveSocketOptions({}),
      fd: k.fd,
      connecting: false,
    });
    for (let i = 0; i < 10; i++) sock.send(`m${i}`);
    expect(calls).toEqual([1]);
    await tick();
    expect(calls).toEqual([1, 9]);
    expect(k.sent.map((m) => m.data.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    s.destroy();
    sock.destroy();
  });

  it('returns false at the high-water mark and emits drain once the kernel took everything', async () => {
    const k = new FakeKernel();
    k.sendRoom = 2;
    const s = socketOn(k, { writableHighWaterMark: 10 });
    expect(s.send('12345')).toBe(true); // out at once
    expect(s.send('67890')).toBe(true); // queued: 5 bytes
    expect(s.send('abcde')).toBe(false); // queued: 10 bytes
    await tick();
    expect(k.sent).toHaveLength(2);
    expect(k.poller!.events & POLL_WRITABLE).toBe(POLL_WRITABLE);
    let drained = false;
    s.on('drain', () => (drained = true));
    k.sendRoom = Infinity;
    k.fire(POLL_WRITABLE);
    expect(drained).toBe(true);
    expect(k.sent.map((m) => m.data.toString())).toEqual(['12345', '67890', 'abcde']);
    expect(k.poller!.events & POLL_WRITABLE).toBe(0);
    s.destroy();
  });

  it('copies small messages at send(): changing the buffer afterwards changes nothing', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    const b = Buffer.from('original');
    s.send(b);
    b.write('CHANGED!');
    await tick();
    expect(k.sent[0]!.data.toString()).toBe('original');
    s.destroy();
  });

  it('refuses a message larger than SO_SNDBUF allows, naming the limit', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    expect(() => s.send(Buffer.alloc(212961))).toThrow(/at most 212960 bytes/);
    try {
      s.send(Buffer.alloc(300000));
    } catch (e) {
      expect(e).toBeInstanceOf(RangeError);
      expect((e as { code: string }).code).toBe('EMSGSIZE');
    }
    expect(s.send(Buffer.alloc(212960))).toBe(true);
    s.destroy();
  });

  it('validates its arguments', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    expect(() => s.send(42 as unknown as string)).toThrow(TypeError);
    expect(() => s.send('x', { fds: [-1] })).toThrow(/fds\[0\]/);
    expect(() => s.send('x', { fds: [1.5] })).toThrow(RangeError);
    expect(() => s.send('x', { fds: 'nope' as unknown as number[] })).toThrow(TypeError);
    expect(() => s.send('x', { fds: Array.from({ length: 254 }, () => 0) })).toThrow(/at most 253/);
    s.destroy();
  });

  it('sends duplicates of the fds and closes them once sent; the caller keeps its own', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    k.sendRoom = 0;
    s.send('with fds', { fds: [3, 4] });
    const dups = [...k.openFds];
    expect(dups).toHaveLength(2);
    expect(dups).not.toContain(3);
    k.sendRoom = Infinity;
    k.fire(POLL_WRITABLE);
    expect(k.sent[0]!.fds).toEqual(dups);
    expect(k.openFds.size).toBe(0);
    s.destroy();
  });

  it('destroy() drops unsent messages and closes their fd duplicates', async () => {
    const k = new FakeKernel();
    k.sendRoom = 0;
    const s = socketOn(k);
    s.send('a', { fds: [3] });
    s.send('b', { fds: [4, 5] });
    await tick();
    expect(k.openFds.size).toBe(3);
    s.destroy();
    expect(k.openFds.size).toBe(0);
  });

  it('a send error destroys the socket with the error', async () => {
    const k = new FakeKernel();
    k.sendError = { code: 'EPIPE', after: 1 };
    const s = socketOn(k);
    const error = new Promise<Error>((r) => s.once('error', r));
    s.send('a');
    s.send('b');
    expect(((await error) as Error & { code: string }).code).toBe('EPIPE');
    expect(k.sent).toHaveLength(1);
  });

  it('end() sends what is queued first, then shuts down writing', async () => {
    const k = new FakeKernel();
    k.sendRoom = 1;
    const s = socketOn(k);
    s.send('a');
    s.send('b');
    s.end();
    await tick();
    expect(k.shutdownCalls).toBe(0);
    k.sendRoom = Infinity;
    k.fire(POLL_WRITABLE);
    expect(k.sent.map((m) => m.data.toString())).toEqual(['a', 'b']);
    expect(k.shutdownCalls).toBe(1);
    s.destroy();
  });

  it('send() after end() is an error; after destroy() it returns false', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    s.end();
    const error = new Promise<Error>((r) => s.once('error', r));
    expect(s.send('late')).toBe(false);
    expect(((await error) as Error & { code: string }).code).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(s.send('later')).toBe(false);
  });
});

describe('lifetime', () => {
  it('destroy, end and close are idempotent and close exactly once', async () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    let closes = 0;
    s.on('close', () => closes++);
    s.end();
    s.close();
    s.destroy();
    s.destroy(new Error('ignored'));
    s.end();
    s.close();
    await tick();
    expect(closes).toBe(1);
  });

  it('an aborted signal destroys the socket with an AbortError', async () => {
    const k = new FakeKernel();
    const ac = new AbortController();
    const s = socketOn(k, { signal: ac.signal });
    const error = new Promise<Error>((r) => s.once('error', r));
    ac.abort();
    expect(((await error) as Error & { code: string }).code).toBe('ABORT_ERR');
    expect(s.destroyed).toBe(true);
  });

  it('unref() and ref() reach the poller', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    s.unref();
    expect(k.poller!.refed).toBe(false);
    s.ref();
    expect(k.poller!.refed).toBe(true);
    s.destroy();
  });

  it('reports the peer credentials', () => {
    const k = new FakeKernel();
    const s = socketOn(k);
    expect(s.peerCredentials).toEqual({ pid: 42, uid: 1000, gid: 1000 });
    s.destroy();
  });
});
