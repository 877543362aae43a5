// The plain IPv4 address a.b.c.d (no leading zeros, as net.isIPv4 reads it), parsed by hand:
// the shape of nearly every target in a -g sweep or a target file, checked and written for ten
// thousand targets at the cost of a character loop each.

/** Writes a plain a.b.c.d as 4 bytes at dst[off] (and 12 zero bytes after); false for anything else. */
export function writeDottedQuad(text: string, dst: Uint8Array, off: number): boolean {
  let part = 0, value = 0, digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 3 || value > 255) return false;
      dst[off + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && !(digits === 1 && value === 0)) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  if (part !== 4) return false;
  // a loop: Buffer#fill checks its arguments on every call, ten thousand times for a sweep
  for (let i = off + 4; i < off + 16; i++) dst[i] = 0;
  return true;
}

const scratch = new Uint8Array(16);

/** True for a plain a.b.c.d (what net.isIP calls 4). */
export function isDottedQuad(text: string): boolean {
  return writeDottedQuad(text, scratch, 0);
}
