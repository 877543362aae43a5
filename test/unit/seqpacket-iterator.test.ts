// MessageIterator on its own: queueing, waiting, end, abort with and without an error,
// early return, and the fds of messages the consumer never sees.
import { describe, expect, it } from 'vitest';

import { MessageIterator, type IteratorHost, type SeqpacketMessage } from '../../src/seqpacket/message-iterator.js';

function host() {
  const h = {
    pulled: 0,
    returned: [] as boolean[],
    closed: [] as number[],
    handedOut: [] as string[],
    iteratorPulled() {
      h.pulled++;
    },
    iteratorReturned(_it: MessageIterator, destroy: boolean) {
      h.returned.push(destroy);
    },
    closeMessageFds(messages: readonly SeqpacketMessage[], from: number) {
      for (let i = from; i < messages.length; i++) h.closed.push(...messages[i]!.fds);
    },
    handOut(m: SeqpacketMessage) {
      h.handedOut.push(m.data.toString());
    },
  };
  return h satisfies IteratorHost;
}

const msg = (text: string, fds: number[] = []): SeqpacketMessage => ({ data: Buffer.from(text), fds });

describe('MessageIterator', () => {
  it('yields queued messages, then waits, then ends', async () => {
    const h = host();
    const it = new MessageIterator(h, 10, true);
    it.push(msg('a'));
    expect((await it.next()).value!.data.toString()).toBe('a');
    const pending = it.next();
    it.push(msg('b'));
    expect((await pending).value!.data.toString()).toBe('b');
    it.push(msg('c'));
    it.end();
    expect((await it.next()).value!.data.toString()).toBe('c');
    expect((await it.next()).done).toBe(true);
    expect(h.pulled).toBe(2);
    expect(h.handedOut).toEqual(['a', 'b', 'c']);
  });

  it('reports full at the high-water mark', () => {
    const it = new MessageIterator(host(), 2, true);
    it.push(msg('a'));
    expect(it.full).toBe(false);
    it.push(msg('b'));
    expect(it.full).toBe(true);
  });

  it('abort(err) drops the queue (closing fds) and rejects once', async () => {
    const h = host();
    const it = new MessageIterator(h, 10, true);
    it.push(msg('a', [7, 8]));
    it.abort(new Error('gone'));
    expect(h.closed).toEqual([7, 8]);
    await expect(it.next()).rejects.toThrow('gone');
    expect((await it.next()).done).toBe(true);
  });

  it('a waiting next() settles when aborted without an error', async () => {
    const it = new MessageIterator(host(), 10, true);
    const pending = it.next();
    it.abort(undefined);
    expect((await pending).done).toBe(true);
  });

  it('return() closes queued fds, tells the host, and later pushes are closed too', async () => {
    const h = host();
    const it = new MessageIterator(h, 10, false);
    it.push(msg('a', [1]));
    it.push(msg('b', [2]));
    await it.next();
    await it.return();
    expect(h.closed).toEqual([2]);
    expect(h.returned).toEqual([false]);
    it.push(msg('c', [3]));
    expect(h.closed).toEqual([2, 3]);
    expect(it.active).toBe(false);
  });

  it('works with for await and break', async () => {
    const h = host();
    const it = new MessageIterator(h, 10, true);
    for (const t of ['a', 'b', 'c']) it.push(msg(t));
    const got: string[] = [];
    for await (const m of it) {
      got.push(m.data.toString());
      if (got.length === 2) break;
    }
    expect(got).toEqual(['a', 'b']);
    expect(h.returned).toEqual([true]);
  });
});
