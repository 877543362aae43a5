// One TCP connect() probe (TCP ping's connect method; traceroute's tcp-connect does the same
// steps): a non-blocking stream socket that closes with a RST (SO_LINGER 0, so no FIN exchange
// and no TIME_WAIT piles up after thousands of probes), the send time read from CLOCK_REALTIME in
// C right before connect(), and how the handshake ended: SO_ERROR, the kernel's own RTT sample of
// a completed handshake (TCP_INFO tcpi_rtt, microseconds), and the ICMP error that aborted it
// from the error queue (IP_RECVERR), with the router that sent it.
import { constants } from 'node:os';
import { native, POLL_WRITABLE } from '../native.js';
import { DatagramSocket } from './datagram-socket.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6, type QueuedError } from './received-message.js';
import type { SocketOptions } from './socket-options.js';

const ERRNO = constants.errno;

// Linux values the addon's constant table does not carry
const TCP_INFO = 11;
/** struct tcp_info: tcpi_rtt (u32, µs) */
const TCP_INFO_RTT_OFFSET = 68;
const TCP_INFO_SIZE = 104;
const SO_LINGER = 13;

/** struct linger { l_onoff = 1, l_linger = 0 }: close() sends a RST */
const LINGER_ZERO = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

/** Makes close() of a TCP socket send a RST (SO_LINGER 0): no FIN exchange, no TIME_WAIT. */
export function lingerZero(fd: number): void {
  const n = native();
  n.setsockoptBuffer(fd, n.constants.SOL_SOCKET, SO_LINGER, LINGER_ZERO);
}

/** The kernel's RTT sample of a TCP socket's handshake in ms (TCP_INFO tcpi_rtt), or null. */
export function kernelRttMs(fd: number): number | null {
  try {
    const n = native();
    const info = n.getsockoptBuffer(fd, n.constants.IPPROTO_TCP, TCP_INFO, TCP_INFO_SIZE);
    if (info.length < TCP_INFO_RTT_OFFSET + 4) return null;
    const us = info.readUInt32LE(TCP_INFO_RTT_OFFSET);
    return us > 0 ? us / 1000 : null;
  } catch {
    return null;
  }
}

/** How a non-blocking connect() on fd stands: 0 connected, -1 in progress, else the errno that ended it. */
export function connectOutcome(fd: number): number {
  const n = native();
  const err = n.getsockoptInt(fd, n.constants.SOL_SOCKET, n.constants.SO_ERROR);
  if (err !== 0) return err;
  try {
    n.getpeername(fd);
    return 0;
  } catch {
    return -1;
  }
}

/** How connect() went at once: connected, refused (RST), in progress, or failed with an errno. */
export type ConnectStart = { kind: 'connected' } | { kind: 'refused' } | { kind: 'pending' } | { kind: 'failed'; errno: number };

export interface TcpConnectAttemptOptions extends SocketOptions {
  family: 4 | 6;
  /** bind to this source address first */
  source?: string;
}

export class TcpConnectAttempt {
  private readonly sock: DatagramSocket;
  /** CLOCK_REALTIME right before connect(): [sec, nsec] */
  readonly sent = new Float64Array(2);

  constructor(opts: TcpConnectAttemptOptions) {
    const n = native();
    this.sock = new DatagramSocket({ ...opts, type: 'stream', protocol: n.constants.IPPROTO_TCP });
    try {
      lingerZero(this.sock.fd);
    } catch (e) {
      this.sock.close();
      throw e;
    }
  }

  /** Starts the handshake to address:port (scopeId: a link-local address's interface). */
  connect(address: string, port: number, scopeId = 0): ConnectStart {
    const n = native();
    n.clockRealtime(this.sent);
    try {
      return n.connect(this.sock.fd, this.sock.family, address, port, scopeId) ? { kind: 'connected' } : { kind: 'pending' };
    } catch (e) {
      const errno = (e as { errno?: number }).errno ?? ERRNO.EIO;
      return errno === ERRNO.ECONNREFUSED ? { kind: 'refused' } : { kind: 'failed', errno };
    }
  }

  /** Calls onDone when the handshake has ended (connected, refused, failed). */
  watch(onDone: () => void): void {
    this.sock.start(onDone, POLL_WRITABLE);
  }

  unref(): void {
    this.sock.unref();
  }

  /** After watch() fired: 0 connected, -1 still in progress, else the errno that ended it. */
  outcome(): number {
    return connectOutcome(this.sock.fd);
  }

  /** The kernel's RTT sample of the completed handshake in ms (tcpi_rtt), or null. */
  kernelRttMs(): number | null {
    return kernelRttMs(this.sock.fd);
  }

  /** The ICMP error that aborted the handshake, from the error queue (null when none is there). */
  icmpError(): QueuedError | null {
    let found: QueuedError | null = null;
    this.sock.drain(true, (m) => {
      const q = m.queued;
      if (found === null && q !== null && (q.origin === ORIGIN_ICMP || q.origin === ORIGIN_ICMP6)) found = { ...q };
    });
    return found;
  }

  /** Closes with a RST (SO_LINGER 0). */
  close(): void {
    this.sock.close();
  }

  get isClosed(): boolean {
    return this.sock.isClosed;
  }
}
