// Errors for a failed system call, shaped like the ones Node and the addon throw (code, errno,
// syscall, message "CODE: text, syscall"), so the CLI explains every one the same way
// (src/cli/failure-text.ts reads code and syscall). TypeScript code that learns an errno from a
// batch result, a queued error or a poll status builds its error here.
import { getSystemErrorMap } from 'node:util';

export interface SystemError extends Error {
  code: string;
  /** the positive errno */
  errno: number;
  syscall: string;
}

/**
 * The error for errno (positive, as in errno.h; a negative libuv status is accepted too) from
 * syscall: "CODE: detail", where detail defaults to "<the system's text>, <syscall>" and is
 * given when the caller knows better (e.g. "pending socket error, recvmmsg"). `extra` adds
 * fields such as address.
 */
export function systemError(errno: number, syscall: string, detail?: string, extra: Record<string, unknown> = {}): SystemError {
  const positive = Math.abs(errno);
  const [code, text] = getSystemErrorMap().get(-positive) ?? [`E${positive}`, 'unknown error'];
  const e = new Error(`${code}: ${detail ?? `${text}, ${syscall}`}`) as SystemError;
  return Object.assign(e, { code, errno: positive, syscall }, extra);
}
