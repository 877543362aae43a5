// systemError (src/runtime/system-error.ts): the one factory for errno errors built in
// TypeScript, shaped like Node's and the addon's so failure-text.ts explains them alike.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';

import { systemError } from '../../src/runtime/system-error.js';

describe('systemError', () => {
  it('names the code, the system text and the syscall, with a positive errno', () => {
    const e = systemError(constants.errno.ENOENT, 'open');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('ENOENT: no such file or directory, open');
    expect(e).toMatchObject({ code: 'ENOENT', errno: constants.errno.ENOENT, syscall: 'open' });
  });

  it('takes a negative libuv status as the same errno', () => {
    const e = systemError(-constants.errno.ECONNRESET, 'uv_poll', 'polling the socket failed');
    expect(e.message).toBe('ECONNRESET: polling the socket failed');
    expect(e).toMatchObject({ code: 'ECONNRESET', errno: constants.errno.ECONNRESET, syscall: 'uv_poll' });
  });

  it('an errno Node has no name for is E<number>', () => {
    const e = systemError(4000, 'recvmsg');
    expect(e.code).toBe('E4000');
    expect(e.message).toBe('E4000: unknown error, recvmsg');
  });

  it('extra fields are added', () => {
    const e = systemError(constants.errno.EADDRINUSE, 'bind', 'the path is in use', { address: '/tmp/x', stale: false });
    expect(e.message).toBe('EADDRINUSE: the path is in use');
    expect(e).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '/tmp/x', stale: false });
  });
});
