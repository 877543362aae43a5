// IPv4/IPv6 address bytes <-> text, formatted exactly as Node's `net`, `dgram` and `os` print them,
// so addresses decoded from packets compare equal to addresses Node hands out.
//
// Node formats IPv6 with libuv's inet_ntop: lowercase hex without leading zeros, the first longest
// run of two or more zero words compressed to "::", and a dotted IPv4 tail only for v4-mapped
// (::ffff:a.b.c.d) and v4-compatible addresses (exactly six leading zero words: ::1.2.3.4), so
// '::1' and '::2' stay hex.

export type IpFamily = 4 | 6;

/** Dotted quad of the 4 bytes at `off`. */
export function formatIPv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Node's text form of the 16-byte IPv6 address at `off`. */
export function formatIPv6(buf: Uint8Array, off = 0): string {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) groups[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
  return formatIPv6Groups(groups);
}

/**
 * Node's text form of an IPv6 address given as its eight 16-bit groups in address order — the
 * formatting core, shared with callers that hold addresses in another layout (/proc words).
 */
export function formatIPv6Groups(groups: readonly number[]): string {
  // First longest run of zero groups; a run must be at least two groups to be compressed.
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (groups[i] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1; } else curLen++;
      if (curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
    } else {
      curBase = -1;
    }
  }
  if (bestLen < 2) bestBase = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && groups[5] === 0xffff))) {
      return out + `${groups[6] >>> 8}.${groups[6] & 0xff}.${groups[7] >>> 8}.${groups[7] & 0xff}`;
    }
    out += groups[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Formats a 4- or 16-byte address. */
export function formatAddress(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIPv4(bytes, 0) : formatIPv6(bytes, 0);
}

/** Writes the dotted-quad `text` as 4 bytes at `off`; false (nothing written) when it is not strict a.b.c.d. */
export function parseIPv4(text: string, out: Uint8Array, off = 0): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  const bytes = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // Decimal only, no leading zeros (they would mean octal to inet_aton), as net.isIPv4 requires.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    bytes[i] = v;
  }
  if (off < 0 || off + 4 > out.length) return false;
  out.set(bytes, off);
  return true;
}

/**
 * Writes the IPv6 `text` as 16 bytes at `off` (accepts '::', an embedded dotted IPv4 tail and a
 * '%zone' suffix, which is ignored); false (nothing written) when it is not a valid address.
 */
export function parseIPv6(text: string, out: Uint8Array, off = 0): boolean {
  const zone = text.indexOf('%');
  if (zone === 0) return false;
  if (zone > 0) text = text.slice(0, zone);
  if (text.length < 2 || text.length > 45) return false;

  const words: number[] = [];
  let compressAt = -1;
  let rest = text;
  if (rest.startsWith('::')) { compressAt = 0; rest = rest.slice(2); } else if (rest.startsWith(':')) return false;
  if (rest.length > 0) {
    const groups = rest.split(':');
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      if (group === '') {
        // '::' in the middle or at the end (a single empty group); a second '::' is invalid.
        if (compressAt !== -1) return false;
        if (g === groups.length - 1) return false; // a lone trailing ':'
        compressAt = words.length;
        if (g === groups.length - 2 && groups[g + 1] === '') { g++; }
        continue;
      }
      if (g === groups.length - 1 && group.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIPv4(group, v4, 0)) return false;
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
      words.push(parseInt(group, 16));
    }
  }
  if (compressAt === -1 ? words.length !== 8 : words.length > 7) return false;
  if (off < 0 || off + 16 > out.length) return false;
  const full = compressAt === -1
    ? words
    : [...words.slice(0, compressAt), ...new Array<number>(8 - words.length).fill(0), ...words.slice(compressAt)];
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = full[i] >>> 8;
    out[off + 2 * i + 1] = full[i] & 0xff;
  }
  return true;
}

/** 4 or 16 address bytes for an IPv4 or IPv6 address string; throws TypeError naming the input otherwise. */
export function addressBytes(address: string): Uint8Array {
  const v4 = new Uint8Array(4);
  if (parseIPv4(address, v4, 0)) return v4;
  const v6 = new Uint8Array(16);
  if (parseIPv6(address, v6, 0)) return v6;
  throw new TypeError(`not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
}

/** The family of an address given as text or as 4/16 bytes, or null. */
export function addressFamily(address: string | Uint8Array): IpFamily | null {
  if (typeof address !== 'string') return address.length === 4 ? 4 : address.length === 16 ? 6 : null;
  const scratch = new Uint8Array(16);
  if (parseIPv4(address, scratch, 0)) return 4;
  if (parseIPv6(address, scratch, 0)) return 6;
  return null;
}

/** Address bytes from text or bytes (bytes pass through after a length check). */
export function toAddressBytes(address: string | Uint8Array, family?: IpFamily): Uint8Array {
  const bytes = typeof address === 'string' ? addressBytes(address) : address;
  const want = family === 4 ? 4 : family === 6 ? 16 : 0;
  if ((want !== 0 && bytes.length !== want) || (bytes.length !== 4 && bytes.length !== 16)) {
    throw new TypeError(`expected an IPv${family ?? '4 or IPv6'} address, got ${typeof address === 'string' ? JSON.stringify(address) : `${bytes.length} bytes`}`);
  }
  return bytes;
}

/** True when the `len` bytes at `off` equal `bytes` (compare a packet's address with an expected one without formatting). */
export function addressEquals(buf: Uint8Array, off: number, bytes: Uint8Array): boolean {
  if (off < 0 || off + bytes.length > buf.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[off + i] !== bytes[i]) return false;
  return true;
}

/** The address and its '%zone' (null when none) of a text such as 'fe80::1%eth0'. */
export function splitZone(text: string): { address: string; zone: string | null } {
  const at = text.indexOf('%');
  return at < 0 ? { address: text, zone: null } : { address: text.slice(0, at), zone: text.slice(at + 1) };
}

/** The text without its '%zone': the address as packets spell it. */
export function withoutZone(text: string): string {
  const at = text.indexOf('%');
  return at < 0 ? text : text.slice(0, at);
}

/** fe80::/10, the addresses Node prints with their '%zone' (IN6_IS_ADDR_LINKLOCAL). */
export function isLinkLocalIPv6(buf: Uint8Array, off = 0): boolean {
  return buf[off] === 0xfe && (buf[off + 1]! & 0xc0) === 0x80;
}

/**
 * True for the IPv6 addresses the kernel cannot route without an interface (its
 * __ipv6_addr_needs_scope_id): link-local unicast, and interface- or link-local multicast.
 */
export function needsScopeIPv6(buf: Uint8Array, off = 0): boolean {
  if (isLinkLocalIPv6(buf, off)) return true;
  const scope = buf[off + 1]! & 0x0f;
  return buf[off] === 0xff && (scope === 1 || scope === 2);
}

/** True when the 4 or 16 bytes are all zero: 0.0.0.0 or ::, "this host" as a destination. */
export function isUnspecified(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return bytes.length === 4 || bytes.length === 16;
}

/**
 * True for the numbers inet_aton reads as an IPv4 address ('0', '127.1', '0x7f.0.0.1'): the
 * forms getaddrinfo takes as numeric, which iputils ping treats as an address, not a name.
 */
export function isInetAtonNumber(text: string): boolean {
  return /^(0[xX][0-9a-fA-F]*|[0-9]+)(\.(0[xX][0-9a-fA-F]*|[0-9]+)){0,3}$/.test(text);
}
