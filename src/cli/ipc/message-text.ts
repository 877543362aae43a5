// How `netdiag ipc` shows what it exchanged: a message (utf8 when it is printable text, else
// base64, with the targets of its fds) and a peer, in the netdiag.ipc/1 document and in text.
import { closeSync, readlinkSync } from 'node:fs';
import type { PeerCredentials } from '../../seqpacket/index.js';

export const SCHEMA = 'netdiag.ipc/1';

export interface RenderedFd {
  fd: number;
  target: string | null;
}

export interface RenderedMessage {
  connection: number;
  peer: PeerCredentials | null;
  size: number;
  encoding: 'utf8' | 'base64';
  data: string;
  fds: RenderedFd[];
}

export function renderMessage(connection: number, peer: PeerCredentials | null, data: Buffer, fds: readonly number[]): RenderedMessage {
  const text = data.toString('utf8');
  const printable = Buffer.from(text, 'utf8').equals(data) && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text);
  return {
    connection,
    peer,
    size: data.length,
    encoding: printable ? 'utf8' : 'base64',
    data: printable ? text : data.toString('base64'),
    fds: fds.map((fd) => ({ fd, target: fdTarget(fd) })),
  };
}

function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

export function describePeer(p: PeerCredentials | null): string {
  return p === null ? 'peer unknown' : `pid ${p.pid} uid ${p.uid} gid ${p.gid}`;
}

export function describeMessage(m: RenderedMessage): string {
  const preview =
    m.encoding === 'utf8'
      ? JSON.stringify(m.data.length > 200 ? m.data.slice(0, 200) + '…' : m.data)
      : `<binary ${Buffer.from(m.data, 'base64').subarray(0, 32).toString('hex')}${m.size > 32 ? '…' : ''}>`;
  const fds = m.fds.length === 0 ? '' : `, ${m.fds.length} fd${m.fds.length === 1 ? '' : 's'} (${m.fds.map((f) => f.target ?? '?').join(', ')})`;
  return `${m.size} byte${m.size === 1 ? '' : 's'}${fds}: ${preview}`;
}

/** Closes fds that were received or opened here (shown already, or duplicated by send()). */
export function closeQuietly(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}
