// IP address strings <-> the 16-byte slots the batched native calls use (IPv4 in the first
// 4 bytes). Parsing and formatting are src/packet/address.ts's; this only fixes the layout.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../packet/address.js';

/** Writes address into dst[off..off+16) (IPv4 in the first 4 bytes); returns the family. */
export function writeAddress(address: string, dst: Buffer, off: number): 4 | 6 {
  if (parseIPv4(address, dst, off)) {
    dst.fill(0, off + 4, off + 16);
    return 4;
  }
  if (parseIPv6(address, dst, off)) return 6;
  throw new RangeError(`'${address}' is not an IP address`);
}

/** Reads the address in src[off..) for family 4 or 6, formatted as Node prints it. */
export function readAddress(src: Buffer, off: number, family: number): string {
  return family === 4 ? formatIPv4(src, off) : formatIPv6(src, off);
}
