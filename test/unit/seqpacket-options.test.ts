// Option validation at the public boundary (errors name the option), the uid/gid filter,
// and unix address parsing (paths, '@abstract' names, the 108-byte sun_path limit).
import { describe, expect, it } from 'vitest';

import { parseUnixAddress } from '../../src/seqpacket/address.js';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  peerAllowed,
  resolveServerOptions,
  resolveSocketOptions,
} from '../../src/seqpacket/options.js';

describe('socket options', () => {
  it('fills in the defaults', () => {
    expect(resolveSocketOptions(undefined)).toEqual({
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      writableHighWaterMark: 256 * 1024,
      readableHighWaterMark: 1024,
      allowHalfOpen: false,
      sendBufferSize: undefined,
      signal: undefined,
      onread: null,
    });
  });

  it.each([
    [{ maxMessageSize: 0 }, RangeError, /maxMessageSize/],
    [{ maxMessageSize: 1.5 }, RangeError, /maxMessageSize/],
    [{ maxMessageSize: '64' }, TypeError, /maxMessageSize/],
    [{ writableHighWaterMark: -1 }, RangeError, /writableHighWaterMark/],
    [{ readableHighWaterMark: 0 }, RangeError, /readableHighWaterMark/],
    [{ allowHalfOpen: 1 }, TypeError, /allowHalfOpen/],
    [{ sendBufferSize: 10 }, RangeError, /sendBufferSize/],
    [{ signal: {} }, TypeError, /signal/],
  ])('rejects %o naming the option', (opts, type, message) => {
    expect(() => resolveSocketOptions(opts)).toThrow(type);
    expect(() => resolveSocketOptions(opts)).toThrow(message);
  });

  it('rejects a non-object', () => {
    expect(() => resolveSocketOptions(5)).toThrow(TypeError);
  });
});

describe('server options', () => {
  it('accepts ids, mode and owner', () => {
    const o = resolveServerOptions({ allowUids: [0, 1000], allowGids: [100], mode: 0o660, owner: { gid: 5 }, replaceStale: true, backlog: 16 });
    expect([...o.allowUids!]).toEqual([0, 1000]);
    expect([...o.allowGids!]).toEqual([100]);
    expect(o.mode).toBe(0o660);
    expect(o.owner).toEqual({ uid: -1, gid: 5 });
    expect(o.replaceStale).toBe(true);
    expect(o.backlog).toBe(16);
    expect(o.socket.maxMessageSize).toBe(DEFAULT_MAX_MESSAGE_SIZE);
  });

  it.each([
    [{ allowUids: 1000 }, /allowUids/],
    [{ allowUids: [-1] }, /allowUids\[0\]/],
    [{ allowGids: [1, 'x'] }, /allowGids\[1\]/],
    [{ mode: 0o10000 }, /mode/],
    [{ owner: {} }, /owner/],
    [{ owner: { uid: -5 } }, /owner.uid/],
    [{ backlog: 0 }, /backlog/],
    [{ replaceStale: 'yes' }, /replaceStale/],
    [{ maxMessageSize: -3 }, /maxMessageSize/],
  ])('rejects %o naming the option', (opts, message) => {
    expect(() => resolveServerOptions(opts)).toThrow(message);
  });
});

describe('peer filter', () => {
  const cred = { uid: 1000, gid: 100 };
  it('lets everyone in without a filter', () => {
    expect(peerAllowed({ allowUids: null, allowGids: null }, cred)).toBe(true);
  });
  it('admits a listed uid or a listed gid, and nobody else', () => {
    expect(peerAllowed({ allowUids: new Set([1000]), allowGids: null }, cred)).toBe(true);
    expect(peerAllowed({ allowUids: new Set([0]), allowGids: null }, cred)).toBe(false);
    expect(peerAllowed({ allowUids: new Set([0]), allowGids: new Set([100]) }, cred)).toBe(true);
    expect(peerAllowed({ allowUids: null, allowGids: new Set([0]) }, cred)).toBe(false);
    expect(peerAllowed({ allowUids: new Set(), allowGids: null }, { uid: 0, gid: 0 })).toBe(false);
  });
});

describe('unix addresses', () => {
  it('tells paths from abstract names', () => {
    expect(parseUnixAddress('path', '/run/app.sock')).toEqual({ address: '/run/app.sock', abstract: false });
    expect(parseUnixAddress('path', '@app')).toEqual({ address: '@app', abstract: true });
  });
  it('enforces the sun_path limit in bytes', () => {
    expect(() => parseUnixAddress('path', '/' + 'a'.repeat(106))).not.toThrow();
    expect(() => parseUnixAddress('path', '/' + 'a'.repeat(107))).toThrow(/at most 107 bytes/);
    expect(() => parseUnixAddress('path', '@' + 'a'.repeat(107))).not.toThrow();
    expect(() => parseUnixAddress('path', '@' + 'a'.repeat(108))).toThrow(RangeError);
    expect(() => parseUnixAddress('path', '/' + 'é'.repeat(54))).toThrow(/has 109/);
  });
  it('rejects empty, non-string and NUL-containing paths', () => {
    expect(() => parseUnixAddress('path', '')).toThrow(RangeError);
    expect(() => parseUnixAddress('path', '@')).toThrow(RangeError);
    expect(() => parseUnixAddress('path', 7)).toThrow(TypeError);
    expect(() => parseUnixAddress('path', '/tmp/a\0b')).toThrow(/NUL/);
  });
});
