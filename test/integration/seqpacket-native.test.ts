// The native seqpacket calls (native/stream_io.cc) against bad input: wrong types, ranges
// outside the buffers, closed and non-socket fds. Each must throw a JS error, never crash
// the process, and a good call right after must still work.
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { native, type StreamIo } from '../../src/native.js';

const n = native() as ReturnType<typeof native> & StreamIo;
const { SOCK_SEQPACKET } = n.constants;

function pair(): [number, number] {
  return n.socketpair(SOCK_SEQPACKET);
}

describe('native seqpacket calls reject bad input', () => {
  it('sendMessages', () => {
    const [a, b] = pair();
    const data = Buffer.from('hello');
    const fds = new Int32Array(0);
    const bad: [string, () => unknown][] = [
      ['fd not a number', () => n.sendMessages('3' as unknown as number, data, new Int32Array([0, 5, 0, 0]), fds, 0, 1)],
      ['negative fd', () => n.sendMessages(-1, data, new Int32Array([0, 5, 0, 0]), fds, 0, 1)],
      ['data not a buffer', () => n.sendMessages(a, 'x' as unknown as Buffer, new Int32Array([0, 1, 0, 0]), fds, 0, 1)],
      ['desc not Int32Array', () => n.sendMessages(a, data, new Float64Array(4) as unknown as Int32Array, fds, 0, 1)],
      ['count past desc', () => n.sendMessages(a, data, new Int32Array([0, 5, 0, 0]), fds, 0, 2)],
      ['start past desc', () => n.sendMessages(a, data, new Int32Array([0, 5, 0, 0]), fds, 5, 0)],
      ['message past data', () => n.sendMessages(a, data, new Int32Array([3, 5, 0, 0]), fds, 0, 1)],
      ['negative length', () => n.sendMessages(a, data, new Int32Array([0, -1, 0, 0]), fds, 0, 1)],
      ['fds past fds', () => n.sendMessages(a, data, new Int32Array([0, 5, 0, 2]), fds, 0, 1)],
      ['254 fds', () => n.sendMessages(a, data, new Int32Array([0, 5, 0, 254]), new Int32Array(254), 0, 1)],
      ['huge count', () => n.sendMessages(a, data, new Int32Array(4), fds, 0, 0x7fffffff)],
    ];
    for (const [what, call] of bad) expect(call, what).toThrow();
    // a bad fd inside SCM_RIGHTS is the kernel's EBADF, with how many went before
    expect(() => n.sendMessages(a, data, new Int32Array([0, 1, 0, 0, 0, 1, 0, 1]), new Int32Array([999_999]), 0, 2)).toThrow(
      expect.objectContaining({ code: 'EBADF', sent: 1 }),
    );
    expect(n.sendMessages(a, data, new Int32Array([0, 5, 0, 0]), fds, 0, 1)).toBe(1);
    n.close(a);
    n.close(b);
  });

  it('recvMessages and its receive area', () => {
    const [a, b] = pair();
    const meta = new Int32Array(5 * 8);
    const fdsOut = new Int32Array(253);
    const buf = Buffer.alloc(1024);
    const badArea: [string, () => unknown][] = [
      ['fdsOut too small', () => n.setReceiveArea(meta, new Int32Array(10))],
      ['meta too small', () => n.setReceiveArea(new Int32Array(4), fdsOut)],
      ['meta not Int32Array', () => n.setReceiveArea([] as unknown as Int32Array, fdsOut)],
      ['fdsOut missing', () => (n.setReceiveArea as (m: Int32Array) => void)(meta)],
    ];
    for (const [what, call] of badArea) expect(call, what).toThrow();
    n.setReceiveArea(meta, fdsOut);
    const bad: [string, () => unknown][] = [
      ['maxMessageSize 0', () => n.recvMessages(b, buf, 0, 0, 8)],
      ['no room after offset', () => n.recvMessages(b, buf, 1000, 100, 8)],
      ['offset past the buffer', () => n.recvMessages(b, buf, 5000, 1, 8)],
      ['maxMessages 0', () => n.recvMessages(b, buf, 0, 100, 0)],
      ['negative offset', () => n.recvMessages(b, buf, -1, 100, 8)],
      ['buffer not a Buffer', () => n.recvMessages(b, 'x' as unknown as Buffer, 0, 1, 8)],
    ];
    for (const [what, call] of bad) expect(call, what).toThrow();
    // nothing queued: 0 entries
    expect(n.recvMessages(b, buf, 0, 100, 8)).toBe(0);
    n.sendMessages(a, Buffer.from('abc'), new Int32Array([0, 3, 0, 0]), new Int32Array(0), 0, 1);
    expect(n.recvMessages(b, buf, 0, 100, 8)).toBe(1);
    expect([...meta.subarray(0, 5)]).toEqual([0, 3, 0, 0, 0]);
    n.close(a);
    n.close(b);
  });

  it('closed and non-socket fds give errno errors', () => {
    const [a, b] = pair();
    n.close(a);
    n.close(b);
    const meta = new Int32Array(5 * 4);
    n.setReceiveArea(meta, new Int32Array(253));
    expect(() => n.recvMessages(a, Buffer.alloc(16), 0, 16, 1)).not.toThrow(); // an error entry
    expect(meta[2]).toBe(8);
    expect(meta[1]).toBe(9); // EBADF
    expect(() => n.sendMessages(a, Buffer.from('x'), new Int32Array([0, 1, 0, 0]), new Int32Array(0), 0, 1)).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
    expect(() => n.peerCredentials(a)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const file = openSync('/dev/null', 'r');
    expect(() => n.peerCredentials(file)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }));
    expect(() => n.sendMessages(file, Buffer.from('x'), new Int32Array([0, 1, 0, 0]), new Int32Array(0), 0, 1)).toThrow(
      expect.objectContaining({ code: 'ENOTSOCK' }),
    );
    closeSync(file);
  });

  it('fd helpers', () => {
    expect(() => n.duplicateFds('x' as unknown as number[])).toThrow(TypeError);
    expect(() => n.duplicateFds([0, -1])).toThrow(RangeError);
    expect(() => n.duplicateFds(Array.from({ length: 254 }, () => 0))).toThrow(RangeError);
    expect(() => n.duplicateFds([999_999])).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const dups = n.duplicateFds([0, 1]);
    expect(dups).toHaveLength(2);
    expect(() => n.closeFds(new Int32Array(dups), 1, 5)).toThrow(RangeError);
    n.closeFds(new Int32Array(dups), 0, 2);
    expect(n.isOpen(dups[0]!)).toBe(false);
    expect(() => n.releaseFds(new Int32Array(2), 3, 0)).toThrow(RangeError);
    expect(() => n.adoptFd(-5)).toThrow(RangeError);
    expect(() => n.closeFd(999_999)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
