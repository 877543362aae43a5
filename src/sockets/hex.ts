// Hex digits straight from the bytes of /proc text.

/** Value of each byte as a hex digit, -1 for any other byte. */
export const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_DIGIT[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_DIGIT[65 + i] = 10 + i;
  HEX_DIGIT[97 + i] = 10 + i;
}

/** The fixed-width hex number at buf[p, p + n), or -1 when a byte is not a hex digit. */
export function hexAt(buf: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const h = HEX_DIGIT[buf[p + i]!]!;
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}
