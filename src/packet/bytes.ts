// Big-endian field access on plain Uint8Arrays (Buffer included) without DataView or bounds
// exceptions: callers check lengths first, these only assemble bytes.

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

export function writeU16(buf: Uint8Array, off: number, value: number): void {
  buf[off] = (value >>> 8) & 0xff;
  buf[off + 1] = value & 0xff;
}

export function writeU32(buf: Uint8Array, off: number, value: number): void {
  buf[off] = (value >>> 24) & 0xff;
  buf[off + 1] = (value >>> 16) & 0xff;
  buf[off + 2] = (value >>> 8) & 0xff;
  buf[off + 3] = value & 0xff;
}

/** Throws RangeError unless `value` is an integer in [min, max]; `name` is the field being encoded. */
export function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

/** Throws RangeError unless `len` bytes fit in `buf` at `off`. */
export function checkRoom(buf: Uint8Array, off: number, len: number): void {
  if (!Number.isInteger(off) || off < 0 || off + len > buf.length) {
    throw new RangeError(`buffer too small: need ${len} bytes at offset ${String(off)}, have ${buf.length}`);
  }
}

/** Clamps a caller-supplied (offset, length) window to what the buffer really holds; returns the usable length. */
export function available(buf: Uint8Array, off: number, len: number | undefined): number {
  if (!Number.isInteger(off) || off < 0 || off > buf.length) return 0;
  const max = buf.length - off;
  if (len === undefined || !Number.isInteger(len) || len > max) return max;
  return len < 0 ? 0 : len;
}
