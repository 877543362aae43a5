// What every fuzz target asserts besides "no crash". A broken invariant throws InvariantError,
// which Jazzer.js reports as a finding (the input is saved as crash-<sha1>).
import { SocketAddress } from 'node:net';

export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `parse`; an error it throws must be one of `allowed` (the parser's own typed error),
 * anything else (TypeError from a bad index, a RangeError from a Buffer read) is a finding.
 * Returns the result, or undefined when an allowed error was thrown.
 */
export function onlyTypedErrors<T>(parse: () => T, allowed: readonly ErrorClass[], what: string): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return undefined;
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new InvariantError(`${what} threw an untyped error: ${text}`);
  }
}

/** A decoded [offset, offset + length) window must lie inside [start, end). */
export function checkWindow(what: string, offset: number, length: number, start: number, end: number): void {
  check(Number.isInteger(offset) && Number.isInteger(length), `${what}: offset ${offset} / length ${length} not integers`);
  check(length >= 0 && offset >= start && offset + length <= end, `${what}: [${offset}, +${length}) outside the input [${start}, ${end})`);
}

/** The IPv4 text Node would print for 4 bytes (a SocketAddress round trip through inet_pton/ntop). */
export function nodeIPv4(bytes: Uint8Array, off: number): string {
  return new SocketAddress({ address: `${bytes[off]}.${bytes[off + 1]}.${bytes[off + 2]}.${bytes[off + 3]}`, family: 'ipv4' }).address;
}

/** The IPv6 text Node would print for 16 bytes. */
export function nodeIPv6(bytes: Uint8Array, off: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[off + 2 * i] << 8) | bytes[off + 2 * i + 1]).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** Splits fuzzer bytes: the first byte picks a mode, the rest is the input. */
export function splitMode(data: Buffer, modes: number): { mode: number; rest: Buffer } {
  if (data.length === 0) return { mode: 0, rest: data };
  return { mode: data[0] % modes, rest: data.subarray(1) };
}
