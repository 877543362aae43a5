// The owner scan over /proc/PID/fd: every owner of a shared socket, processes and
// descriptors that vanish mid-scan (skipped), descriptors that cannot be read (reported),
// the event loop kept responsive, and aborts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSockets } from '../../src/sockets/index.js';
import { scanOwners, socketInode, type ProcFs } from '../../src/sockets/owners.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/** A hook that fails with `code` on one path. */
function failOn(target: string, code: string): (path: string) => void {
  return (path) => {
    if (path === target) throw errno(code);
  };
}

/** A /proc made of a map: pid -> {comm, fds: fd -> link}; hooks throw to simulate races. */
function fakeProc(
  procs: Record<number, { comm: string; fds: Record<number, string> }>,
  hooks: { readdir?: (path: string) => void; readlink?: (path: string) => void; readFile?: (path: string) => void } = {},
): ProcFs {
  return {
    readdir(path) {
      hooks.readdir?.(path);
      if (path === '/p') return [...Object.keys(procs), 'self', 'net'];
      const m = /^\/p\/(\d+)\/fd$/.exec(path);
      const proc = m ? procs[Number(m[1])] : undefined;
      if (!proc) throw errno('ENOENT');
      return Object.keys(proc.fds);
    },
    readlink(path) {
      hooks.readlink?.(path);
      const m = /^\/p\/(\d+)\/fd\/(\d+)$/.exec(path)!;
      const link = procs[Number(m[1])]?.fds[Number(m[2])];
      if (link === undefined) throw errno('ENOENT');
      return link;
    },
    readFile(path) {
      hooks.readFile?.(path);
      const m = /^\/p\/(\d+)\/comm$/.exec(path)!;
      const proc = procs[Number(m[1])];
      if (!proc) throw errno('ENOENT');
      return proc.comm + '\n';
    },
  };
}

describe('socketInode', () => {
  it('reads socket links and nothing else', () => {
    expect(socketInode('socket:[12345]')).toBe(12345);
    expect(socketInode('socket:[4294967295]')).toBe(4294967295);
    for (const other of ['pipe:[12]', '/dev/null', 'socket:[]', 'socket:[12', 'socket:[1x]', 'anon_inode:[eventpoll]', 'socket:12']) expect(socketInode(other)).toBe(-1);
  });
});

describe('owners from the fixture /proc', () => {
  it('fills owners for every socket, [] where no process holds one', async () => {
    const doc = await listSockets({ procRoot, owners: true });
    const owners = new Map(doc.sockets.map((s) => [s.inode, s.owners]));
    expect(owners.get(1001)).toEqual([{ pid: 100, command: 'sshd', fd: 3 }]);
    expect(owners.get(2001)).toEqual([{ pid: 100, command: 'sshd', fd: 4 }]);
    // one socket, two processes (a forked server)
    expect(owners.get(1002)).toEqual([
      { pid: 200, command: 'postgres', fd: 7 },
      { pid: 201, command: 'postgres', fd: 7 },
    ]);
    expect(owners.get(5001)).toEqual([{ pid: 300, command: 'dbus-daemon', fd: 3 }]);
    expect(owners.get(1004)).toEqual([]);
    expect(doc.sockets.find((s) => s.state === 'TIME_WAIT')!.owners).toEqual([]);
    expect(doc.ownersUnreadable).toEqual([]);
  });

  it('leaves owners null and ownersUnreadable out unless asked for', async () => {
    const doc = await listSockets({ procRoot });
    expect(doc.sockets.every((s) => s.owners === null)).toBe(true);
    expect('ownersUnreadable' in doc).toBe(false);
  });
});

describe('races and permissions', () => {
  const procs = {
    10: { comm: 'a', fds: { 3: 'socket:[1]', 4: 'socket:[2]' } },
    20: { comm: 'b', fds: { 3: 'socket:[3]' } },
    30: { comm: 'c', fds: { 5: 'socket:[4]', 6: 'socket:[5]' } },
    40: { comm: 'd', fds: { 7: 'socket:[6]' } },
  };

  it('skips a process that exits between listing /proc and reading its fds', async () => {
    const fs = fakeProc(procs, { readdir: failOn('/p/20/fd', 'ENOENT') });
    const scan = await scanOwners({ procRoot: '/p', fs });
    expect([...scan.byInode.keys()].sort()).toEqual([1, 2, 4, 5, 6]);
    expect(scan.unreadable).toEqual([]);
  });

  it('skips a descriptor closed between readdir and readlink, and ESRCH', async () => {
    const fs = fakeProc(procs, {
      readlink: (p) => {
        if (p === '/p/10/fd/3') throw errno('ENOENT');
        if (p === '/p/30/fd/5') throw errno('ESRCH');
      },
    });
    const scan = await scanOwners({ procRoot: '/p', fs });
    expect([...scan.byInode.keys()].sort()).toEqual([2, 3, 5, 6]);
    expect(scan.unreadable).toEqual([]);
  });

  it('reports processes whose descriptors it may not read, instead of calling them socketless', async () => {
    const fs = fakeProc(procs, {
      readdir: failOn('/p/20/fd', 'EACCES'),
      readlink: failOn('/p/40/fd/7', 'EPERM'),
    });
    const scan = await scanOwners({ procRoot: '/p', fs });
    expect(scan.unreadable).toEqual([20, 40]);
    expect(scan.byInode.has(3)).toBe(false);
  });

  it('drops the owners of a process that exits before its name is read', async () => {
    const fs = fakeProc(procs, { readFile: failOn('/p/30/comm', 'ENOENT') });
    const scan = await scanOwners({ procRoot: '/p', fs });
    expect(scan.byInode.has(4) || scan.byInode.has(5)).toBe(false);
    expect(scan.byInode.get(6)).toEqual([{ pid: 40, command: 'd', fd: 7 }]);
  });

  it('rethrows errors that are not races or permissions', async () => {
    const fs = fakeProc(procs, { readlink: failOn('/p/10/fd/4', 'EIO') });
    await expect(scanOwners({ procRoot: '/p', fs })).rejects.toThrow('EIO');
  });

  it('scans only the given pids, or only processes with a matching comm', async () => {
    const fs = fakeProc({ ...procs, 50: { comm: 'a-very-long-com', fds: { 3: 'socket:[7]' } } });
    expect([...(await scanOwners({ procRoot: '/p', pids: new Set([30]), fs })).byInode.keys()]).toEqual([4, 5]);
    expect([...(await scanOwners({ procRoot: '/p', commands: new Set(['b']), fs })).byInode.keys()]).toEqual([3]);
    // comm keeps 15 bytes of a longer name
    expect([...(await scanOwners({ procRoot: '/p', commands: new Set(['a-very-long-command-name']), fs })).byInode.keys()]).toEqual([7]);
  });
});

describe('the event loop', () => {
  const many: Record<number, { comm: string; fds: Record<number, string> }> = {};
  for (let pid = 1; pid <= 20; pid++) {
    const fds: Record<number, string> = {};
    for (let fd = 0; fd < 1000; fd++) fds[fd] = `socket:[${pid * 10000 + fd}]`;
    many[pid] = { comm: 'x', fds };
  }

  it('gets turns during a long scan', async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    try {
      const scan = await scanOwners({ procRoot: '/p', fs: fakeProc(many) });
      expect(scan.byInode.size).toBe(20_000);
    } finally {
      clearInterval(timer);
    }
    expect(turns).toBeGreaterThan(0);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    setImmediate(() => ac.abort());
    await expect(scanOwners({ procRoot: '/p', fs: fakeProc(many), signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
