// Parser of sock_diag replies: the chain of netlink messages in a receive buffer, and the
// inet_diag_msg / unix_diag_msg records with their attributes, straight from the bytes into
// SocketRows. Pure and defensive: a message or attribute that runs past its end stops the
// walk of that message (never reads outside it), unknown attributes are skipped, and the
// filter is tested on numbers before anything is built.
import type { AddressBook } from '../address-book.js';
import { anyPrefixMatchesV4, anyPrefixMatchesV6, portMatches, type SocketFilter } from '../filters.js';
import type { SocketRows } from '../socket-rows.js';
import type { SocketMemory } from '../types.js';
import {
  AF_INET,
  AF_INET6,
  INET_DIAG_CGROUP_ID,
  INET_DIAG_CONG,
  INET_DIAG_INFO,
  INET_DIAG_MSG_LEN,
  INET_DIAG_BBRINFO,
  INET_DIAG_SHUTDOWN,
  INET_DIAG_SKV6ONLY,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_TCLASS,
  INET_DIAG_TOS,
  LITTLE_ENDIAN,
  NETLINK_DIAG_MSG_LEN,
  PACKET_DIAG_INFO,
  PACKET_DIAG_MEMINFO,
  PACKET_DIAG_MSG_LEN,
  PACKET_DIAG_UID,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLM_F_DUMP_INTR,
  SOCK_DIAG_BY_FAMILY,
  TCPDIAG_GETSOCK,
  UNIX_DIAG_MEMINFO,
  UNIX_DIAG_MSG_LEN,
  UNIX_DIAG_NAME,
  UNIX_DIAG_PEER,
  UNIX_DIAG_RQLEN,
  UNIX_DIAG_SHUTDOWN,
  UNIX_DIAG_UID,
} from './sock-diag-messages.js';
import { readBbrInfo, readTcpInfo, TCP_INFO_STRIDE } from './tcp-info.js';

/** Host-endian u32 (the kernel's own byte order: nlmsghdr, counters, inodes). */
export const u32 = LITTLE_ENDIAN
  ? (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000
  : (b: Uint8Array, p: number): number => (b[p + 3]! | (b[p + 2]! << 8) | (b[p + 1]! << 16)) + b[p]! * 0x1000000;
const u16 = LITTLE_ENDIAN ? (b: Uint8Array, p: number): number => b[p]! | (b[p + 1]! << 8) : (b: Uint8Array, p: number): number => (b[p]! << 8) | b[p + 1]!;
/** Network-order u32 (addresses). */
const be32 = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
/** A host-endian u64 as a number (cookies, cgroup ids: counters far below 2^53). */
const u64 = (b: Uint8Array, p: number): number => (LITTLE_ENDIAN ? u32(b, p + 4) * 0x100000000 + u32(b, p) : u32(b, p) * 0x100000000 + u32(b, p + 4));

const align4 = (n: number): number => (n + 3) & ~3;
const EBADMSG = 74;

/**
 * The netlink attributes (struct nlattr) of one record, one after the other: `type` (without
 * NLA_F_NESTED and NLA_F_NET_BYTEORDER), and the value at buf[value, value + length). An
 * attribute shorter than its header or running past the record ends the walk and counts as
 * malformed. One cursor serves every parser (they run one record at a time).
 */
class AttributeCursor {
  type = 0;
  value = 0;
  length = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  private end = 0;
  private status: DumpStatus | null = null;

  /** Starts at the first attribute after a record's fixed part, buf[start, end). */
  start(buf: Uint8Array, start: number, end: number, status: DumpStatus): this {
    this.buf = buf;
    this.at = start;
    this.end = end;
    this.status = status;
    return this;
  }

  /** Moves to the next attribute; false at the end (or at a malformed one). */
  next(): boolean {
    const a = this.at;
    if (a + 4 > this.end) return false;
    const alen = u16(this.buf, a);
    if (alen < 4 || a + alen > this.end) {
      this.status!.malformed++;
      this.at = this.end;
      return false;
    }
    this.type = u16(this.buf, a + 2) & 0x3fff;
    this.value = a + 4;
    this.length = alen - 4;
    this.at = a + align4(alen);
    return true;
  }
}

const attributes = new AttributeCursor();

/** Where one dump stands after the messages read so far. */
export interface DumpStatus {
  /** NLMSG_DONE or NLMSG_ERROR was read */
  done: boolean;
  /** the errno of an NLMSG_ERROR or of a failed NLMSG_DONE; EBADMSG for a broken chain */
  errno: number;
  /** a message carried NLM_F_DUMP_INTR: the tables changed during the dump */
  interrupted: boolean;
  /** records and attributes that were cut short or malformed (skipped) */
  malformed: number;
}

export function newDumpStatus(): DumpStatus {
  return { done: false, errno: 0, interrupted: false, malformed: 0 };
}

/** Receives each SOCK_DIAG_BY_FAMILY (or TCPDIAG_GETSOCK) record: its bytes are buf[start, end). */
export type RecordSink = (buf: Buffer, start: number, end: number) => void;

/**
 * Walks the netlink messages in buf[0, length) that answer request `seq`, handing each
 * record to `sink` and noting DONE, ERROR and DUMP_INTR in `status`. Messages of another
 * sequence (a late answer to an earlier request) are skipped.
 */
export function walkReplies(buf: Buffer, length: number, seq: number, status: DumpStatus, sink: RecordSink): void {
  let p = 0;
  while (p + NLMSG_HDRLEN <= length && !status.done) {
    const len = u32(buf, p);
    if (len < NLMSG_HDRLEN || p + len > length) {
      // the chain cannot be followed past a bad length
      status.malformed++;
      status.errno = EBADMSG;
      status.done = true;
      return;
    }
    const type = u16(buf, p + 4);
    const flags = u16(buf, p + 6);
    if (u32(buf, p + 8) === seq) {
      if (flags & NLM_F_DUMP_INTR) status.interrupted = true;
      if (type === SOCK_DIAG_BY_FAMILY || type === TCPDIAG_GETSOCK) {
        sink(buf, p + NLMSG_HDRLEN, p + len);
      } else if (type === NLMSG_DONE) {
        status.done = true;
        // the payload, when there is one, is 0 or -errno
        if (len >= NLMSG_HDRLEN + 4) {
          const err = readInt32(buf, p + NLMSG_HDRLEN);
          if (err < 0) status.errno = -err;
        }
      } else if (type === NLMSG_ERROR) {
        status.done = true;
        status.errno = len >= NLMSG_HDRLEN + 4 ? -readInt32(buf, p + NLMSG_HDRLEN) : EBADMSG;
      }
    }
    p += align4(len);
  }
}

/**
 * Does this chain end the dump of `seq` (its NLMSG_DONE or NLMSG_ERROR, or a length the chain
 * cannot be followed past)? walkReplies ends on exactly these; asked before parsing, so that
 * the next receive starts only while the kernel has more to send.
 */
export function endsDump(buf: Buffer, length: number, seq: number): boolean {
  let p = 0;
  while (p + NLMSG_HDRLEN <= length) {
    const len = u32(buf, p);
    if (len < NLMSG_HDRLEN || p + len > length) return true;
    const type = u16(buf, p + 4);
    if ((type === NLMSG_DONE || type === NLMSG_ERROR) && u32(buf, p + 8) === seq) return true;
    p += align4(len);
  }
  return false;
}

function readInt32(buf: Buffer, p: number): number {
  return LITTLE_ENDIAN ? buf.readInt32LE(p) : buf.readInt32BE(p);
}

/** What the inet record parser needs besides the bytes. */
export interface InetRecordContext {
  filter: SocketFilter;
  addresses: AddressBook;
  rows: SocketRows;
  status: DumpStatus;
  /** keep tcp_info and the congestion algorithm (-i) */
  tcpInfo: boolean;
  /** keep skmeminfo (-m) */
  memory: boolean;
  /** keep each row's inet_diag_sockid (to destroy the sockets, -K) */
  keepIds: boolean;
  /** read the attributes (false: the fixed part only, what an ss table shows) */
  attributes: boolean;
}

/**
 * A new row with what every record names (state, inode, cookie). A new row's columns start at
 * 0 (SocketRows only grows, its typed arrays come zeroed): no shutdown, tos, cgroup, peer,
 * tcp_info or timer, empty queues; the uid starts as unknown.
 */
function addRow(rows: SocketRows, state: number, inode: number, cookie: number): number {
  const i = rows.add();
  rows.state[i] = state;
  rows.inode[i] = inode;
  rows.uid[i] = -1;
  rows.netlink!.cookie[i] = cookie;
  return i;
}

/** Adds the inet_diag_msg in buf[p, end) to ctx.rows if it passes the filter. */
export function parseInetRecord(buf: Buffer, p: number, end: number, ctx: InetRecordContext): void {
  if (end - p < INET_DIAG_MSG_LEN) {
    ctx.status.malformed++;
    return;
  }
  const f = ctx.filter;
  const family = buf[p]!;
  const state = buf[p + 1]!;
  if (state < 1 || state > 12 || (family !== AF_INET && family !== AF_INET6)) {
    ctx.status.malformed++;
    return;
  }
  if ((f.stateMask & (1 << state)) === 0) return;
  const localPort = (buf[p + 4]! << 8) | buf[p + 5]!;
  const remotePort = (buf[p + 6]! << 8) | buf[p + 7]!;
  if (f.localPorts !== null && !portMatches(f.localPorts, localPort)) return;
  if (f.remotePorts !== null && !portMatches(f.remotePorts, remotePort)) return;
  let localId: number;
  let remoteId: number;
  if (family === AF_INET) {
    const la = be32(buf, p + 8);
    const ra = be32(buf, p + 24);
    if (f.localPrefixes !== null && !anyPrefixMatchesV4(f.localPrefixes, la)) return;
    if (f.remotePrefixes !== null && !anyPrefixMatchesV4(f.remotePrefixes, ra)) return;
    localId = ctx.addresses.idOfV4(la);
    remoteId = ctx.addresses.idOfV4(ra);
  } else {
    const a0 = be32(buf, p + 8);
    const a1 = be32(buf, p + 12);
    const a2 = be32(buf, p + 16);
    const a3 = be32(buf, p + 20);
    const b0 = be32(buf, p + 24);
    const b1 = be32(buf, p + 28);
    const b2 = be32(buf, p + 32);
    const b3 = be32(buf, p + 36);
    if (f.localPrefixes !== null && !anyPrefixMatchesV6(f.localPrefixes, a0, a1, a2, a3)) return;
    if (f.remotePrefixes !== null && !anyPrefixMatchesV6(f.remotePrefixes, b0, b1, b2, b3)) return;
    localId = ctx.addresses.idOfV6(a0, a1, a2, a3);
    remoteId = ctx.addresses.idOfV6(b0, b1, b2, b3);
  }
  const inode = u32(buf, p + 68);
  if (f.inodes !== null && !f.inodes.has(inode)) return;

  const rows = ctx.rows;
  const i = addRow(rows, state, inode, u64(buf, p + 44));
  const timer = buf[p + 2]!;
  rows.localAddress[i] = localId;
  rows.localPort[i] = localPort;
  rows.remoteAddress[i] = remoteId;
  rows.remotePort[i] = remotePort;
  rows.recvQueue[i] = u32(buf, p + 56);
  rows.sendQueue[i] = u32(buf, p + 60);
  // TIME_WAIT sockets have no owner: the kernel says uid 0
  if (inode !== 0 || timer !== 3) rows.uid[i] = u32(buf, p + 64);
  rows.timer[i] = timer;
  rows.timerWhen[i] = u32(buf, p + 52);
  rows.retransmits[i] = buf[p + 3]!;
  rows.probes[i] = buf[p + 3]!;
  if (ctx.keepIds) rows.netlink!.ids[i] = Buffer.from(buf.subarray(p + 4, p + 52));
  // IPv6 listeners say whether they are v6only even in a table-only read: their address prints by it
  if (ctx.attributes || family === AF_INET6) parseInetAttributes(buf, p, end, ctx, family, i);
}

function parseInetAttributes(buf: Buffer, p: number, end: number, ctx: InetRecordContext, family: number, i: number): void {
  const n = ctx.rows.netlink!;
  let infoAt = -1;
  let infoLen = 0;
  let bbrAt = -1;
  let bbrLen = 0;
  let congestion: string | null = null;
  const a = attributes.start(buf, p + INET_DIAG_MSG_LEN, end, ctx.status);
  while (a.next()) {
    const v = a.value;
    const vlen = a.length;
    switch (a.type) {
      case INET_DIAG_SHUTDOWN:
        if (vlen >= 1) n.shutdown[i] = buf[v]! + 1;
        break;
      case INET_DIAG_TOS:
        if (vlen >= 1 && family === AF_INET) n.tos[i] = buf[v]! + 1;
        break;
      case INET_DIAG_TCLASS:
        if (vlen >= 1 && family === AF_INET6) n.tos[i] = buf[v]! + 1;
        break;
      case INET_DIAG_SKV6ONLY:
        if (vlen >= 1 && family === AF_INET6) n.v6only[i] = buf[v]! + 1;
        break;
      case INET_DIAG_CGROUP_ID:
        if (vlen >= 8) n.cgroup[i] = u64(buf, v);
        break;
      case INET_DIAG_SKMEMINFO:
        if (ctx.memory && vlen >= 36) n.memory[i] = memoryOf(buf, v);
        break;
      case INET_DIAG_INFO:
        infoAt = v;
        infoLen = vlen;
        break;
      case INET_DIAG_BBRINFO:
        bbrAt = v;
        bbrLen = vlen;
        break;
      case INET_DIAG_CONG: {
        let e = v;
        while (e < v + vlen && buf[e] !== 0) e++;
        congestion = congestionName(buf, v, e);
        break;
      }
      default:
        break; // attributes this parser does not use
    }
  }
  if (ctx.tcpInfo && infoAt >= 0 && readTcpInfo(buf, infoAt, infoLen, n.tcpInfoColumn(), i * TCP_INFO_STRIDE)) {
    if (bbrAt >= 0) readBbrInfo(buf, bbrAt, bbrLen, n.tcpInfo!, i * TCP_INFO_STRIDE);
    n.hasTcpInfo[i] = 1;
    n.congestion[i] = congestion;
  }
}

// the few congestion control names in use, one string each
let lastCongestion = '';
function congestionName(buf: Buffer, v: number, e: number): string {
  const n = lastCongestion.length;
  if (e - v === n) {
    let same = true;
    for (let k = 0; k < n; k++) {
      if (buf[v + k] !== lastCongestion.charCodeAt(k)) {
        same = false;
        break;
      }
    }
    if (same) return lastCongestion;
  }
  lastCongestion = buf.toString('latin1', v, e);
  return lastCongestion;
}

/** skmeminfo: nine u32 (SK_MEMINFO_RMEM_ALLOC ... SK_MEMINFO_DROPS). */
function memoryOf(buf: Buffer, v: number): SocketMemory {
  return {
    rmemAlloc: u32(buf, v),
    rcvbuf: u32(buf, v + 4),
    wmemAlloc: u32(buf, v + 8),
    sndbuf: u32(buf, v + 12),
    fwdAlloc: u32(buf, v + 16),
    wmemQueued: u32(buf, v + 20),
    optmem: u32(buf, v + 24),
    backlog: u32(buf, v + 28),
    drops: u32(buf, v + 32),
  };
}

// unix_diag_msg type: SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5 -> index into UNIX_TYPES
const UNIX_TYPE_INDEX = [-1, 0, 1, -1, -1, 2];

/** What the unix record parser needs besides the bytes. */
export interface UnixRecordContext {
  filter: SocketFilter;
  rows: SocketRows;
  status: DumpStatus;
  memory: boolean;
}

/** Adds the unix_diag_msg in buf[p, end) to ctx.rows if it passes the filter. */
export function parseUnixRecord(buf: Buffer, p: number, end: number, ctx: UnixRecordContext): void {
  if (end - p < UNIX_DIAG_MSG_LEN) {
    ctx.status.malformed++;
    return;
  }
  const f = ctx.filter;
  const typeCode = buf[p + 1]!;
  const type = typeCode < UNIX_TYPE_INDEX.length ? UNIX_TYPE_INDEX[typeCode]! : -1;
  const state = buf[p + 2]!;
  if (type < 0 || state < 1 || state > 12) {
    ctx.status.malformed++;
    return;
  }
  if ((f.stateMask & (1 << state)) === 0) return;
  const inode = u32(buf, p + 4);
  if (f.inodes !== null && !f.inodes.has(inode)) return;
  const rows = ctx.rows;
  const n = rows.netlink!;
  const i = addRow(rows, state, inode, u64(buf, p + 8));
  rows.unixType[i] = type;
  // unknown until UNIX_DIAG_RQLEN says
  rows.recvQueue[i] = -1;
  rows.sendQueue[i] = -1;
  const a = attributes.start(buf, p + UNIX_DIAG_MSG_LEN, end, ctx.status);
  while (a.next()) {
    const v = a.value;
    const vlen = a.length;
    switch (a.type) {
      case UNIX_DIAG_NAME:
        if (vlen > 0) rows.path[i] = unixName(buf, v, vlen);
        break;
      case UNIX_DIAG_PEER:
        if (vlen >= 4) n.peerInode[i] = u32(buf, v);
        break;
      case UNIX_DIAG_RQLEN:
        if (vlen >= 8) {
          rows.recvQueue[i] = u32(buf, v);
          rows.sendQueue[i] = u32(buf, v + 4);
        }
        break;
      case UNIX_DIAG_UID:
        if (vlen >= 4) rows.uid[i] = u32(buf, v);
        break;
      case UNIX_DIAG_SHUTDOWN:
        if (vlen >= 1) n.shutdown[i] = buf[v]! + 1;
        break;
      case UNIX_DIAG_MEMINFO:
        if (ctx.memory && vlen >= 36) n.memory[i] = memoryOf(buf, v);
        break;
      default:
        break;
    }
  }
}

/** sun_path as /proc/net/unix prints it: a path up to its NUL, '@' + name with NULs as '@'. */
function unixName(buf: Buffer, v: number, len: number): string | null {
  if (buf[v] !== 0) {
    let e = v;
    while (e < v + len && buf[e] !== 0) e++;
    return buf.toString('utf8', v, e);
  }
  const bytes = Buffer.from(buf.subarray(v, v + len));
  for (let k = 0; k < bytes.length; k++) if (bytes[k] === 0) bytes[k] = 64;
  return bytes.toString('utf8');
}

/** What the packet and netlink record parsers need besides the bytes. */
export interface OtherRecordContext {
  filter: SocketFilter;
  rows: SocketRows;
  status: DumpStatus;
  memory: boolean;
  /** the name of an interface index (null: none has it) */
  interfaceName: (index: number) => string | null;
}

const TCP_ESTABLISHED = 1;
const TCP_CLOSE = 7;
// packet_diag_msg type: SOCK_RAW 3 -> 'raw' (index 1 of OTHER_TYPES), SOCK_DGRAM 2 -> 'dgram' (0)
export const OTHER_TYPES = ['dgram', 'raw'] as const;

/**
 * Adds the packet_diag_msg in buf[p, end): the ethertype (host order) as localPort, the
 * interface (or null for all) as the path column, Recv-Q from skmeminfo as ss shows it.
 */
export function parsePacketRecord(buf: Buffer, p: number, end: number, ctx: OtherRecordContext): void {
  if (end - p < PACKET_DIAG_MSG_LEN) {
    ctx.status.malformed++;
    return;
  }
  if ((ctx.filter.stateMask & (1 << TCP_CLOSE)) === 0) return;
  const type = buf[p + 1]!;
  const inode = u32(buf, p + 4);
  if (ctx.filter.inodes !== null && !ctx.filter.inodes.has(inode)) return;
  const rows = ctx.rows;
  const i = addRow(rows, TCP_CLOSE, inode, u64(buf, p + 8));
  rows.unixType[i] = type === 2 ? 0 : 1;
  rows.localPort[i] = u16(buf, p + 2); // pdiag_num: the kernel converts it to host order
  const a = attributes.start(buf, p + PACKET_DIAG_MSG_LEN, end, ctx.status);
  while (a.next()) {
    const v = a.value;
    const vlen = a.length;
    if (a.type === PACKET_DIAG_INFO && vlen >= 4) {
      const index = u32(buf, v);
      rows.path[i] = index === 0 ? null : (ctx.interfaceName(index) ?? String(index));
    } else if (a.type === PACKET_DIAG_UID && vlen >= 4) {
      rows.uid[i] = u32(buf, v);
    } else if (a.type === PACKET_DIAG_MEMINFO && vlen >= 36) {
      rows.recvQueue[i] = u32(buf, v);
      if (ctx.memory) rows.netlink!.memory[i] = memoryOf(buf, v);
    }
  }
}

/**
 * Adds the netlink_diag_msg in buf[p, end): the protocol number in the localAddress column
 * (named by the printers), the port id as localPort, the peer's port id as remotePort and
 * its group in the probes column (which netlink sockets do not otherwise use).
 */
export function parseNetlinkRecord(buf: Buffer, p: number, end: number, ctx: OtherRecordContext): void {
  if (end - p < NETLINK_DIAG_MSG_LEN) {
    ctx.status.malformed++;
    return;
  }
  const state = buf[p + 3] === 1 ? TCP_ESTABLISHED : TCP_CLOSE;
  if ((ctx.filter.stateMask & (1 << state)) === 0) return;
  const inode = u32(buf, p + 16);
  if (ctx.filter.inodes !== null && !ctx.filter.inodes.has(inode)) return;
  const rows = ctx.rows;
  const i = addRow(rows, state, inode, u64(buf, p + 20));
  rows.unixType[i] = buf[p + 1] === 2 ? 0 : 1;
  rows.localAddress[i] = buf[p + 2]!;
  rows.localPort[i] = u32(buf, p + 4);
  rows.remotePort[i] = u32(buf, p + 8);
  rows.probes[i] = u32(buf, p + 12);
}
