// The bytes after a probe's ICMP/UDP header. Errors are only sure to quote 8 bytes of the
// transport header, but most routers quote more, so the payload repeats what identifies the
// probe (wire sequence and a per-session cookie) for methods whose headers cannot carry it all
// (unprivileged UDP reads only the quoted payload) and for NAT detection.
//   [0..1]  Paris compensation word: makes the checksum come out as chosen (0 otherwise)
//   [2..3]  wire sequence
//   [4..7]  session cookie
//   [8..]   zeros
import { readU16, readU32, writeU16, writeU32 } from '../packet/bytes.js';

export const PAYLOAD_MIN = 8;
export const COMPENSATION_OFFSET = 0;

/** Writes the payload of `length` bytes at `off`. */
export function writeProbePayload(buf: Uint8Array, off: number, length: number, seq: number, cookie: number): void {
  buf.fill(0, off, off + length);
  writeU16(buf, off + 2, seq);
  writeU32(buf, off + 4, cookie);
}

/** The wire sequence in a quoted payload, or null when the quote is too short or the cookie is not ours. */
export function readProbePayload(buf: Uint8Array, off: number, length: number, cookie: number): number | null {
  if (length < PAYLOAD_MIN || off < 0 || off + PAYLOAD_MIN > buf.length) return null;
  if (readU32(buf, off + 4) !== cookie >>> 0) return null;
  return readU16(buf, off + 2);
}
