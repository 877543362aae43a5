// Error types shared by the library and the CLI. Every error a user can cause carries
// a message that names the option or the missing knob and says how to fix it.

/** A privilege is missing (CAP_NET_RAW, ping_group_range, ...). `fix` says what to change. */
export class PrivilegeError extends Error {
  readonly code = 'ERR_NETDIAG_PRIVILEGE';
  constructor(message: string, readonly fix: string) {
    super(`${message} (${fix})`);
    this.name = 'PrivilegeError';
  }
}

/** A command-line usage error: printed as one line, exit code 2. */
export class UsageError extends Error {
  readonly code = 'ERR_NETDIAG_USAGE';
  constructor(readonly problem: string, readonly fix: string) {
    super(`${problem} (${fix})`);
    this.name = 'UsageError';
  }
}

/** An errno-carrying error as thrown by the native addon. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error && typeof (e as SystemError).errno === 'number' && typeof (e as SystemError).syscall === 'string';
}

/** TypeError for a library option of the wrong type; the message names the option. */
export function optionTypeError(option: string, expected: string, got: unknown): TypeError {
  const err = new TypeError(`option ${option} must be ${expected}, got ${describe(got)}`);
  (err as TypeError & { code: string }).code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** RangeError for a library option outside its range; the message names the option. */
export function optionRangeError(option: string, expected: string, got: unknown): RangeError {
  const err = new RangeError(`option ${option} must be ${expected}, got ${describe(got)}`);
  (err as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return err;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
