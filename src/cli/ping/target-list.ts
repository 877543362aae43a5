// The target list of `netdiag ping`: the hosts on the command line, a range (-g) or a file
// (--file, - for stdin). Each source's errors name its own option; every source shares the
// target cap (src/target/limits.ts).
import { InputError, InterruptedError, UsageError, isSystemError } from '../../errors.js';
import { expandCidr, expandRange } from './address-range.js';
import { readTargetFile } from './target-file.js';
import type { PingCliConfig } from './options.js';

const RANGE_EXAMPLE = 'e.g. netdiag ping -g 10.0.0.0/24, or netdiag ping -g 10.0.0.1 10.0.0.20';

export async function targetList(cfg: PingCliConfig, positionals: string[], signal: AbortSignal, stdin?: NodeJS.ReadableStream): Promise<string[]> {
  if (cfg.generate) {
    try {
      return positionals.length === 1 ? expandCidr(positionals[0]!) : expandRange(positionals[0]!, positionals[1]!);
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(`-g: ${e.message}`, RANGE_EXAMPLE);
      throw e;
    }
  }
  if (cfg.file === null) return positionals;
  try {
    return await readTargetFile(cfg.file, stdin, signal);
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`--file ${cfg.file}: ${e.problem}`, e.fix);
    if (e instanceof InterruptedError) throw e;
    if (isSystemError(e) || typeof (e as NodeJS.ErrnoException).code === 'string') {
      throw new UsageError(`cannot read ${cfg.file}: ${(e as NodeJS.ErrnoException).code}`, 'check the path and its permissions');
    }
    throw e;
  }
}
