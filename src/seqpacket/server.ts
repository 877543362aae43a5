// SeqpacketServer: listens on a path or '@abstract-name', accepts in batches, filters peers
// by uid/gid (SO_PEERCRED), and hands each accepted connection out as a SeqpacketSocket.
// Events: 'listening', 'connection'(socket), 'rejected'(peer), 'error'(err), 'close'.
import { EventEmitter } from 'node:events';
import { chmodSync, chownSync } from 'node:fs';

import { optionRangeError, optionTypeError } from '../errors.js';
import { POLL_READABLE, type Poller } from '../native.js';
import { parseUnixAddress, type UnixAddress } from './address.js';
import type { TimerHandle } from '../runtime/clock.js';
import { AF_UNIX, SOCK_SEQPACKET, systemBackend, type SeqpacketBackend } from './backend.js';
import { bindAddress, removeSocketFile, socketFileIdentity, type FileIdentity } from './bind.js';
import { abortError, withContext } from './errors.js';
import { peerAllowed, resolveServerOptions, type ResolvedServerOptions, type SeqpacketServerOptions } from './options.js';
import { SeqpacketSocket, type PeerCredentials } from './socket.js';

/** Connections accepted per readable event before yielding to the loop. */
const ACCEPT_BATCH = 64;
/** After EMFILE/ENFILE/ENOMEM, accepting pauses this long instead of spinning. */
const ACCEPT_PAUSE_MS = 100;

/** A peer turned away by allowUids/allowGids (its connection was closed at once). */
export interface RejectedPeer extends PeerCredentials {
  reason: string;
}

export interface SeqpacketServer {
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'connection', listener: (socket: SeqpacketSocket) => void): this;
  on(event: 'rejected', listener: (peer: RejectedPeer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'listening' | 'close', listener: () => void): this;
  once(event: 'connection', listener: (socket: SeqpacketSocket) => void): this;
  once(event: 'rejected', listener: (peer: RejectedPeer) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

export class SeqpacketServer extends EventEmitter {
  private readonly opts: ResolvedServerOptions;
  private readonly backend: SeqpacketBackend;
  private fd = -1;
  private poller: Poller | null = null;
  private bound: UnixAddress | null = null;
  private fileId: FileIdentity | null = null;
  private state: 'idle' | 'listening' | 'closed' = 'idle';
  private closeEmitted = false;
  private refed = true;
  private acceptTimer: TimerHandle | null = null;
  private readonly sockets = new Set<SeqpacketSocket>();
  private readonly onAbort = (): void => {
    this.close();
  };

  constructor(options?: SeqpacketServerOptions, connectionListener?: (socket: SeqpacketSocket) => void) {
    super();
    this.opts = resolveServerOptions(options);
    if (connectionListener !== undefined) {
      if (typeof connectionListener !== 'function') throw optionTypeError('connectionListener', 'a function', connectionListener);
      this.on('connection', connectionListener);
    }
    this.backend = systemBackend();
  }

  get listening(): boolean {
    return this.state === 'listening';
  }

  /** Open connections accepted by this server. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** The address listened on, as given ('/run/app.sock' or '@name'), or null. */
  address(): string | null {
    return this.state === 'listening' && this.bound !== null ? this.bound.address : null;
  }

  /**
   * Binds and listens. A taken path is never stolen: a live server gives EADDRINUSE; a stale
   * socket file gives EADDRINUSE with `stale: true` unless replaceStale was set. Errors are
   * emitted as 'error'; 'listening' (and the callback) once ready.
   */
  listen(path: string, callback?: () => void): this {
    if (this.state === 'listening') throw Object.assign(new Error('the server is already listening'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    if (this.state === 'closed') throw Object.assign(new Error('the server was closed; create a new one'), { code: 'ERR_SERVER_NOT_RUNNING' });
    const address = parseUnixAddress('path', path);
    if (address.abstract && this.opts.mode !== undefined) throw optionRangeError('mode', "used with a filesystem path, not an abstract '@name'", this.opts.mode);
    if (address.abstract && this.opts.owner !== undefined) throw optionRangeError('owner', "used with a filesystem path, not an abstract '@name'", this.opts.owner);
    if (callback !== undefined) {
      if (typeof callback !== 'function') throw optionTypeError('callback', 'a function', callback);
      this.once('listening', callback);
    }
    const signal = this.opts.signal;
    if (signal?.aborted) {
      this.state = 'closed';
      process.nextTick(() => this.emit('error', abortError(signal.reason)));
      return this;
    }
    try {
      this.open(address);
    } catch (e) {
      if (e instanceof Error) Object.assign(e, { address: path });
      process.nextTick(() => this.emit('error', e));
      return this;
    }
    this.state = 'listening';
    signal?.addEventListener('abort', this.onAbort, { once: true });
    process.nextTick(() => {
      if (this.state === 'listening') this.emit('listening');
    });
    return this;
  }

  private open(address: UnixAddress): void {
    const b = this.backend;
    const fd = b.socket(AF_UNIX, SOCK_SEQPACKET);
    b.adoptFd(fd);
    let fileId: FileIdentity | null = null;
    try {
      bindAddress(b, fd, address, this.opts.replaceStale);
      if (!address.abstract) {
        fileId = socketFileIdentity(address.address);
        // before listen(): nobody can connect while the file has the umask's permissions
        if (this.opts.mode !== undefined) chmodSync(address.address, this.opts.mode);
        if (this.opts.owner !== undefined) chownSync(address.address, this.opts.owner.uid, this.opts.owner.gid);
      }
      b.listen(fd, this.opts.backlog);
      const poller = b.createPoller(fd, (status) => this.accepting(status));
      poller.start(POLL_READABLE);
      if (!this.refed) poller.unref();
      this.poller = poller;
    } catch (e) {
      b.closeFd(fd);
      if (!address.abstract) removeSocketFile(address.address, fileId);
      throw e;
    }
    this.fd = fd;
    this.bound = address;
    this.fileId = fileId;
  }

  private accepting(status: number): void {
    if (this.state !== 'listening') return;
    if (status < 0) {
      this.emit('error', Object.assign(new Error(`polling the listening socket failed (libuv status ${status})`), { code: 'ERR_SEQPACKET_POLL', status }));
      return;
    }
    for (let i = 0; i < ACCEPT_BATCH && this.state === 'listening'; i++) {
      let fd: number;
      try {
        fd = this.backend.accept(this.fd);
      } catch (e) {
        this.acceptFailed(e);
        return;
      }
      if (fd < 0) return;
      this.admit(fd);
    }
  }

  private admit(fd: number): void {
    let cred: PeerCredentials;
    try {
      cred = this.backend.peerCredentials(fd);
    } catch {
      this.backend.close(fd); // the peer is gone already
      return;
    }
    if (!peerAllowed(this.opts, cred)) {
      this.backend.close(fd);
      const reason = `peer uid ${cred.uid} gid ${cred.gid} is not in allowUids/allowGids`;
      this.emit('rejected', { pid: cred.pid, uid: cred.uid, gid: cred.gid, reason });
      return;
    }
    const socket = new SeqpacketSocket({ backend: this.backend, options: this.opts.socket, fd, connecting: false });
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.maybeEmitClose();
    });
    this.emit('connection', socket);
  }

  private acceptFailed(e: unknown): void {
    const code = (e as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOBUFS' || code === 'ENOMEM') {
      // the connection stays in the backlog; try again later rather than spin on it
      this.poller?.stop();
      const { clock } = this.backend;
      this.acceptTimer = clock.setTimer(() => {
        this.acceptTimer = null;
        if (this.state === 'listening') this.poller?.start(POLL_READABLE);
      }, ACCEPT_PAUSE_MS);
      if (!this.refed) clock.refTimer(this.acceptTimer, false);
    }
    this.emit('error', withContext(e, 'accept failed'));
  }

  /**
   * Stops accepting and removes the socket file (if it is still ours). Open connections go
   * on; 'close' comes once they have all closed. Use closeConnections() to end them too.
   */
  close(callback?: (err?: Error) => void): this {
    if (callback !== undefined && typeof callback !== 'function') throw optionTypeError('callback', 'a function', callback);
    if (this.state !== 'listening') {
      if (callback !== undefined) {
        const err = Object.assign(new Error('the server is not running'), { code: 'ERR_SERVER_NOT_RUNNING' });
        process.nextTick(callback, err);
      }
      this.state = 'closed';
      return this;
    }
    this.state = 'closed';
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.acceptTimer !== null) this.backend.clock.clearTimer(this.acceptTimer);
    this.acceptTimer = null;
    this.poller?.close();
    this.poller = null;
    if (this.fd >= 0) {
      try {
        this.backend.closeFd(this.fd);
      } catch {
        // nothing useful to do
      }
      this.fd = -1;
    }
    if (this.bound !== null && !this.bound.abstract) removeSocketFile(this.bound.address, this.fileId);
    if (callback !== undefined) this.once('close', () => callback());
    this.maybeEmitClose();
    return this;
  }

  /** Destroys every open connection (e.g. at shutdown, after close()). */
  closeConnections(err?: Error): void {
    for (const s of [...this.sockets]) s.destroy(err);
  }

  private maybeEmitClose(): void {
    if (this.state !== 'closed' || this.closeEmitted || this.sockets.size > 0) return;
    this.closeEmitted = true;
    process.nextTick(() => this.emit('close'));
  }

  /** Lets the process exit while the server listens (connections have their own unref()). */
  unref(): this {
    this.refed = false;
    this.poller?.unref();
    if (this.acceptTimer !== null) this.backend.clock.refTimer(this.acceptTimer, false);
    return this;
  }

  ref(): this {
    this.refed = true;
    this.poller?.ref();
    if (this.acceptTimer !== null) this.backend.clock.refTimer(this.acceptTimer, true);
    return this;
  }
}
