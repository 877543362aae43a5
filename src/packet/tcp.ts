// TCP header codec: the option-less SYN probe of the raw TCP traceroute method, the answers it
// gets (SYN-ACK, RST) and the simulator's replies. Checksums include the pseudo header.

import { toAddressBytes } from './address.js';
import { available, checkInt, checkRoom, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, pseudoHeaderSum, verifyChecksum } from './checksum.js';
import { IP_PROTOCOL } from './ip-protocol.js';

export const TCP_HEADER_LENGTH = 20;

export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  /** 32-bit sequence number. */
  seq: number;
  /** 32-bit acknowledgment number (default 0). */
  ackNumber?: number;
  /** TCP_FLAG bits (default SYN). */
  flags?: number;
  /** Default 65535. */
  window?: number;
  urgent?: number;
  /** Addresses for the pseudo-header checksum (both IPv4 or both IPv6). */
  src: string | Uint8Array;
  dst: string | Uint8Array;
  /** Copied after the 20-byte header. */
  payload?: Uint8Array;
}

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ackNumber: number;
  /** Data offset in bytes (20–60). */
  headerLength: number;
  flags: number;
  syn: boolean;
  ack: boolean;
  rst: boolean;
  fin: boolean;
  window: number;
  checksum: number;
  urgent: number;
}

/** Writes an option-less TCP header (and payload) with its checksum at `off`; returns the segment length. Throws on bad fields. */
export function writeTcp(buf: Uint8Array, off: number, f: TcpFields): number {
  const ackNumber = f.ackNumber ?? 0, flags = f.flags ?? TCP_FLAG.SYN, window = f.window ?? 0xffff, urgent = f.urgent ?? 0;
  checkInt('srcPort', f.srcPort, 0, 0xffff);
  checkInt('dstPort', f.dstPort, 0, 0xffff);
  checkInt('seq', f.seq, 0, 0xffffffff);
  checkInt('ackNumber', ackNumber, 0, 0xffffffff);
  checkInt('flags', flags, 0, 0xff);
  checkInt('window', window, 0, 0xffff);
  checkInt('urgent', urgent, 0, 0xffff);
  const src = toAddressBytes(f.src), dst = toAddressBytes(f.dst, src.length === 4 ? 4 : 6);
  const len = TCP_HEADER_LENGTH + (f.payload ? f.payload.length : 0);
  checkInt('segment length', len, TCP_HEADER_LENGTH, 0xffff);
  checkRoom(buf, off, len);
  writeU16(buf, off, f.srcPort);
  writeU16(buf, off + 2, f.dstPort);
  writeU32(buf, off + 4, f.seq);
  writeU32(buf, off + 8, ackNumber);
  buf[off + 12] = (TCP_HEADER_LENGTH / 4) << 4;
  buf[off + 13] = flags;
  writeU16(buf, off + 14, window);
  buf[off + 16] = 0; buf[off + 17] = 0;
  writeU16(buf, off + 18, urgent);
  if (f.payload) buf.set(f.payload, off + TCP_HEADER_LENGTH);
  writeU16(buf, off + 16, internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, IP_PROTOCOL.TCP, len)));
  return len;
}

/** Writes the 20-byte SYN probe of TCP traceroute; returns 20. */
export function writeTcpSyn(
  buf: Uint8Array, off: number,
  f: { srcPort: number; dstPort: number; seq: number; window?: number; src: string | Uint8Array; dst: string | Uint8Array },
): number {
  return writeTcp(buf, off, { srcPort: f.srcPort, dstPort: f.dstPort, seq: f.seq, window: f.window, flags: TCP_FLAG.SYN, src: f.src, dst: f.dst });
}

/** Decodes the TCP header at `off` (into `out` when given), or null when shorter than 20 bytes. Never throws. */
export function parseTcpHeader(buf: Uint8Array, off: number, len?: number, out?: TcpHeader): TcpHeader | null {
  if (available(buf, off, len) < TCP_HEADER_LENGTH) return null;
  const h = out ?? ({} as TcpHeader);
  const flags = buf[off + 13];
  h.srcPort = readU16(buf, off);
  h.dstPort = readU16(buf, off + 2);
  h.seq = readU32(buf, off + 4);
  h.ackNumber = readU32(buf, off + 8);
  h.headerLength = (buf[off + 12] >>> 4) * 4;
  h.flags = flags;
  h.syn = (flags & TCP_FLAG.SYN) !== 0;
  h.ack = (flags & TCP_FLAG.ACK) !== 0;
  h.rst = (flags & TCP_FLAG.RST) !== 0;
  h.fin = (flags & TCP_FLAG.FIN) !== 0;
  h.window = readU16(buf, off + 14);
  h.checksum = readU16(buf, off + 16);
  h.urgent = readU16(buf, off + 18);
  return h;
}

/** True when the TCP segment of `len` bytes at `off` has a correct checksum for these addresses. */
export function verifyTcpChecksum(buf: Uint8Array, off: number, len: number, src: string | Uint8Array, dst: string | Uint8Array): boolean {
  if (len < TCP_HEADER_LENGTH || available(buf, off, len) < len) return false;
  const s = toAddressBytes(src), d = toAddressBytes(dst, s.length === 4 ? 4 : 6);
  return verifyChecksum(buf, off, len, pseudoHeaderSum(s, d, IP_PROTOCOL.TCP, len));
}
