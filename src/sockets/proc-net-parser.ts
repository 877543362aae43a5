// Parser of /proc/net/{tcp,udp,udplite,raw}{,6} lines, straight from the bytes: the filter
// is tested on numbers (state, ports, address words, inode) as soon as each is read, and
// malformed lines are skipped, never thrown on.
//
// Line layout (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv4/udp.c udp4_format_sock):
//   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu ..."
//    sl   local     remote    st  tx_queue rx_queue tr tm->when retrnsmt uid timeout inode
// IPv6 addresses are 32 hex digits: four 32-bit words, each printed in host byte order.
import type { AddressBook } from './address-book.js';
import { anyPrefixMatchesV4, anyPrefixMatchesV6, portMatches, type SocketFilter } from './filters.js';
import { HEX_DIGIT, hexAt } from './hex.js';
import { procWordToNetwork } from './inet-address.js';
import type { SocketRows } from './socket-rows.js';

export interface InetParseContext {
  filter: SocketFilter;
  addresses: AddressBook;
  /** tcp6, udp6, ...: 32-digit addresses */
  v6: boolean;
}

const SPACE = 32;
const COLON = 58;
const NEWLINE = 10;
const TCP_TIMEWAIT_TIMER = 3;

// A cursor for the variable-width fields after tm->when (module state, so the readers
// below return a single number without allocating).
let cursor = 0;

/** Hex digits from `p` up to the next non-hex byte; -1 when there are none. */
function readHex(buf: Uint8Array, p: number, end: number): number {
  let v = 0;
  const start = p;
  while (p < end) {
    const h = HEX_DIGIT[buf[p]!]!;
    if (h < 0) break;
    v = v * 16 + h;
    p++;
  }
  cursor = p;
  if (p === start) return -1;
  // tm->when is a signed long printed as %lX: 16 digits with the top bit set are negative
  if (p - start === 16 && v >= 2 ** 63) {
    let s = '';
    for (let i = start; i < p; i++) s += String.fromCharCode(buf[i]!);
    return Number(BigInt.asIntN(64, BigInt('0x' + s)));
  }
  return v;
}

/** Skips spaces, then reads a decimal with an optional '-'; NaN when there is none. */
function readDecimal(buf: Uint8Array, p: number, end: number): number {
  while (p < end && buf[p] === SPACE) p++;
  let neg = false;
  if (p < end && buf[p] === 45) {
    neg = true;
    p++;
  }
  const start = p;
  let v = 0;
  while (p < end) {
    const d = buf[p]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    p++;
  }
  cursor = p;
  if (p === start) return NaN;
  return neg ? -v : v;
}

/** Where the line after the one at `p` starts. */
function nextLine(buf: Uint8Array, p: number, end: number): number {
  while (p < end && buf[p] !== NEWLINE) p++;
  return p + 1;
}

/**
 * Parses the lines in buf[start, end) (whole lines; the header and malformed lines are
 * skipped) and adds the sockets that pass ctx.filter to `rows`.
 */
export function parseInetLines(buf: Buffer, start: number, end: number, ctx: InetParseContext, rows: SocketRows): void {
  let pos = start;
  while (pos < end) pos = parseInetLine(buf, pos, end, ctx, rows);
}

/** Parses the line at `p`; returns where the next line starts. */
function parseInetLine(buf: Buffer, p: number, end: number, ctx: InetParseContext, rows: SocketRows): number {
  const lineStart = p;
  while (p < end && buf[p] === SPACE) p++;
  // "sl:" — the header ("sl  local_address ...") has no digits here
  const slStart = p;
  while (p < end && buf[p]! >= 48 && buf[p]! <= 57) p++;
  if (p === slStart || buf[p] !== COLON || buf[p + 1] !== SPACE) return nextLine(buf, lineStart, end);
  const c = p + 2;
  const A = ctx.v6 ? 32 : 8;
  // local(A):port(4) remote(A):port(4) st(2) tx(8):rx(8) tr(2):when — every byte up to
  // tm->when is a hex digit or a checked separator, so a short line fails here instead of
  // running into the next one
  const r = c + A + 6;
  const st = r + A + 6;
  if (st + 24 > end) return nextLine(buf, lineStart, end);
  if (buf[c + A] !== COLON || buf[r - 1] !== SPACE || buf[r + A] !== COLON || buf[st - 1] !== SPACE || buf[st + 2] !== SPACE || buf[st + 11] !== COLON || buf[st + 20] !== SPACE || buf[st + 23] !== COLON) {
    return nextLine(buf, lineStart, end);
  }
  const stopped = parseInetFields(buf, c, r, st, end, ctx, rows);
  return nextLine(buf, stopped >= 0 ? stopped : lineStart, end);
}

/**
 * Parses the fields of a line whose separators were checked and adds the socket if it
 * passes the filter. Returns where it stopped inside the line, -1 when the line is malformed.
 */
function parseInetFields(buf: Buffer, c: number, r: number, st: number, end: number, ctx: InetParseContext, rows: SocketRows): number {
  const f = ctx.filter;
  const A = ctx.v6 ? 32 : 8;
  const state = hexAt(buf, st, 2);
  if (state < 1 || state > 12) return -1;
  if ((f.stateMask & (1 << state)) === 0) return st;

  const localPort = hexAt(buf, c + A + 1, 4);
  const remotePort = hexAt(buf, r + A + 1, 4);
  if (localPort < 0 || remotePort < 0) return -1;
  if (f.localPorts !== null && !portMatches(f.localPorts, localPort)) return st;
  if (f.remotePorts !== null && !portMatches(f.remotePorts, remotePort)) return st;

  let localId: number;
  let remoteId: number;
  if (!ctx.v6) {
    const lw = hexAt(buf, c, 8);
    const rw = hexAt(buf, r, 8);
    if (lw < 0 || rw < 0) return -1;
    const la = procWordToNetwork(lw);
    const ra = procWordToNetwork(rw);
    if (f.localPrefixes !== null && !anyPrefixMatchesV4(f.localPrefixes, la)) return st;
    if (f.remotePrefixes !== null && !anyPrefixMatchesV4(f.remotePrefixes, ra)) return st;
    localId = ctx.addresses.idOfV4(la);
    remoteId = ctx.addresses.idOfV4(ra);
  } else {
    const l0 = hexAt(buf, c, 8);
    const l1 = hexAt(buf, c + 8, 8);
    const l2 = hexAt(buf, c + 16, 8);
    const l3 = hexAt(buf, c + 24, 8);
    const r0 = hexAt(buf, r, 8);
    const r1 = hexAt(buf, r + 8, 8);
    const r2 = hexAt(buf, r + 16, 8);
    const r3 = hexAt(buf, r + 24, 8);
    if (l0 < 0 || l1 < 0 || l2 < 0 || l3 < 0 || r0 < 0 || r1 < 0 || r2 < 0 || r3 < 0) return -1;
    const a0 = procWordToNetwork(l0);
    const a1 = procWordToNetwork(l1);
    const a2 = procWordToNetwork(l2);
    const a3 = procWordToNetwork(l3);
    const b0 = procWordToNetwork(r0);
    const b1 = procWordToNetwork(r1);
    const b2 = procWordToNetwork(r2);
    const b3 = procWordToNetwork(r3);
    if (f.localPrefixes !== null && !anyPrefixMatchesV6(f.localPrefixes, a0, a1, a2, a3)) return st;
    if (f.remotePrefixes !== null && !anyPrefixMatchesV6(f.remotePrefixes, b0, b1, b2, b3)) return st;
    localId = ctx.addresses.idOfV6(a0, a1, a2, a3);
    remoteId = ctx.addresses.idOfV6(b0, b1, b2, b3);
  }

  const sendQueue = hexAt(buf, st + 3, 8);
  const recvQueue = hexAt(buf, st + 12, 8);
  const timer = hexAt(buf, st + 21, 2);
  if (sendQueue < 0 || recvQueue < 0 || timer < 0) return -1;
  const when = readHex(buf, st + 24, end);
  if (when === -1 && cursor === st + 24) return -1;
  if (buf[cursor] !== SPACE) return -1;
  const retransmits = readHex(buf, cursor + 1, end);
  if (retransmits < 0) return -1;
  const uid = readDecimal(buf, cursor, end);
  const probes = readDecimal(buf, cursor, end);
  const inode = readDecimal(buf, cursor, end);
  // past 2^53 a number is no longer exact: a line that long is malformed, not a socket
  if (!(uid >= 0) || Number.isNaN(probes) || !(inode >= 0) || !Number.isSafeInteger(uid) || !Number.isSafeInteger(inode)) return -1;
  const after = cursor;
  if (after < end && buf[after] !== SPACE && buf[after] !== NEWLINE) return -1;
  if (f.inodes !== null && !f.inodes.has(inode)) return after;

  const i = rows.add();
  rows.state[i] = state;
  rows.recvQueue[i] = recvQueue;
  rows.sendQueue[i] = sendQueue;
  rows.localAddress[i] = localId;
  rows.localPort[i] = localPort;
  rows.remoteAddress[i] = remoteId;
  rows.remotePort[i] = remotePort;
  rows.inode[i] = inode;
  // TIME_WAIT sockets (the timewait timer, no inode) have no owner: /proc prints uid 0
  rows.uid[i] = inode === 0 && timer === TCP_TIMEWAIT_TIMER ? -1 : uid;
  rows.timer[i] = timer;
  rows.timerWhen[i] = when;
  rows.retransmits[i] = retransmits;
  rows.probes[i] = probes;
  return after;
}
