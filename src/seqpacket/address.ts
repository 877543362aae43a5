// Unix socket addresses as users write them: a filesystem path, or '@name' for Linux's
// abstract namespace (no file, gone with the socket, no permission checks).
import { optionRangeError, optionTypeError } from '../errors.js';

/** sockaddr_un.sun_path is 108 bytes: a path needs its NUL, an abstract name its leading NUL. */
export const MAX_PATH_BYTES = 107;

export interface UnixAddress {
  /** as given: '/run/app.sock' or '@name' */
  readonly address: string;
  readonly abstract: boolean;
}

export function parseUnixAddress(option: string, v: unknown): UnixAddress {
  if (typeof v !== 'string') throw optionTypeError(option, "a socket path or '@name'", v);
  if (v.length === 0 || v === '@') throw optionRangeError(option, "a non-empty socket path or '@name'", v);
  const abstract = v.startsWith('@');
  if (!abstract && v.includes('\0')) throw optionRangeError(option, 'a path without NUL bytes', v);
  const bytes = Buffer.byteLength(abstract ? v.slice(1) : v);
  if (bytes > MAX_PATH_BYTES) {
    throw optionRangeError(option, `at most ${MAX_PATH_BYTES} bytes long (${abstract ? 'abstract name' : 'path'} has ${bytes}; use a shorter path)`, v);
  }
  return { address: v, abstract };
}
