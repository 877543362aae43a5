// Text assembled straight into bytes: the printer's per-row details (tcp_info, skmem, timers)
// for 100k sockets without a string per field or per row. Numbers print as String() prints
// them; only strings that may hold non-ASCII (paths, names) go through the UTF-8 encoder.

const recentG = new Map<number, string>();

export class ByteText {
  buf: Buffer = Buffer.allocUnsafe(1 << 16);
  length = 0;

  /** Room for n more bytes. */
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  /** Text of one byte per character (ASCII literals, numbers, latin1 decoded bytes). */
  latin(s: string): this {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.length = p;
    return this;
  }

  /** Any text (UTF-8). */
  text(s: string): this {
    if (!/[^\x00-\x7f]/.test(s)) return this.latin(s);
    this.reserve(Buffer.byteLength(s));
    this.length += this.buf.write(s, this.length, 'utf8');
    return this;
  }

  /** A number as `${v}` prints it (null as 'null'). */
  number(v: number | null): this {
    if (v === null || !(v >= 0 && v <= 0x7fffffff && Math.floor(v) === v)) return this.latin(String(v));
    this.reserve(10);
    this.length = writeDecimal(this.buf, this.length, v, decimalLength(v));
    return this;
  }

  /** printf's %g of x (see formatG): millis() where that prints the same, the string otherwise. */
  g(x: number): this {
    // up to three digits before the point and three after: six significant digits at most
    if (x >= 0.001 && x < 1000) {
      const k = Math.round(x * 1000);
      if (Math.abs(x * 1000 - k) < 1e-6) return this.millis(x);
    }
    // the rest are mostly BBR's few gains: kept, not formatted again
    let text = recentG.get(x);
    if (text === undefined) {
      text = formatG(x);
      if (recentG.size >= 256) recentG.clear();
      recentG.set(x, text);
    }
    return this.latin(text);
  }

  /** String(Math.round(ms * 1000) / 1000): milliseconds to the microsecond, trailing zeros dropped. */
  millis(ms: number): this {
    const k = Math.round(ms * 1000);
    if (!(k >= 0 && k <= 0x7fffffff)) return this.latin(String(k / 1000));
    const whole = Math.floor(k / 1000);
    let frac = k - whole * 1000;
    this.number(whole);
    if (frac === 0) return this;
    this.reserve(4);
    const b = this.buf;
    let p = this.length;
    b[p++] = 46; // .
    b[p++] = 48 + Math.floor(frac / 100);
    frac %= 100;
    if (frac !== 0) {
      b[p++] = 48 + Math.floor(frac / 10);
      frac %= 10;
      if (frac !== 0) b[p++] = 48 + frac;
    }
    this.length = p;
    return this;
  }
}

/** Digits of a non-negative integer. */
export function decimalLength(v: number): number {
  if (v < 10) return 1;
  if (v < 100) return 2;
  if (v < 1000) return 3;
  if (v < 10000) return 4;
  if (v < 100000) return 5;
  let len = 6;
  for (let x = Math.floor(v / 1000000); x >= 1; x = Math.floor(x / 10)) len++;
  return len;
}

/** Writes the non-negative integer v, `len` digits long, at p; returns the end. */
export function writeDecimal(out: Buffer, p: number, v: number, len: number): number {
  const end = p + len;
  if (v <= 0x7fffffff) {
    // small integers: int32 arithmetic instead of float division
    let x = v | 0;
    for (let q = end - 1; q >= p; q--) {
      const d = (x / 10) | 0;
      out[q] = 48 + x - d * 10;
      x = d;
    }
    return end;
  }
  for (let q = end - 1; q >= p; q--) {
    out[q] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return end;
}

/** printf's %g: six significant digits, trailing zeros dropped, an exponent outside [1e-4, 1e6). */
export function formatG(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(5).split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${trimZeros(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return trimZeros(x.toFixed(5 - e));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
