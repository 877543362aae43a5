// IP address strings <-> the 16-byte slots the batched native calls use.
import { isIPv4, isIPv6 } from 'node:net';

/** Writes address into dst[off..off+16) (IPv4 in the first 4 bytes); returns the family. */
export function writeAddress(address: string, dst: Buffer, off: number): 4 | 6 {
  if (isIPv4(address)) {
    const parts = address.split('.');
    for (let i = 0; i < 4; i++) dst[off + i] = Number(parts[i]);
    dst.fill(0, off + 4, off + 16);
    return 4;
  }
  if (!isIPv6(address)) throw new RangeError(`'${address}' is not an IP address`);
  const zone = address.indexOf('%');
  const a = zone >= 0 ? address.slice(0, zone) : address;
  const words = expandV6(a);
  for (let i = 0; i < 8; i++) dst.writeUInt16BE(words[i]!, off + i * 2);
  return 6;
}

function expandV6(a: string): number[] {
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two words
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':').map((x) => parseInt(x, 16)) : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  return [...h, ...new Array<number>(fill).fill(0), ...t];
}

/** Reads the address in src[off..) for family 4 or 6, formatted as Node prints it. */
export function readAddress(src: Buffer, off: number, family: number): string {
  if (family === 4) return `${src[off]}.${src[off + 1]}.${src[off + 2]}.${src[off + 3]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(src.readUInt16BE(off + i * 2));
  // ::ffff:a.b.c.d as Node prints mapped addresses
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${src[off + 12]}.${src[off + 13]}.${src[off + 14]}.${src[off + 15]}`;
  }
  // longest run of zero words (length >= 2) becomes '::' (RFC 5952)
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
