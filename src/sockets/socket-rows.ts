// Parsed sockets of one chunk of one /proc/net table, column by column in typed arrays:
// parsing 100k lines then allocates nothing per line, the ss-style printer reads numbers
// straight from here, and toEntries() builds the contract's objects only when asked.
import type { AddressBook } from './address-book.js';
import type { ProcTable } from './filters.js';
import type { PortNameTable } from './services.js';
import { stateName } from './states.js';
import { TCP_INFO_STRIDE, tcpInfoAt, type TcpInfoView } from './netlink/tcp-info.js';
import type { SocketEntry, SocketMemory, SocketOwner, SocketTimer, SocketTimerKind, SocketType, TcpInfo } from './types.js';

/** sysconf(_SC_CLK_TCK): the unit of tm->when in /proc/net/tcp on every Linux Node runs on. */
export const USER_HZ = 100;

const TIMER_KINDS: readonly SocketTimerKind[] = ['on', 'on', 'keepalive', 'timewait', 'persist'];
export const UNIX_TYPES: readonly SocketType[] = ['stream', 'dgram', 'seqpacket'];
const INET_TYPES: Record<string, SocketType> = { tcp: 'stream', udp: 'dgram', udplite: 'dgram', raw: 'raw' };

export class SocketRows {
  length = 0;
  private capacity: number;
  state: Uint8Array;
  /** -1 where /proc does not say */
  recvQueue: Float64Array;
  sendQueue: Float64Array;
  /** ids in the scan's AddressBook (inet tables) */
  localAddress: Int32Array;
  localPort: Int32Array;
  remoteAddress: Int32Array;
  remotePort: Int32Array;
  /** 0: no inode (TIME_WAIT, request sockets, embryonic unix sockets) */
  inode: Float64Array;
  /** -1 where /proc does not say */
  uid: Float64Array;
  /** the tr column: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe */
  timer: Uint8Array;
  /** tm->when in clock ticks */
  timerWhen: Float64Array;
  retransmits: Float64Array;
  probes: Float64Array;
  /** unix: index into UNIX_TYPES */
  unixType: Uint8Array;
  /** unix: the path column */
  path: (string | null)[] = [];
  /** milliseconds per unit of timerWhen: clock ticks in /proc, milliseconds from netlink */
  timerMsPerUnit = 1000 / USER_HZ;
  /** what only sock_diag tells (null for rows read from /proc) */
  netlink: NetlinkColumns | null = null;

  constructor(
    readonly table: ProcTable,
    capacity: number,
  ) {
    this.capacity = Math.max(16, capacity);
    const n = this.capacity;
    this.state = new Uint8Array(n);
    this.recvQueue = new Float64Array(n);
    this.sendQueue = new Float64Array(n);
    this.localAddress = new Int32Array(n);
    this.localPort = new Int32Array(n);
    this.remoteAddress = new Int32Array(n);
    this.remotePort = new Int32Array(n);
    this.inode = new Float64Array(n);
    this.uid = new Float64Array(n);
    this.timer = new Uint8Array(n);
    this.timerWhen = new Float64Array(n);
    this.retransmits = new Float64Array(n);
    this.probes = new Float64Array(n);
    this.unixType = new Uint8Array(n);
  }

  /** Index of a new row, growing the columns when full. */
  add(): number {
    if (this.length === this.capacity) this.grow();
    return this.length++;
  }

  private grow(): void {
    const n = this.capacity * 2;
    const grow8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    const grow32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const grow64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.state = grow8(this.state);
    this.recvQueue = grow64(this.recvQueue);
    this.sendQueue = grow64(this.sendQueue);
    this.localAddress = grow32(this.localAddress);
    this.localPort = grow32(this.localPort);
    this.remoteAddress = grow32(this.remoteAddress);
    this.remotePort = grow32(this.remotePort);
    this.inode = grow64(this.inode);
    this.uid = grow64(this.uid);
    this.timer = grow8(this.timer);
    this.timerWhen = grow64(this.timerWhen);
    this.retransmits = grow64(this.retransmits);
    this.probes = grow64(this.probes);
    this.unixType = grow8(this.unixType);
    if (this.netlink !== null) this.netlink.grow(n);
    this.capacity = n;
  }

  /** Adds the sock_diag columns (before the first row). */
  withNetlink(): NetlinkColumns {
    this.netlink ??= new NetlinkColumns(this.capacity);
    this.timerMsPerUnit = 1;
    return this.netlink;
  }
}

/** netlink_diag's protocol numbers as ss names them (nl_proto_n2a). */
export const NETLINK_PROTOCOLS: Record<number, string> = {
  0: 'rtnl', 2: 'usersock', 3: 'fw', 4: 'tcpdiag', 5: 'nflog', 6: 'xfrm', 7: 'selinux', 8: 'iscsi', 9: 'audit', 10: 'fiblookup',
  11: 'connector', 12: 'nft', 13: 'ip6fw', 14: 'dec-rt', 15: 'uevent', 16: 'genl', 18: 'scsi-trans', 19: 'ecryptfs', 20: 'rdma', 21: 'crypto', 22: 'smc',
};

/**
 * A packet or netlink socket as an entry. packet: localAddress is the interface (null: all),
 * localPort the ethertype. netlink: localAddress the protocol's name, localPort the port id
 * (0: the kernel), remotePort the peer's port id and remoteAddress its group when connected.
 */
function otherEntry(rows: SocketRows, i: number, ino: number, owners: SocketOwner[] | null, ctx: EntryContext): SocketEntry {
  const packet = rows.table.family === 'packet';
  const connected = rows.state[i]! === 1;
  const uid = rows.uid[i]!;
  const protocol = rows.localAddress[i]!;
  const entry: SocketEntry = {
    protocol: rows.table.protocol,
    family: rows.table.family,
    type: rows.unixType[i]! === 0 ? 'dgram' : 'raw',
    state: stateName(rows.state[i]!, false)!,
    localAddress: packet ? (rows.path[i] ?? null) : (NETLINK_PROTOCOLS[protocol] ?? String(protocol)),
    localPort: rows.localPort[i]!,
    remoteAddress: !packet && connected ? String(rows.probes[i]!) : null,
    remotePort: !packet && connected ? rows.remotePort[i]! : null,
    mapped: false,
    recvQueue: rows.recvQueue[i]!,
    sendQueue: rows.sendQueue[i]!,
    inode: ino === 0 ? null : ino,
    uid: uid < 0 ? null : uid,
    user: uid < 0 ? null : (ctx.users.get(uid) ?? null),
    service: null,
    owners,
    path: null,
    timer: null,
  };
  return Object.assign(entry, netlinkFieldsOf(rows, i));
}

/** A copy of the rows at `indices` (in that order). */
export function selectRows(rows: SocketRows, indices: readonly number[]): SocketRows {
  const out = new SocketRows(rows.table, indices.length);
  out.timerMsPerUnit = rows.timerMsPerUnit;
  const src = rows.netlink;
  const dst = src === null ? null : out.withNetlink();
  for (const i of indices) {
    const k = out.add();
    out.state[k] = rows.state[i]!;
    out.recvQueue[k] = rows.recvQueue[i]!;
    out.sendQueue[k] = rows.sendQueue[i]!;
    out.localAddress[k] = rows.localAddress[i]!;
    out.localPort[k] = rows.localPort[i]!;
    out.remoteAddress[k] = rows.remoteAddress[i]!;
    out.remotePort[k] = rows.remotePort[i]!;
    out.inode[k] = rows.inode[i]!;
    out.uid[k] = rows.uid[i]!;
    out.timer[k] = rows.timer[i]!;
    out.timerWhen[k] = rows.timerWhen[i]!;
    out.retransmits[k] = rows.retransmits[i]!;
    out.probes[k] = rows.probes[i]!;
    out.unixType[k] = rows.unixType[i]!;
    out.path[k] = rows.path[i] ?? null;
    if (src !== null && dst !== null) {
      dst.cookie[k] = src.cookie[i]!;
      dst.peerInode[k] = src.peerInode[i]!;
      dst.shutdown[k] = src.shutdown[i]!;
      dst.tos[k] = src.tos[i]!;
      dst.v6only[k] = src.v6only[i]!;
      dst.cgroup[k] = src.cgroup[i]!;
      dst.memory[k] = src.memory[i] ?? null;
      if (src.hasTcpInfo[i] === 1) {
        dst.tcpInfoColumn().set(src.tcpInfo!.subarray(i * TCP_INFO_STRIDE, (i + 1) * TCP_INFO_STRIDE), k * TCP_INFO_STRIDE);
        dst.hasTcpInfo[k] = 1;
        dst.congestion[k] = src.congestion[i] ?? null;
      }
      dst.ids[k] = src.ids[i] ?? null;
    }
  }
  return out;
}

/** The sock_diag fields of each row; 0 (or null) where the kernel did not say. */
export class NetlinkColumns {
  /** the socket cookie (a 64-bit counter, exact below 2^53) */
  cookie: Float64Array;
  /** unix: the peer's inode */
  peerInode: Float64Array;
  /** INET_DIAG_SHUTDOWN/UNIX_DIAG_SHUTDOWN + 1 */
  shutdown: Uint8Array;
  /** INET_DIAG_TOS or TCLASS + 1 */
  tos: Uint16Array;
  /** INET_DIAG_SKV6ONLY + 1 (IPv6 listening and closed sockets) */
  v6only: Uint8Array;
  cgroup: Float64Array;
  /** kept only when asked for (-m) */
  memory: (SocketMemory | null)[] = [];
  /** -i: tcp_info of each row, TCP_INFO_STRIDE numbers a row (readTcpInfo), once the first arrives */
  tcpInfo: Float64Array | null = null;
  /** -i: whether row i has tcp_info, and its congestion control */
  hasTcpInfo: Uint8Array;
  congestion: (string | null)[] = [];
  /** the 48 bytes of inet_diag_sockid of each row, kept for SOCK_DESTROY (-K) */
  ids: (Buffer | null)[] = [];

  constructor(capacity: number) {
    this.cookie = new Float64Array(capacity);
    this.peerInode = new Float64Array(capacity);
    this.shutdown = new Uint8Array(capacity);
    this.tos = new Uint16Array(capacity);
    this.v6only = new Uint8Array(capacity);
    this.cgroup = new Float64Array(capacity);
    this.hasTcpInfo = new Uint8Array(capacity);
  }

  /** The tcp_info column, made on first use. */
  tcpInfoColumn(): Float64Array {
    this.tcpInfo ??= new Float64Array(this.cookie.length * TCP_INFO_STRIDE);
    return this.tcpInfo;
  }

  /** Row i's tcp_info as an object, or null. */
  tcpInfoOf(i: number): TcpInfo | null {
    if (this.tcpInfo === null || this.hasTcpInfo[i] !== 1) return null;
    return tcpInfoAt(this.tcpInfo, i * TCP_INFO_STRIDE, this.congestion[i] ?? null);
  }

  /** Row i's tcp_info through `view` (valid until the view moves on), or null. */
  tcpInfoThrough(view: TcpInfoView, i: number): TcpInfo | null {
    if (this.tcpInfo === null || this.hasTcpInfo[i] !== 1) return null;
    return view.at(this.tcpInfo, i * TCP_INFO_STRIDE, this.congestion[i] ?? null);
  }

  grow(n: number): void {
    const c = new Float64Array(n);
    c.set(this.cookie);
    this.cookie = c;
    const pi = new Float64Array(n);
    pi.set(this.peerInode);
    this.peerInode = pi;
    const sh = new Uint8Array(n);
    sh.set(this.shutdown);
    this.shutdown = sh;
    const t = new Uint16Array(n);
    t.set(this.tos);
    this.tos = t;
    const v6 = new Uint8Array(n);
    v6.set(this.v6only);
    this.v6only = v6;
    const cg = new Float64Array(n);
    cg.set(this.cgroup);
    this.cgroup = cg;
    const h = new Uint8Array(n);
    h.set(this.hasTcpInfo);
    this.hasTcpInfo = h;
    if (this.tcpInfo !== null) {
      const t = new Float64Array(n * TCP_INFO_STRIDE);
      t.set(this.tcpInfo);
      this.tcpInfo = t;
    }
  }
}

/** The contract's netlink additions of row i (each null where the kernel did not say). */
export function netlinkFieldsOf(rows: SocketRows, i: number): Pick<SocketEntry, 'cookie' | 'cgroup' | 'tos' | 'shutdown' | 'v6only' | 'peerInode' | 'memory' | 'tcpInfo'> {
  const n = rows.netlink!;
  const unix = rows.table.family === 'unix';
  return {
    cookie: n.cookie[i]! === 0 ? null : n.cookie[i]!,
    cgroup: n.cgroup[i]! === 0 ? null : n.cgroup[i]!,
    tos: unix || n.tos[i]! === 0 ? null : n.tos[i]! - 1,
    shutdown: n.shutdown[i]! === 0 ? null : n.shutdown[i]! - 1,
    v6only: n.v6only[i]! === 0 ? null : n.v6only[i]! === 2,
    peerInode: !unix || n.peerInode[i]! === 0 ? null : n.peerInode[i]!,
    memory: n.memory[i] ?? null,
    tcpInfo: n.tcpInfoOf(i),
  };
}

/** What toEntries needs besides the rows. */
export interface EntryContext {
  addresses: AddressBook;
  users: ReadonlyMap<number, string>;
  services: PortNameTable;
  /** null when owners were not asked for */
  owners: ReadonlyMap<number, readonly SocketOwner[]> | null;
}

export function timerOf(rows: SocketRows, i: number): SocketTimer | null {
  const code = rows.timer[i]!;
  if (code === 0 || rows.table.protocol !== 'tcp') return null;
  return {
    kind: TIMER_KINDS[code] ?? 'unknown',
    expires: Math.round(rows.timerWhen[i]! * rows.timerMsPerUnit),
    retransmits: rows.retransmits[i]!,
    probes: rows.probes[i]!,
  };
}

/** The contract's objects for the rows. */
export function toEntries(rows: SocketRows, ctx: EntryContext): SocketEntry[] {
  const out: SocketEntry[] = new Array<SocketEntry>(rows.length);
  const { protocol, family } = rows.table;
  const tcp = protocol === 'tcp';
  const addresses = ctx.addresses.addresses;
  for (let i = 0; i < rows.length; i++) {
    const ino = rows.inode[i]!;
    const owners = ctx.owners === null ? null : ino === 0 ? [] : (ctx.owners.get(ino)?.slice() ?? []);
    if (family === 'packet' || family === 'netlink') {
      out[i] = otherEntry(rows, i, ino, owners, ctx);
      continue;
    }
    if (family === 'unix') {
      const uid = rows.uid[i]!;
      out[i] = {
        protocol,
        family,
        type: UNIX_TYPES[rows.unixType[i]!]!,
        state: stateName(rows.state[i]!, false)!,
        localAddress: null,
        localPort: null,
        remoteAddress: null,
        remotePort: null,
        mapped: false,
        recvQueue: rows.recvQueue[i]! < 0 ? null : rows.recvQueue[i]!,
        sendQueue: rows.sendQueue[i]! < 0 ? null : rows.sendQueue[i]!,
        inode: ino === 0 ? null : ino,
        uid: uid < 0 ? null : uid,
        user: uid < 0 ? null : (ctx.users.get(uid) ?? null),
        service: null,
        owners,
        path: rows.path[i] ?? null,
        timer: null,
      };
      if (rows.netlink !== null) Object.assign(out[i]!, netlinkFieldsOf(rows, i));
      continue;
    }
    const local = addresses[rows.localAddress[i]!]!;
    const remote = addresses[rows.remoteAddress[i]!]!;
    const localPort = rows.localPort[i]!;
    const remotePort = rows.remotePort[i]!;
    const uid = rows.uid[i]!;
    out[i] = {
      protocol,
      family,
      type: INET_TYPES[protocol]!,
      state: stateName(rows.state[i]!, tcp)!,
      localAddress: local.text,
      localPort,
      remoteAddress: remote.text,
      remotePort,
      mapped: local.mapped || remote.mapped,
      recvQueue: rows.recvQueue[i]!,
      sendQueue: rows.sendQueue[i]!,
      inode: ino === 0 ? null : ino,
      uid: uid < 0 ? null : uid,
      user: uid < 0 ? null : (ctx.users.get(uid) ?? null),
      service: ctx.services[localPort] ?? ctx.services[remotePort] ?? null,
      owners,
      path: null,
      timer: timerOf(rows, i),
    };
    if (rows.netlink !== null) Object.assign(out[i]!, netlinkFieldsOf(rows, i));
  }
  return out;
}
