// The system calls and the clock the seqpacket layer uses, as an interface: production code
// passes the native addon and the system clock, unit tests a fake. Nothing here has policy.
import { native, type Poller, type StreamIo } from '../native.js';
import { systemClock, type Clock } from '../runtime/clock.js';

export interface SeqpacketBackend extends StreamIo {
  /** times connect retries and accept pauses */
  readonly clock: Clock;
  socket(domain: number, type: number, protocol?: number): number;
  socketpair(type: number): [number, number];
  /** closes an fd that was never adopted (probes, rejected connections) */
  close(fd: number): void;
  bind(fd: number, family: number, address: string): void;
  connect(fd: number, family: number, address: string): boolean;
  listen(fd: number, backlog?: number): void;
  accept(fd: number): number;
  shutdown(fd: number, how: number): void;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  createPoller(fd: number, callback: (status: number, events: number) => void): Poller;
}

/** Linux values; the native constants are checked against them when the addon loads. */
export const AF_UNIX = 1;
export const SOCK_SEQPACKET = 5;
export const SOL_SOCKET = 1;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_PASSCRED = 16;
export const SO_DOMAIN = 39;
export const SHUT_WR = 1;
/** Bytes the kernel keeps from SO_SNDBUF for itself: a message may be at most SO_SNDBUF - 32. */
export const SNDBUF_OVERHEAD = 32;

let cached: SeqpacketBackend | undefined;

/** The real system calls (the native addon) and clock. */
export function systemBackend(): SeqpacketBackend {
  if (cached) return cached;
  const n = native();
  if (typeof n.sendMessages !== 'function' || typeof n.adoptFd !== 'function') {
    const err = new Error('the loaded netdiag addon has no seqpacket support (rebuild it with npm run build:native)');
    (err as Error & { code: string }).code = 'ERR_NETDIAG_ADDON';
    throw err;
  }
  const c = n.constants;
  if (c.AF_UNIX !== AF_UNIX || c.SOCK_SEQPACKET !== SOCK_SEQPACKET || c.SOL_SOCKET !== SOL_SOCKET || c.SO_PASSCRED !== SO_PASSCRED || c.SHUT_WR !== SHUT_WR || c.SO_ERROR !== SO_ERROR || c.SO_TYPE !== SO_TYPE || c.SO_DOMAIN !== SO_DOMAIN || c.SO_SNDBUF !== SO_SNDBUF) {
    throw new Error('netdiag seqpacket: unexpected socket constants from the addon (not Linux?)');
  }
  const io = n as typeof n & StreamIo;
  cached = {
    clock: systemClock(),
    SCM_MAX_FD: io.SCM_MAX_FD,
    sendMessages: io.sendMessages,
    recvMessages: io.recvMessages,
    setReceiveArea: io.setReceiveArea,
    peerCredentials: io.peerCredentials,
    duplicateFds: io.duplicateFds,
    closeFds: io.closeFds,
    adoptFd: io.adoptFd,
    releaseFds: io.releaseFds,
    closeFd: io.closeFd,
    socket: n.socket,
    socketpair: n.socketpair,
    close: n.close,
    bind: n.bind,
    connect: n.connect,
    listen: n.listen,
    accept: n.accept,
    shutdown: n.shutdown,
    setsockoptInt: n.setsockoptInt,
    getsockoptInt: n.getsockoptInt,
    createPoller: (fd, cb) => new n.Poller(fd, cb),
  };
  return cached;
}
