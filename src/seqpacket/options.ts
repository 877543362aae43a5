// Validation of the seqpacket options at the public boundary: TypeError/RangeError that name
// the option. The returned objects are complete, so the state machines never see undefined.
import { optionRangeError, optionTypeError } from '../errors.js';
import { checkBoolean, checkObject, checkOptionalNumber, checkSignal } from '../validate.js';
import type { MessageInfo } from './message-iterator.js';
import { markReused } from './receive-area.js';

/** Largest message that fits the default send buffer (212,992 - 32) rounded up: 256 KiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;
export const MAX_MAX_MESSAGE_SIZE = 256 * 1024 * 1024;
export const DEFAULT_WRITABLE_HIGH_WATER_MARK = 256 * 1024;
export const DEFAULT_READABLE_HIGH_WATER_MARK = 1024;
export const DEFAULT_BACKLOG = 511;
const MAX_ID = 0xfffffffe; // (uid_t)-1 means "no change"; every other 32-bit value is an id

export interface SeqpacketSocketOptions {
  /** Largest message this socket receives; a longer one is an 'error' (default 256 KiB). */
  maxMessageSize?: number;
  /** Bytes queued in user space before send() returns false (default 256 KiB). */
  writableHighWaterMark?: number;
  /** Messages buffered for the async iterator before reading pauses (default 1024). */
  readableHighWaterMark?: number;
  /** Keep sending after the peer ended (default false: end() follows the peer's end). */
  allowHalfOpen?: boolean;
  /** SO_SNDBUF in bytes (the kernel doubles it and caps it at net.core.wmem_max). */
  sendBufferSize?: number;
  /** Destroys the socket when aborted. */
  signal?: AbortSignal;
  /**
   * Like net.Socket's onread: messages land in one reused buffer and go to `callback` (with
   * `this` the socket) instead of 'message' events and iterators. `data` is valid only until
   * the callback returns; copy what you keep. Returning false pauses the socket. No
   * allocation per message: the fastest way to receive. `buffer` must hold maxMessageSize
   * bytes; a larger one takes more messages per system call (default: a shared buffer of
   * maxMessageSize + 256 KiB).
   */
  onread?: OnRead;
}

export interface OnRead {
  buffer?: Uint8Array;
  callback: (this: unknown, data: Buffer, info: MessageInfo) => boolean | void;
}

export interface ResolvedOnRead {
  buffer: Buffer | null;
  callback: OnRead['callback'];
}

export interface ResolvedSocketOptions {
  maxMessageSize: number;
  writableHighWaterMark: number;
  readableHighWaterMark: number;
  allowHalfOpen: boolean;
  sendBufferSize: number | undefined;
  signal: AbortSignal | undefined;
  onread: ResolvedOnRead | null;
}

function resolveOnRead(v: unknown, maxMessageSize: number): ResolvedOnRead | null {
  if (v === undefined) return null;
  const o = checkObject('onread', v);
  if (typeof o.callback !== 'function') throw optionTypeError('onread.callback', 'a function', o.callback);
  let buffer: Buffer | null = null;
  if (o.buffer !== undefined) {
    if (!(o.buffer instanceof Uint8Array)) throw optionTypeError('onread.buffer', 'a Buffer or Uint8Array', o.buffer);
    if (o.buffer.byteLength < maxMessageSize) {
      throw optionRangeError('onread.buffer', `at least maxMessageSize (${maxMessageSize}) bytes`, `${o.buffer.byteLength} bytes`);
    }
    buffer = Buffer.from(o.buffer.buffer, o.buffer.byteOffset, o.buffer.byteLength);
    markReused(buffer);
  }
  return { buffer, callback: o.callback as OnRead['callback'] };
}

export function resolveSocketOptions(v: unknown): ResolvedSocketOptions {
  const o = checkObject('options', v);
  const maxMessageSize = checkOptionalNumber('maxMessageSize', o.maxMessageSize, 1, MAX_MAX_MESSAGE_SIZE, DEFAULT_MAX_MESSAGE_SIZE, { integer: true });
  return {
    maxMessageSize,
    writableHighWaterMark: checkOptionalNumber('writableHighWaterMark', o.writableHighWaterMark, 0, 0x7fffffff, DEFAULT_WRITABLE_HIGH_WATER_MARK, { integer: true }),
    readableHighWaterMark: checkOptionalNumber('readableHighWaterMark', o.readableHighWaterMark, 1, 1_000_000, DEFAULT_READABLE_HIGH_WATER_MARK, { integer: true }),
    allowHalfOpen: checkBoolean('allowHalfOpen', o.allowHalfOpen, false),
    sendBufferSize: o.sendBufferSize === undefined ? undefined : checkOptionalNumber('sendBufferSize', o.sendBufferSize, 1024, 0x3fffffff, 0, { integer: true }),
    signal: checkSignal('signal', o.signal),
    onread: resolveOnRead(o.onread, maxMessageSize),
  };
}

export interface SeqpacketServerOptions extends Omit<SeqpacketSocketOptions, 'signal'> {
  /** Accept only peers with these uids (or, if given, with a gid in allowGids). */
  allowUids?: readonly number[];
  /** Accept only peers with these primary gids (or, if given, with a uid in allowUids). */
  allowGids?: readonly number[];
  /** chmod of the socket file, e.g. 0o660 (paths only). */
  mode?: number;
  /** chown of the socket file (paths only; needs the privilege to do so). */
  owner?: { uid?: number; gid?: number };
  /** Replace a stale socket file (one nobody listens on); a live one is never taken. */
  replaceStale?: boolean;
  /** listen() backlog (default 511). */
  backlog?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

export interface ResolvedServerOptions {
  socket: ResolvedSocketOptions;
  allowUids: ReadonlySet<number> | null;
  allowGids: ReadonlySet<number> | null;
  mode: number | undefined;
  owner: { uid: number; gid: number } | undefined;
  replaceStale: boolean;
  backlog: number;
  signal: AbortSignal | undefined;
}

function idList(option: string, v: unknown): ReadonlySet<number> | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) throw optionTypeError(option, 'an array of numeric ids', v);
  const out = new Set<number>();
  v.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID) {
      throw optionRangeError(`${option}[${i}]`, `an integer id from 0 to ${MAX_ID}`, id);
    }
    out.add(id);
  });
  return out;
}

export function resolveServerOptions(v: unknown): ResolvedServerOptions {
  const o = checkObject('options', v);
  const { signal: _ignored, ...socketPart } = o;
  void _ignored;
  let owner: ResolvedServerOptions['owner'];
  if (o.owner !== undefined) {
    const ow = checkObject('owner', o.owner);
    const uid = ow.uid === undefined ? -1 : checkOptionalNumber('owner.uid', ow.uid, 0, MAX_ID, 0, { integer: true });
    const gid = ow.gid === undefined ? -1 : checkOptionalNumber('owner.gid', ow.gid, 0, MAX_ID, 0, { integer: true });
    if (uid === -1 && gid === -1) throw optionRangeError('owner', 'an object with uid and/or gid', o.owner);
    owner = { uid, gid };
  }
  return {
    socket: resolveSocketOptions(socketPart),
    allowUids: idList('allowUids', o.allowUids),
    allowGids: idList('allowGids', o.allowGids),
    mode: o.mode === undefined ? undefined : checkOptionalNumber('mode', o.mode, 0, 0o7777, 0, { integer: true }),
    owner,
    replaceStale: checkBoolean('replaceStale', o.replaceStale, false),
    backlog: checkOptionalNumber('backlog', o.backlog, 1, 65535, DEFAULT_BACKLOG, { integer: true }),
    signal: checkSignal('signal', o.signal),
  };
}

/** Whether a peer passes the server's uid/gid filter (no filter: everyone). */
export function peerAllowed(opts: Pick<ResolvedServerOptions, 'allowUids' | 'allowGids'>, cred: { uid: number; gid: number }): boolean {
  if (opts.allowUids === null && opts.allowGids === null) return true;
  return (opts.allowUids?.has(cred.uid) ?? false) || (opts.allowGids?.has(cred.gid) ?? false);
}
