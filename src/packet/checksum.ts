// RFC 1071 internet checksum and the pseudo-header sums UDP, TCP and ICMPv6 need.
//
// Sums are kept unfolded as plain numbers: a 16-bit word is at most 0xffff, so even a 64 KiB
// datagram plus a pseudo header stays far below 2^53 and folding once at the end is exact.
// Words are read big-endian, so the folded result is the value to store with a big-endian write.

/** Unfolded ones'-complement sum of `len` bytes at `off`, added to `initial`. An odd last byte is padded with zero. */
export function onesComplementSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  if (!(len > 0)) return initial;
  let sum = initial;
  const end = off + (len & ~1);
  let i = off;
  // Four words per iteration: fewer loop checks on the hot path (echo encode/verify).
  for (const end8 = off + (len & ~7); i < end8; i += 8) {
    sum += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3])
      + ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]);
  }
  for (; i < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (len & 1) sum += buf[off + len - 1] << 8;
  return sum;
}

/** Folds an unfolded sum to 16 bits (end-around carry), without complementing. */
export function foldChecksum(sum: number): number {
  // Division instead of >>> because sums can exceed 32 bits.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The internet checksum (complement of the folded sum) of `len` bytes at `off`; `initial` carries a pseudo-header sum. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~foldChecksum(onesComplementSum(buf, off, len, initial)) & 0xffff;
}

/** True when `len` bytes at `off` (checksum field included) sum to 0xffff, i.e. the stored checksum is right. */
export function verifyChecksum(buf: Uint8Array, off: number, len: number, initial = 0): boolean {
  return foldChecksum(onesComplementSum(buf, off, len, initial)) === 0xffff;
}

/**
 * Unfolded sum of the UDP/TCP/ICMPv6 pseudo header. `src`/`dst` are 4-byte (IPv4: src, dst, zero,
 * protocol, 16-bit length) or 16-byte (IPv6: src, dst, 32-bit length, zeros, next header) addresses.
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  if (src.length !== dst.length || (src.length !== 4 && src.length !== 16)) {
    throw new TypeError(`pseudo header addresses must both be 4 or 16 bytes, got ${src.length} and ${dst.length}`);
  }
  let sum = onesComplementSum(src, 0, src.length) + onesComplementSum(dst, 0, dst.length);
  // IPv4 carries a 16-bit length, IPv6 a 32-bit one; both sum the same way as two words.
  sum += Math.floor(length / 0x10000) + (length & 0xffff) + (protocol & 0xff);
  return sum;
}

/** Checksum for a UDP/TCP/ICMPv6 segment of `len` bytes at `off` (checksum field zeroed by the caller). */
export function transportChecksum(buf: Uint8Array, off: number, len: number, src: Uint8Array, dst: Uint8Array, protocol: number): number {
  return internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, protocol, len));
}

/** True when a UDP/TCP/ICMPv6 segment's stored checksum is right for these addresses. */
export function verifyTransportChecksum(buf: Uint8Array, off: number, len: number, src: Uint8Array, dst: Uint8Array, protocol: number): boolean {
  return verifyChecksum(buf, off, len, pseudoHeaderSum(src, dst, protocol, len));
}

/**
 * RFC 1624 incremental update: the new checksum after one 16-bit word covered by `checksum`
 * changed from `oldWord` to `newWord` (e.g. a NAT rewriting a port, or a new sequence number).
 */
export function updateChecksum(checksum: number, oldWord: number, newWord: number): number {
  // HC' = ~(~HC + ~m + m')
  return ~foldChecksum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/**
 * Stores `checksum` at `checksumOff` and rewrites the 16-bit word at `fixOff` so that the `len`
 * bytes at `off` verify with that checksum (Paris traceroute: a constant flow checksum while the
 * sequence changes). `fixOff - off` must be even so the word lines up with the checksum's words;
 * `initial` carries the pseudo-header sum for UDP/TCP/ICMPv6.
 */
export function forceChecksum(
  buf: Uint8Array, off: number, len: number, checksumOff: number, fixOff: number, checksum: number, initial = 0,
): void {
  if (((fixOff - off) & 1) !== 0 || fixOff < off || fixOff + 2 > off + len) {
    throw new RangeError('the compensation word must be 16-bit aligned inside the checksummed bytes');
  }
  if (((checksumOff - off) & 1) !== 0 || checksumOff < off || checksumOff + 2 > off + len
    || (checksumOff < fixOff + 2 && fixOff < checksumOff + 2)) {
    throw new RangeError('the checksum field must be 16-bit aligned, inside the checksummed bytes and apart from the compensation word');
  }
  buf[checksumOff] = 0; buf[checksumOff + 1] = 0;
  buf[fixOff] = 0; buf[fixOff + 1] = 0;
  const rest = onesComplementSum(buf, off, len, initial);
  // Total must fold to 0xffff: rest + checksum + fix ≡ -0, so fix = ~(rest + checksum).
  const fix = ~foldChecksum(rest + (checksum & 0xffff)) & 0xffff;
  buf[checksumOff] = (checksum >>> 8) & 0xff; buf[checksumOff + 1] = checksum & 0xff;
  buf[fixOff] = fix >>> 8; buf[fixOff + 1] = fix & 0xff;
}
