// Loads the addon (a prebuild from prebuilds/ or a local build from build/) with
// node-gyp-build and types every export. Nothing else imports the .node file.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';

/** Poll event bits passed to and reported by Poller. */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_HANGUP = 4;
/** The socket has something in its error queue (POLLERR). */
export const POLL_ERROR = 16;

/** Per-message metadata layout of recvBatchIn (Float64Array stride). */
export const RECV_META_STRIDE = 16;
export const RecvMeta = {
  length: 0, flags: 1, tsSec: 2, tsNsec: 3, ttl: 4, tos: 5, family: 6, port: 7, scopeId: 8,
  eeErrno: 9, eeOrigin: 10, eeType: 11, eeCode: 12, eeInfo: 13, eeData: 14, offenderFamily: 15,
} as const;
/** recvBatchIn address slot: 16 bytes source, 16 bytes offender (error queue). */
export const RECV_ADDR_STRIDE = 32;
export const RECV_FLAG_TRUNC = 1;
export const RECV_FLAG_CTRUNC = 2;

/** sendBatchIn descriptor layout (Int32Array stride): offset, length, family, port, ttl, tos, scopeId, IPv6 flow label. */
export const SEND_DESC_STRIDE = 8;
/** sendBatchIn output layout (Float64Array stride): sec, nsec, errno. */
export const SEND_OUT_STRIDE = 3;

export interface SocketName {
  family: 4 | 6 | 1 | 0;
  address?: string;
  port?: number;
  scopeId?: number;
  /** unix sockets: the path, '@name' when abstract, null when unbound */
  path?: string | null;
}

/** What dropCapabilities did: threads in the process, threads asked (this one included),
 * threads that dropped, and the ids of the threads skipped because they block the signal. */
export interface CapabilityDrop {
  threads: number;
  asked: number;
  dropped: number;
  skipped: number[];
}

export interface CapabilityMasks {
  effective: string;
  permitted: string;
  inheritable: string;
  ambient: string;
  bounding: string;
}

/** An opaque handle of typed arrays registered with the addon (NativeBinding.ioArea). */
export interface IoArea {
  readonly __ioArea: unique symbol;
}

export interface Poller {
  readonly fd: number;
  readonly closed: boolean;
  /** events: POLL_READABLE | POLL_WRITABLE (errors are always reported) */
  start(events: number): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
  hasRef(): boolean;
}

export interface PollerConstructor {
  /** callback(status, events): status is 0 or a negative libuv error */
  new (fd: number, callback: (status: number, events: number) => void): Poller;
}

export type Constants = Record<
  | 'AF_INET' | 'AF_INET6' | 'AF_UNIX'
  | 'SOCK_STREAM' | 'SOCK_DGRAM' | 'SOCK_RAW' | 'SOCK_SEQPACKET'
  | 'IPPROTO_IP' | 'IPPROTO_IPV6' | 'IPPROTO_ICMP' | 'IPPROTO_ICMPV6' | 'IPPROTO_UDP' | 'IPPROTO_TCP'
  | 'SOL_SOCKET' | 'SO_RCVBUF' | 'SO_RCVBUFFORCE' | 'SO_SNDBUF' | 'SO_SNDBUFFORCE' | 'SO_TIMESTAMPNS'
  | 'SO_MARK' | 'SO_BINDTODEVICE' | 'SO_ERROR' | 'SO_REUSEADDR' | 'SO_PEERCRED' | 'SO_PASSCRED'
  | 'SO_DOMAIN' | 'SO_TYPE' | 'SO_PROTOCOL' | 'SO_RXQ_OVFL' | 'SO_DETACH_FILTER'
  | 'IP_TTL' | 'IP_TOS' | 'IP_RECVERR' | 'IP_RECVTTL' | 'IP_RECVTOS' | 'IP_MTU_DISCOVER' | 'IP_MTU'
  | 'IP_HDRINCL' | 'IP_PMTUDISC_DONT' | 'IP_PMTUDISC_WANT' | 'IP_PMTUDISC_DO' | 'IP_PMTUDISC_PROBE'
  | 'IP_MULTICAST_TTL' | 'IP_PKTINFO' | 'IP_RECVERR_RFC4884'
  | 'IPV6_UNICAST_HOPS' | 'IPV6_TCLASS' | 'IPV6_RECVERR' | 'IPV6_RECVHOPLIMIT' | 'IPV6_RECVTCLASS'
  | 'IPV6_MTU_DISCOVER' | 'IPV6_MTU' | 'IPV6_PMTUDISC_DONT' | 'IPV6_PMTUDISC_WANT' | 'IPV6_PMTUDISC_DO'
  | 'IPV6_PMTUDISC_PROBE' | 'IPV6_V6ONLY' | 'IPV6_CHECKSUM' | 'IPV6_RECVPKTINFO' | 'IPV6_RECVERR_RFC4884'
  | 'IPV6_FLOWLABEL_MGR' | 'IPV6_FLOWINFO_SEND' | 'IPV6_AUTOFLOWLABEL' | 'IPV6_FL_A_GET' | 'IPV6_FL_F_CREATE' | 'IPV6_FL_S_EXCL'
  | 'ICMP_FILTER' | 'ICMPV6_FILTER'
  | 'SHUT_RD' | 'SHUT_WR' | 'SHUT_RDWR'
  | 'SO_EE_ORIGIN_NONE' | 'SO_EE_ORIGIN_LOCAL' | 'SO_EE_ORIGIN_ICMP' | 'SO_EE_ORIGIN_ICMP6',
  number
>;

/** Seqpacket message I/O (native/stream_io.cc). */
export interface StreamIo {
  /** Most fds one message can carry (the kernel's SCM_MAX_FD). */
  readonly SCM_MAX_FD: number;
  /**
   * Sends messages start..start+count-1 with sendmmsg (MSG_NOSIGNAL | MSG_DONTWAIT):
   * desc per message [offset in data, length, offset in fds, fd count] (stride 4), the fds
   * travelling as SCM_RIGHTS. Returns how many were sent; fewer than count means EAGAIN.
   * Other errors throw (code, errno, syscall 'sendmsg') with `sent` = how many went before.
   */
  sendMessages(fd: number, data: Buffer, desc: Int32Array, fds: Int32Array, start: number, count: number): number;
  /**
   * Where recvMessages reports, set once per thread: meta (RECV_MESSAGE_STRIDE int32 per
   * entry) and fdsOut (at least SCM_MAX_FD entries), both larger than 64 bytes. The addon
   * keeps them referenced.
   */
  setReceiveArea(meta: Int32Array, fdsOut: Int32Array): void;
  /**
   * Receives messages back to back into buf from offset, each with room for maxMessageSize
   * bytes (buf must hold that much after offset). Per entry, meta holds [offset, length,
   * flags, fdsOffset, fdsCount] (see RECV_*), the fds go to fdsOut. Stops at maxMessages,
   * EAGAIN, when the buffer or fdsOut could not take another message, or after an
   * end-of-stream or error entry. Returns the number of entries.
   * End of stream is told from an empty message by SO_PASSCRED (set it on the socket): the
   * kernel attaches credentials to every message and to nothing at end of stream.
   */
  recvMessages(fd: number, buf: Buffer, offset: number, maxMessageSize: number, maxMessages: number): number;
  /** SO_PEERCRED of a connected unix socket: the peer as it was at connect()/socketpair(). */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  /** Close-on-exec duplicates (F_DUPFD_CLOEXEC) of up to SCM_MAX_FD fds; all or nothing. */
  duplicateFds(fds: readonly number[]): number[];
  /** Closes owned fds[start..start+count-1] (negative entries skipped), stopping polls on them first. */
  closeFds(fds: Int32Array, start: number, count: number): void;
  /**
   * Ownership registry (one per environment, shared by every fd the addon makes: socket,
   * socketpair, accept, duplicateFds, received fds; the test addon's openTun adopts its fd
   * here): owned fds are closed when the environment is torn down (worker terminated,
   * exit). adoptFd adds an fd from elsewhere;
   * releaseFds hands received fds to the application (out of the registry).
   */
  adoptFd(fd: number): void;
  releaseFds(fds: Int32Array, start: number, count: number): void;
  /** The same as close(fd). */
  closeFd(fd: number): void;
}

/** recvMessages meta layout (Int32Array stride) and entry flags. */
export const RECV_MESSAGE_STRIDE = 5;
/** MSG_TRUNC: longer than maxMessageSize; `length` is the real length, the rest is lost. */
export const RECV_MESSAGE_TRUNCATED = 1;
/** MSG_CTRUNC: some of the message's fds were lost (RLIMIT_NOFILE, too many). */
export const RECV_MESSAGE_FDS_TRUNCATED = 2;
/** The peer shut down writing or closed. */
export const RECV_MESSAGE_END = 4;
/** recvmsg failed; `length` holds the errno. */
export const RECV_MESSAGE_ERROR = 8;

export interface NativeBinding extends StreamIo {
  readonly arch: string;
  readonly constants: Constants;
  socket(domain: number, type: number, protocol?: number): number;
  socketpair(type: number): [number, number];
  /** The one close path: stops any poll on fd, takes it out of the registry, closes it. */
  close(fd: number): void;
  /** if_nametoindex in the calling thread's network namespace: the index, 0 when none */
  interfaceIndex(name: string): number;
  /** if_indextoname: the interface's name, null when no interface has the index */
  interfaceName(index: number): string | null;
  /**
   * family 4, 6 or 1 (unix: address is the path, '@name' for abstract); an IPv6 address may
   * end in %ifname or %index (its scope id; must agree with a nonzero scopeId)
   */
  bind(fd: number, family: number, address: string, port?: number, scopeId?: number): void;
  /** true when connected at once, false when in progress */
  connect(fd: number, family: number, address: string, port?: number, scopeId?: number): boolean;
  disconnect(fd: number): void;
  listen(fd: number, backlog?: number): void;
  /** the accepted fd, or -1 when none is pending */
  accept(fd: number): number;
  shutdown(fd: number, how: number): void;
  getsockname(fd: number): SocketName;
  getpeername(fd: number): SocketName;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  setsockoptBuffer(fd: number, level: number, name: number, value: Buffer): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  getsockoptBuffer(fd: number, level: number, name: number, size: number): Buffer;
  /** classic BPF: 8-byte sock_filter instructions in host byte order */
  attachFilter(fd: number, program: Buffer): void;
  isOpen(fd: number): boolean;
  /**
   * Registers typed arrays once, for the batched datagram calls below: a send batch's (data,
   * desc: Int32Array, addrs, out: Float64Array) or a receive area's (buf, meta: Float64Array,
   * addrs, counts: Int32Array of 2). A call then skips reading each array again; it throws
   * when the memory was detached (transferred) since.
   */
  ioArea(a: ArrayBufferView, b: ArrayBufferView, c: ArrayBufferView, d: ArrayBufferView): IoArea;
  /** sends the first count messages of a send batch area (see SEND_DESC_STRIDE / SEND_OUT_STRIDE); returns how many were processed */
  sendBatchIn(fd: number, sendArea: IoArea, count: number): number;
  /** reads into a receive area (see RecvMeta / RECV_ADDR_STRIDE); returns the number of messages (0: nothing ready) */
  recvBatchIn(fd: number, recvArea: IoArea, slotSize: number, max: number, errqueue: boolean): number;
  /**
   * sendBatchIn, then (max > 0) recvBatchIn of what is queued then (not the error queue), in one
   * call. The receive area's counts get [processed, received]; received is -errno when that
   * read failed (the sends stand). Returns how many were processed.
   */
  sendRecvBatchIn(fd: number, sendArea: IoArea, count: number, recvArea: IoArea, slotSize: number, max: number): number;
  /** [sec, nsec] of CLOCK_REALTIME, the clock of kernel receive and send timestamps (native/clock.cc) */
  clockRealtime(out: Float64Array): void;
  Poller: PollerConstructor;
  capabilities(): CapabilityMasks;
  raiseCapability(cap: number): boolean;
  /**
   * Empties every capability set of every thread (each thread drops its own on a signal);
   * `dropped` < `threads` when a thread blocks the signal.
   */
  dropCapabilities(): CapabilityDrop;
  /**
   * A netlink socket of `protocol` (NETLINK_ROUTE = 0 or NETLINK_SOCK_DIAG = 4; blocking, 5 s
   * receive timeout), made inside the network namespace nsPath (/proc/PID/ns/net) when given;
   * owned like every other fd (close()).
   */
  netlinkOpen(protocol: 0 | 4, nsPath?: string): number;
  /** Sends one netlink message (a request JS built) to the kernel. */
  netlinkSend(fd: number, message: Buffer): void;
  /**
   * Waits for the first datagram, then takes what else is ready while 64 KiB of room is
   * left (buffer: at least 64 KiB); returns the bytes written, a chain of netlink messages.
   */
  netlinkReceive(fd: number, buffer: Buffer): number;
  /**
   * netlinkReceive on a thread of the pool (the kernel does a dump's work inside the receive,
   * so it runs while JS parses the buffer before); the buffer must be left alone until the
   * promise settles. The thread reads a duplicate of fd.
   */
  netlinkReceiveAsync(fd: number, buffer: Buffer): Promise<number>;
}

export interface AddonInfo {
  /** absolute path of the loaded .node file */
  path: string;
  /** 'prebuild' (prebuilds/), 'local-build' (build/Release), or 'override' (NETDIAG_ADDON) */
  source: 'prebuild' | 'local-build' | 'override';
  arch: string;
}

const require = createRequire(import.meta.url);

/**
 * The package root (package.json, binding.gyp, build/, prebuilds/): the nearest directory above
 * this module that has package.json and binding.gyp, so that the module may live in dist/ or in
 * a bundle elsewhere in the package; the parent directory when none is found.
 */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(here, '..');
}

/**
 * The addon where node-gyp-build would find it in this package's own layouts, looked up
 * without it (loading and running it costs some 3 ms of every run): the local build when
 * there is one, else, with no build/ at all, the prebuild of this arch. null: ask node-gyp-build.
 */
function knownAddonPath(root: string): string | null {
  // node-gyp-build's own switches: another package root, or prebuilds only
  if (process.env.NETDIAG_PREBUILD || process.env.PREBUILDS_ONLY) return null;
  const local = join(root, 'build', 'Release', 'netdiag.node');
  if (existsSync(local)) return local;
  const prebuild = join(root, 'prebuilds', `linux-${process.arch}`, 'netdiag.node');
  return !existsSync(join(root, 'build')) && existsSync(prebuild) ? prebuild : null;
}

function resolveWithNodeGypBuild(root: string): string {
  const path = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
  // node-gyp-build takes the first .node file of build/Release or prebuilds/<platform>-<arch>/,
  // and netdiag_test.node (the TUN addon of netdiag/testing) lives there too: never that one
  return basename(path) === 'netdiag_test.node' ? join(dirname(path), 'netdiag.node') : path;
}

let cached: { binding: NativeBinding; info: AddonInfo } | undefined;

function load(): { binding: NativeBinding; info: AddonInfo } {
  if (cached) return cached;
  // NETDIAG_ADDON points at a specific build (the sanitizer run uses it)
  const override = process.env.NETDIAG_ADDON;
  let path: string;
  if (override) {
    path = override;
  } else {
    const root = packageRoot();
    path = knownAddonPath(root) ?? resolveWithNodeGypBuild(root);
  }
  const binding = require(path) as NativeBinding;
  const source = override ? 'override' : path.includes(`${'/'}prebuilds${'/'}`) ? 'prebuild' : 'local-build';
  cached = { binding, info: { path, source, arch: binding.arch } };
  return cached;
}

/** The addon; throws a clear error when no binary can be loaded. */
export function native(): NativeBinding {
  try {
    return load().binding;
  } catch (e) {
    const err = new Error(
      `cannot load the netdiag native addon: ${(e as Error).message.split('\n')[0]} ` +
        `(reinstall netdiag, or build it with npm run build:native)`,
    );
    (err as Error & { code: string }).code = 'ERR_NETDIAG_ADDON';
    throw err;
  }
}

/** Which addon binary was loaded. */
export function addonInfo(): AddonInfo {
  native();
  return load().info;
}

/** A kernel timestamp pair to milliseconds, relative to a base pair (keeps precision). */
export function tsDiffMs(sec: number, nsec: number, baseSec: number, baseNsec: number): number {
  return (sec - baseSec) * 1e3 + (nsec - baseNsec) / 1e6;
}
