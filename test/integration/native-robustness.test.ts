// The addon under hostile input and at teardown: it throws JS errors, never crashes or
// aborts, never keeps the process alive through unref'd handles, and works in workers.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native, addonInfo } from '../../src/native.js';
import { testAddonPath } from '../../src/testing/tun-addon.js';
import { repoRoot } from '../helpers/built-package.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/native', name);

function runNode(args: string[]) {
  return spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
}

describe('native addon robustness', () => {
  it('every export survives hostile arguments (child process, exit 0, no signal)', () => {
    const r = runNode([fixture('bad-input.cjs'), addonInfo().path, testAddonPath()]);
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/Assertion|Aborted|Segmentation|AddressSanitizer|runtime error/);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.calls).toBeGreaterThan(1000);
    expect(summary.threw).toBeGreaterThan(0);
    expect(summary.nothingSentByHalfBadBatch).toBe(true);
  });

  for (const mode of ['natural', 'exit', 'worker']) {
    it(`exits cleanly with open pollers (${mode})`, () => {
      const r = runNode([fixture('exit-with-open-handles.cjs'), addonInfo().path, mode]);
      expect(r.signal).toBeNull();
      expect(r.stderr).not.toMatch(/Assertion|Aborted|uv_loop_close|Segmentation/);
      expect(r.status).toBe(0);
      if (mode === 'worker') expect(r.stdout).toContain('workers done');
    });
  }

  it('terminating a worker while its poll callback runs does not abort the process', () => {
    const r = runNode([fixture('terminate-in-callback.cjs'), addonInfo().path]);
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/FATAL ERROR|Aborted/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('survived 20');
  });

  it('a detached seqpacket receive area is refused, not written through', () => {
    const n = native();
    const meta = new Int32Array(64), fds = new Int32Array(300);
    n.setReceiveArea(meta, fds);
    const [x, y] = n.socketpair(n.constants.SOCK_SEQPACKET);
    try {
      structuredClone(meta.buffer, { transfer: [meta.buffer] });
      expect(() => n.recvMessages(x, Buffer.alloc(4096), 0, 1024, 4)).toThrow(/detached or shrunk/);
    } finally {
      n.close(x);
      n.close(y);
    }
  });

  it('errors carry code, errno and syscall', () => {
    const n = native();
    let err: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    try {
      n.getsockname(987654);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('EBADF');
    expect(err!.errno).toBe(9);
    expect(err!.syscall).toBe('getsockname');
    expect(err!.message).toBe('EBADF: Bad file descriptor, getsockname');
  });

  it('sockets are non-blocking and close-on-exec', () => {
    const n = native();
    const C = n.constants;
    const fd = n.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP);
    try {
      const flags = spawnSync('sh', ['-c', `cat /proc/${process.pid}/fdinfo/${fd}`], { encoding: 'utf8' }).stdout;
      const octal = parseInt(/flags:\s*(\d+)/.exec(flags)![1]!, 8);
      expect(octal & 0o4000).toBe(0o4000); // O_NONBLOCK
      expect(octal & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    } finally {
      n.close(fd);
    }
  });

  it('a Poller reports readable and the error queue, and can be closed inside its callback', async () => {
    const n = native();
    const C = n.constants;
    const [a, b] = n.socketpair(C.SOCK_DGRAM);
    const events: number[] = [];
    await new Promise<void>((resolve) => {
      const p = new n.Poller(a, (status, ev) => {
        events.push(ev);
        p.close(); // closing inside the callback must be safe
        resolve();
      });
      p.start(1);
      n.sendBatchIn(b, n.ioArea(Buffer.from('hi'), new Int32Array([0, 2, 0, 0, -1, -1, 0, 0]), Buffer.alloc(16), new Float64Array(3)), 1);
    });
    expect(events).toEqual([1]);
    n.close(a);
    n.close(b);
  });
});
