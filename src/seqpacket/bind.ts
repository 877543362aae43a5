// Binding a listening socket's address without ever stealing one: when the path is taken,
// a probe connect tells a live server (connects, or EAGAIN/EPROTOTYPE/EACCES: someone is
// there) from a stale file left by a dead one (ECONNREFUSED). Only a stale socket file is
// replaced, and only when asked.
import { lstatSync, unlinkSync } from 'node:fs';
import { constants } from 'node:os';

import { systemError } from '../runtime/system-error.js';
import type { UnixAddress } from './address.js';
import { AF_UNIX, SOCK_SEQPACKET, type SeqpacketBackend } from './backend.js';

export type PathState = 'live' | 'stale' | 'missing' | 'not-a-socket';

/** What is at a socket path: a server that answers, a stale socket file, or something else. */
export function probeSocketPath(backend: SeqpacketBackend, path: string): PathState {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 'missing';
  if (!st.isSocket()) return 'not-a-socket';
  const probe = backend.socket(AF_UNIX, SOCK_SEQPACKET);
  try {
    backend.connect(probe, AF_UNIX, path);
    return 'live';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return 'stale';
    if (code === 'ENOENT') return 'missing';
    // EAGAIN (backlog full), EPROTOTYPE (a stream socket), EACCES (not ours to probe): in use
    return 'live';
  } finally {
    backend.close(probe);
  }
}

function addressInUse(message: string, path: string, stale: boolean): Error {
  return systemError(constants.errno.EADDRINUSE, 'bind', message, { address: path, stale });
}

/** Binds fd to the address; handles a taken path as described above. */
export function bindAddress(backend: SeqpacketBackend, fd: number, address: UnixAddress, replaceStale: boolean): void {
  try {
    backend.bind(fd, AF_UNIX, address.address);
    return;
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EADDRINUSE') throw e;
    if (address.abstract) throw addressInUse(`the abstract name ${address.address} is in use by another socket`, address.address, false);
  }
  const path = address.address;
  const state = probeSocketPath(backend, path);
  if (state === 'live') throw addressInUse(`a server is already listening on ${path} (stop it, or choose another path)`, path, false);
  if (state === 'not-a-socket') throw addressInUse(`${path} exists and is not a socket (netdiag does not remove it)`, path, false);
  if (state === 'stale') {
    if (!replaceStale) {
      throw addressInUse(`${path} is a stale socket file: nothing listens on it (remove it, or pass replaceStale: true)`, path, true);
    }
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    }
  }
  // the path is free now, unless another process raced us to it: then EADDRINUSE stands
  try {
    backend.bind(fd, AF_UNIX, path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EADDRINUSE') throw addressInUse(`${path} was taken again while it was being replaced`, path, false);
    throw e;
  }
}

/** Identity of the socket file we created, so close() never unlinks a successor's. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export function socketFileIdentity(path: string): FileIdentity | null {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && st.isSocket() ? { dev: st.dev, ino: st.ino } : null;
}

/** Removes the socket file if it is still the one we created. */
export function removeSocketFile(path: string, id: FileIdentity | null): void {
  if (id === null) return;
  const now = socketFileIdentity(path);
  if (now === null || now.dev !== id.dev || now.ino !== id.ino) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the directory is no longer writable: nothing else to do
  }
}
