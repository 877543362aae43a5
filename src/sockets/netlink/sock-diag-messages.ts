// sock_diag requests as the kernel reads them (linux/netlink.h, linux/sock_diag.h,
// linux/inet_diag.h, linux/unix_diag.h): one netlink message each, in host byte order except
// the ports and addresses of inet_diag_sockid (network order). Pure: bytes in, bytes out.
import { endianness } from 'node:os';

export const LITTLE_ENDIAN = endianness() === 'LE';

export const NLMSG_HDRLEN = 16;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const SOCK_DIAG_BY_FAMILY = 20;
/** The original inet_diag request: a dump of TCP sockets of both families in one walk. */
export const TCPDIAG_GETSOCK = 18;
export const SOCK_DESTROY = 21;

export const AF_UNIX = 1;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_UDPLITE = 136;
export const IPPROTO_RAW = 255;

/** inet_diag_req_v2 and inet_diag_msg attribute types (linux/inet_diag.h). */
export const INET_DIAG_REQ_BYTECODE = 1;
export const INET_DIAG_INFO = 2;
/** asks for the congestion control's own info: INET_DIAG_VEGASINFO, _DCTCPINFO or _BBRINFO */
export const INET_DIAG_VEGASINFO = 3;
export const INET_DIAG_CONG = 4;
export const INET_DIAG_TOS = 5;
export const INET_DIAG_TCLASS = 6;
export const INET_DIAG_SKMEMINFO = 7;
export const INET_DIAG_SHUTDOWN = 8;
export const INET_DIAG_PROTOCOL = 10;
/** IPV6_V6ONLY of an IPv6 listening or closed socket (sent with INET_DIAG_TCLASS) */
export const INET_DIAG_SKV6ONLY = 11;
export const INET_DIAG_BBRINFO = 16;
export const INET_DIAG_CGROUP_ID = 21;
export const INET_DIAG_SOCKOPT = 22;

/** unix_diag_req udiag_show bits and unix_diag_msg attribute types (linux/unix_diag.h). */
export const UDIAG_SHOW_NAME = 0x1;
export const UDIAG_SHOW_VFS = 0x2;
export const UDIAG_SHOW_PEER = 0x4;
export const UDIAG_SHOW_RQLEN = 0x10;
export const UDIAG_SHOW_MEMINFO = 0x20;
export const UDIAG_SHOW_UID = 0x40;
export const UNIX_DIAG_NAME = 0;
export const UNIX_DIAG_VFS = 1;
export const UNIX_DIAG_PEER = 2;
export const UNIX_DIAG_RQLEN = 4;
export const UNIX_DIAG_MEMINFO = 5;
export const UNIX_DIAG_SHUTDOWN = 6;
export const UNIX_DIAG_UID = 7;

/** packet_diag_req pdiag_show bits and attributes (linux/packet_diag.h). */
export const PACKET_SHOW_INFO = 0x1;
export const PACKET_SHOW_MEMINFO = 0x10;
export const PACKET_DIAG_INFO = 0;
export const PACKET_DIAG_UID = 5;
export const PACKET_DIAG_MEMINFO = 6;
export const PACKET_DIAG_MSG_LEN = 16;

/** netlink_diag_req (linux/netlink_diag.h): every protocol; no attribute is read. */
export const NDIAG_PROTO_ALL = 255;
export const NETLINK_DIAG_MSG_LEN = 28;

/** The extensions a request can ask for: idiag_ext bit (1 << (attribute - 1)). */
export const extBit = (attribute: number): number => 1 << (attribute - 1);

export const INET_DIAG_REQ_V2_LEN = 56;
export const INET_DIAG_REQ_LEN = 60;
export const INET_DIAG_MSG_LEN = 72;
export const UNIX_DIAG_REQ_LEN = 24;
export const UNIX_DIAG_MSG_LEN = 16;

export function writeU32(buf: Buffer, p: number, v: number): void {
  if (LITTLE_ENDIAN) buf.writeUInt32LE(v >>> 0, p);
  else buf.writeUInt32BE(v >>> 0, p);
}

export function writeU16(buf: Buffer, p: number, v: number): void {
  if (LITTLE_ENDIAN) buf.writeUInt16LE(v, p);
  else buf.writeUInt16BE(v, p);
}

/** The nlmsghdr of a request that fills `buf` (the route dump builds on it too). */
export function netlinkHeader(buf: Buffer, type: number, flags: number, seq: number): void {
  writeU32(buf, 0, buf.length);
  writeU16(buf, 4, type);
  writeU16(buf, 6, flags);
  writeU32(buf, 8, seq);
  writeU32(buf, 12, 0);
}

const align4 = (n: number): number => (n + 3) & ~3;

/** The identity of one inet socket (inet_diag_sockid), as a dump reported it. */
export interface InetSocketId {
  family: number;
  protocol: number;
  /** a copy of the 48 bytes of inet_diag_sockid */
  id: Buffer;
}

export interface InetDumpRequest {
  family: number;
  protocol: number;
  /** state bits (1 << kernel state code) */
  states: number;
  /** idiag_ext bits */
  extensions: number;
  /** INET_DIAG_REQ_BYTECODE, or null */
  bytecode: Buffer | null;
  seq: number;
}

/** A request of `type` whose fixed part of `fixed` bytes is followed by the bytecode attribute, if any. */
function withBytecode(type: number, fixed: number, bytecode: Buffer | null, seq: number): Buffer {
  const attr = bytecode === null ? 0 : 4 + align4(bytecode.length);
  const buf = Buffer.alloc(NLMSG_HDRLEN + fixed + attr);
  netlinkHeader(buf, type, NLM_F_REQUEST | NLM_F_DUMP, seq);
  if (bytecode !== null) {
    const a = NLMSG_HDRLEN + fixed;
    writeU16(buf, a, 4 + bytecode.length);
    writeU16(buf, a + 2, INET_DIAG_REQ_BYTECODE);
    bytecode.copy(buf, a + 4);
  }
  return buf;
}

/** A SOCK_DIAG_BY_FAMILY dump of the inet sockets of one family and protocol. */
export function inetDumpRequest(r: InetDumpRequest): Buffer {
  const buf = withBytecode(SOCK_DIAG_BY_FAMILY, INET_DIAG_REQ_V2_LEN, r.bytecode, r.seq);
  const p = NLMSG_HDRLEN;
  buf[p] = r.family;
  buf[p + 1] = r.protocol === IPPROTO_RAW ? IPPROTO_RAW : r.protocol;
  buf[p + 2] = r.extensions & 0xff;
  // raw sockets: sdiag_raw_protocol (the pad byte); IPPROTO_RAW asks for every protocol
  buf[p + 3] = r.protocol === IPPROTO_RAW ? IPPROTO_RAW : 0;
  writeU32(buf, p + 4, r.states);
  return buf;
}

/**
 * A TCPDIAG_GETSOCK dump (struct inet_diag_req): the kernel answers it as a dump of family
 * AF_UNSPEC, walking its TCP hash tables once for IPv4 and IPv6 sockets alike, where two
 * SOCK_DIAG_BY_FAMILY dumps walk them once per family. The records are inet_diag_msg, in
 * messages of type TCPDIAG_GETSOCK.
 */
export function tcpBothFamiliesDumpRequest(r: Omit<InetDumpRequest, 'family' | 'protocol'>): Buffer {
  const buf = withBytecode(TCPDIAG_GETSOCK, INET_DIAG_REQ_LEN, r.bytecode, r.seq);
  const p = NLMSG_HDRLEN;
  // idiag_family is not read for a dump; idiag_src_len and idiag_dst_len stay 0
  buf[p] = AF_INET;
  buf[p + 3] = r.extensions & 0xff;
  writeU32(buf, p + 52, r.states);
  return buf;
}

/** A SOCK_DIAG_BY_FAMILY dump of unix sockets. */
export function unixDumpRequest(states: number, show: number, seq: number): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + UNIX_DIAG_REQ_LEN);
  netlinkHeader(buf, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq);
  const p = NLMSG_HDRLEN;
  buf[p] = AF_UNIX;
  writeU32(buf, p + 4, states);
  writeU32(buf, p + 12, show);
  // udiag_cookie: INET_DIAG_NOCOOKIE, i.e. any
  writeU32(buf, p + 16, 0xffffffff);
  writeU32(buf, p + 20, 0xffffffff);
  return buf;
}

/** SOCK_DESTROY of one inet socket (by its full identity, cookie included), with an ack. */
export function destroyRequest(socket: InetSocketId, seq: number): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
  netlinkHeader(buf, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, seq);
  const p = NLMSG_HDRLEN;
  buf[p] = socket.family;
  buf[p + 1] = socket.protocol;
  writeU32(buf, p + 4, 0xffffffff);
  socket.id.copy(buf, p + 8, 0, 48);
  return buf;
}

/** A dump of packet sockets (packet_diag_req). */
export function packetDumpRequest(show: number, seq: number): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + 20);
  netlinkHeader(buf, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq);
  buf[NLMSG_HDRLEN] = AF_PACKET;
  writeU32(buf, NLMSG_HDRLEN + 8, show);
  return buf;
}

/** A dump of netlink sockets of every protocol (netlink_diag_req). */
export function netlinkDumpRequest(seq: number): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + 20);
  netlinkHeader(buf, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq);
  buf[NLMSG_HDRLEN] = AF_NETLINK;
  buf[NLMSG_HDRLEN + 1] = NDIAG_PROTO_ALL;
  return buf;
}
