// A configuration that cannot be used: which file, which line (when the text had lines), what
// is wrong and how to fix it. Reload keeps the running configuration and reports this.

export class ConfigError extends Error {
  readonly code = 'ERR_NETDIAG_CONFIG';
  constructor(
    readonly problem: string,
    /** 1-based line in the file, or null (a library object has no lines) */
    readonly line: number | null = null,
    readonly file: string | null = null,
  ) {
    super(`${file ?? 'config'}${line !== null ? `:${line}` : ''}: ${problem}`);
    this.name = 'ConfigError';
  }
}
