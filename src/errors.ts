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

/**
 * Input netdiag refuses: past one of its caps (README "Limits") or not what it must be, e.g.
 * a target file that is binary. `problem` and `fix` let the CLI prefix the option it came from.
 */
export class InputError extends Error {
  readonly code = 'ERR_NETDIAG_INPUT';
  constructor(readonly problem: string, readonly fix: string) {
    super(`${problem} (${fix})`);
    this.name = 'InputError';
  }
}

/** The run was interrupted (Ctrl-C, SIGTERM) before it could start; nothing was sent. */
export class InterruptedError extends Error {
  readonly code = 'ERR_NETDIAG_INTERRUPTED';
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

const RESOLVE_REASONS: Record<string, string> = {
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  ENODATA: 'No address associated with hostname',
  EAI_NODATA: 'No address associated with hostname',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
};

/** A name that did not resolve; ping and traceroute say the same thing about it. */
export class ResolveError extends Error {
  readonly code = 'ERR_NETDIAG_RESOLVE';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`cannot resolve ${host}: ${reason} (check the name, or give an address)`);
    this.name = 'ResolveError';
  }

  /** The ResolveError for a failed dns.lookup of host. */
  static fromLookup(host: string, e: unknown): ResolveError {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    return new ResolveError(host, RESOLVE_REASONS[code] ?? (code || (e as Error).message));
  }

  /** A literal of the other family than the one asked for. */
  static wrongFamily(host: string): ResolveError {
    return new ResolveError(host, RESOLVE_REASONS.EAI_ADDRFAMILY!);
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
