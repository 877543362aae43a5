// Parser of /proc/net/unix lines (net/unix/af_unix.c unix_seq_show):
//   "%pK: %08X %08X %08X %04X %02X %5lu[ path]"
//    Num  RefCount Protocol Flags Type St Inode
// Flags has __SO_ACCEPTCON (1 << 16) for listeners; St is the socket layer's state
// (1 unconnected, 2 connecting, 3 connected, 4 disconnecting); the path runs to the end of
// the line and may hold spaces; an abstract name is printed as '@' + name with NULs as '@'.
import type { SocketFilter } from './filters.js';
import { HEX_DIGIT, hexAt } from './hex.js';
import type { SocketRows } from './socket-rows.js';
import { TCP_CLOSE, TCP_CLOSING, TCP_ESTABLISHED, TCP_LISTEN, TCP_SYN_SENT } from './states.js';

const SO_ACCEPTCON = 1 << 16;
// the mapping of misc/ss.c unix_show: St 1..4 to ss states
const ST_TO_STATE = [0, TCP_CLOSE, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_CLOSING];
// SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5 -> index into UNIX_TYPES
const TYPE_INDEX = [-1, 0, 1, -1, -1, 2];
const SPACE = 32;
const NEWLINE = 10;



/** Parses the lines in buf[start, end) (whole lines) and adds the matching sockets to `rows`. */
export function parseUnixLines(buf: Buffer, start: number, end: number, filter: SocketFilter, rows: SocketRows): void {
  let pos = start;
  while (pos < end) {
    let eol = buf.indexOf(NEWLINE, pos);
    if (eol < 0 || eol > end) eol = end;
    parseUnixLine(buf, pos, eol, filter, rows);
    pos = eol + 1;
  }
}

function parseUnixLine(buf: Buffer, p: number, eol: number, f: SocketFilter, rows: SocketRows): void {
  // Num: the kernel address (zeros without kptr access), then ": "
  const numStart = p;
  while (p < eol && HEX_DIGIT[buf[p]!]! >= 0) p++;
  if (p === numStart || buf[p] !== 58 || buf[p + 1] !== SPACE) return; // the header too
  const c = p + 2;
  // RefCount(8) Protocol(8) Flags(8) Type(4) St(2) then "%5lu"
  if (c + 35 > eol) return;
  if (buf[c + 8] !== SPACE || buf[c + 17] !== SPACE || buf[c + 26] !== SPACE || buf[c + 31] !== SPACE || buf[c + 34] !== SPACE) return;
  const flags = hexAt(buf, c + 18, 8);
  const typeCode = hexAt(buf, c + 27, 4);
  const st = hexAt(buf, c + 32, 2);
  if (flags < 0 || typeCode < 0 || st < 0 || hexAt(buf, c, 8) < 0) return;
  const type = typeCode < TYPE_INDEX.length ? TYPE_INDEX[typeCode]! : -1;
  if (type < 0) return;
  let stateCode: number;
  if (flags & SO_ACCEPTCON) stateCode = TCP_LISTEN;
  else if (st >= 1 && st <= 4) stateCode = ST_TO_STATE[st]!;
  else return;
  if ((f.stateMask & (1 << stateCode)) === 0) return;

  p = c + 35;
  while (p < eol && buf[p] === SPACE) p++;
  const inoStart = p;
  let ino = 0;
  while (p < eol) {
    const d = buf[p]! - 48;
    if (d < 0 || d > 9) break;
    ino = ino * 10 + d;
    p++;
  }
  // past 2^53 the inode is no longer exact: malformed, like a line without one
  if (p === inoStart || !Number.isSafeInteger(ino)) return;
  if (p < eol && buf[p] !== SPACE) return;
  if (f.inodes !== null && !f.inodes.has(ino)) return;
  // " path" follows for bound sockets
  const path = p + 1 < eol ? buf.toString('utf8', p + 1, eol) : null;

  const i = rows.add();
  rows.state[i] = stateCode;
  rows.recvQueue[i] = -1;
  rows.sendQueue[i] = -1;
  rows.inode[i] = ino;
  rows.uid[i] = -1;
  rows.timer[i] = 0;
  rows.unixType[i] = type;
  rows.path[i] = path;
}
