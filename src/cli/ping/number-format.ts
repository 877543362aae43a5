// Number formats of the tools netdiag's ping output imitates: iputils' microsecond times and
// %g loss, fping's sprint_tm.

/** iputils' " time=..." value for a round trip of `us` microseconds (precision drops as it grows). */
export function iputilsTime(us: number): string {
  const t = Math.max(0, Math.round(us));
  if (t >= 100000 - 50) return `${Math.trunc((t + 500) / 1000)}`;
  if (t >= 10000 - 5) return `${Math.trunc((t + 50) / 1000)}.${Math.trunc(((t + 50) % 1000) / 100)}`;
  if (t >= 1000) return `${Math.trunc((t + 5) / 1000)}.${String(Math.trunc(((t + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.trunc(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
}

/** iputils' "%ld.%03ld" of a microsecond count. */
export function iputilsMs(us: number): string {
  const t = Math.trunc(us);
  return `${Math.trunc(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
}

/** C's printf("%g") of a float (iputils prints the loss percentage so). */
export function printfG(value: number): string {
  const x = Math.fround(value);
  if (x === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(x)));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, exp] = x.toExponential(5).split('e') as [string, string];
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    const e = Number(exp);
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, 5 - exponent));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** fping's sprint_tm of milliseconds. */
export function fpingTime(ms: number): string {
  if (ms < 0) return '-';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  if (ms < 1e6) return ms.toFixed(0);
  return ms.toExponential(3);
}

/** ping -D's "[seconds.microseconds] " of a time in ms since the epoch. */
export function epochStamp(ms: number): string {
  const us = Math.floor(ms * 1000);
  return `[${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}] `;
}
