// A configuration that cannot be used: which file, which line (when the text had lines), what
// is wrong and how to fix it, on one line (what the file held is quoted escaped). Reload keeps
// the running configuration and reports this.
import { printableLine } from '../runtime/printable-text.js';

export class ConfigError extends Error {
  readonly code = 'ERR_NETDIAG_CONFIG';
  constructor(
    readonly problem: string,
    /** 1-based line in the file, or null (a library object has no lines) */
    readonly line: number | null = null,
    readonly file: string | null = null,
  ) {
    super(printableLine(`${file ?? 'config'}${line !== null ? `:${line}` : ''}: ${problem}`));
    this.name = 'ConfigError';
  }
}
