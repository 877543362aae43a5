// IP address strings <-> the 16-byte slots the batched native calls use (IPv4 in the first
// 4 bytes). Parsing and formatting are src/packet/address.ts's; this only fixes the layout, and
// adds the '%zone' Node adds to a link-local address that came with a scope id.
import { native } from '../native.js';
import { formatIPv4, formatIPv6, isLinkLocalIPv6, parseIPv4, parseIPv6 } from '../packet/address.js';

/** Writes address into dst[off..off+16) (IPv4 in the first 4 bytes); returns the family. A '%zone' is not written. */
export function writeAddress(address: string, dst: Buffer, off: number): 4 | 6 {
  if (parseIPv4(address, dst, off)) {
    dst.fill(0, off + 4, off + 16);
    return 4;
  }
  if (parseIPv6(address, dst, off)) return 6;
  throw new RangeError(`'${address}' is not an IP address`);
}

/**
 * Reads the address in src[off..) for family 4 or 6, formatted as Node prints it: a link-local
 * IPv6 address with a scope id ends in '%' and its interface's name (the index when the
 * interface is gone), as net.Socket#remoteAddress and dgram's rinfo.address do.
 */
export function readAddress(src: Buffer, off: number, family: number, scopeId = 0): string {
  if (family === 4) return formatIPv4(src, off);
  const text = formatIPv6(src, off);
  return scopeId > 0 && isLinkLocalIPv6(src, off) ? `${text}%${interfaceNameOf(scopeId)}` : text;
}

/** The name of interface `index` (its number when it has none). */
export function interfaceNameOf(index: number): string {
  return native().interfaceName(index) ?? String(index);
}
