// Which processes hold which sockets: one pass over /proc/PID/fd into a Map from socket
// inode to every {pid, command, fd} (ss -p keeps a 256-bucket hash and degrades to
// quadratic time at 100k sockets; psutil keeps only the first owner). Processes and
// descriptors that vanish mid-scan are skipped; processes whose descriptors cannot be read
// are reported, so an empty owner list is never a guess.
//
// readdirSync/readlinkSync: tens of thousands of tiny calls cost ~1-2 µs each in the
// calling thread against ~10 µs of promise and thread-pool overhead each for the async
// versions (bench/sockets.mjs measures both); the loop yields every YIELD_EVERY calls.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { commandMatches } from './filters.js';
import type { SocketOwner } from './types.js';

/** The few filesystem calls the scan makes, so tests can make processes vanish mid-scan. */
export interface ProcFs {
  readdir(path: string): string[];
  readlink(path: string): string;
  readFile(path: string): string;
}

export const realProcFs: ProcFs = {
  readdir: (path) => readdirSync(path),
  readlink: (path) => readlinkSync(path),
  readFile: (path) => readFileSync(path, 'utf8'),
};

export interface OwnerScanOptions {
  procRoot: string;
  /** scan only these processes */
  pids?: Set<number> | null;
  /** scan only processes whose comm matches */
  commands?: Set<string> | null;
  signal?: AbortSignal;
  fs?: ProcFs;
}

export interface OwnerScan {
  byInode: Map<number, SocketOwner[]>;
  /** processes whose descriptors could not be read (EACCES/EPERM), ascending */
  unreadable: number[];
}

const YIELD_EVERY = 4096;

/** errno codes that mean the process or descriptor is gone */
function vanished(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR' || code === 'EINVAL';
}

function denied(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

/** "socket:[12345]" -> 12345, anything else -> -1 */
export function socketInode(link: string): number {
  // 's' 'o' 'c' 'k' 'e' 't' ':' '['
  if (link.length < 10 || link.charCodeAt(0) !== 115 || link.charCodeAt(6) !== 58 || link.charCodeAt(7) !== 91) return -1;
  if (!link.startsWith('socket:[') || link.charCodeAt(link.length - 1) !== 93) return -1;
  let v = 0;
  for (let i = 8; i < link.length - 1; i++) {
    const d = link.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function readComm(fs: ProcFs, procRoot: string, pid: number): string | null {
  try {
    const s = fs.readFile(`${procRoot}/${pid}/comm`);
    return s.endsWith('\n') ? s.slice(0, -1) : s;
  } catch (e) {
    if (vanished(e)) return null;
    // comm is world-readable, so this should not happen: keep the owner, without a name
    return '';
  }
}

/** Process ids in procRoot, ascending. */
function listPids(fs: ProcFs, procRoot: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdir(procRoot)) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

export async function scanOwners(options: OwnerScanOptions): Promise<OwnerScan> {
  const fs = options.fs ?? realProcFs;
  const { procRoot, signal } = options;
  const commands = options.commands ?? null;
  const byInode = new Map<number, SocketOwner[]>();
  const unreadable: number[] = [];
  const pids = options.pids ? [...options.pids].sort((a, b) => a - b) : listPids(fs, procRoot);
  let calls = 0;

  for (const pid of pids) {
    if (++calls >= YIELD_EVERY) {
      calls = 0;
      await yieldToLoop();
      signal?.throwIfAborted();
    }
    let command: string | null = null;
    if (commands !== null) {
      command = readComm(fs, procRoot, pid);
      if (command === null || !commandMatches(commands, command)) continue;
    }
    const fdDir = `${procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = fs.readdir(fdDir);
    } catch (e) {
      if (denied(e)) unreadable.push(pid);
      else if (!vanished(e)) throw e;
      continue;
    }
    // found[i] = [inode, fd] of this process's sockets, so comm is read only when needed
    const found: number[] = [];
    let deniedMidway = false;
    for (let i = 0; i < fds.length; i++) {
      if (++calls >= YIELD_EVERY) {
        calls = 0;
        await yieldToLoop();
        signal?.throwIfAborted();
      }
      const name = fds[i]!;
      let link: string;
      try {
        link = fs.readlink(`${fdDir}/${name}`);
      } catch (e) {
        if (denied(e)) {
          deniedMidway = true;
          break;
        }
        if (vanished(e)) continue;
        throw e;
      }
      const ino = socketInode(link);
      if (ino < 0) continue;
      found.push(ino, Number(name));
    }
    if (deniedMidway) unreadable.push(pid);
    if (found.length === 0) continue;
    if (command === null) command = readComm(fs, procRoot, pid);
    if (command === null) continue; // exited while we looked: its sockets are closing
    for (let i = 0; i < found.length; i += 2) {
      const owner: SocketOwner = { pid, command, fd: found[i + 1]! };
      const list = byInode.get(found[i]!);
      if (list === undefined) byInode.set(found[i]!, [owner]);
      else list.push(owner);
    }
  }
  return { byInode, unreadable };
}
