// The argument parsers of every command (src/cli/args.ts and the per-command layers:
// ping options, traceroute invocation, ipc listen/send; sockets' filter grammar has its own
// target, ss-filter). Nothing runs: only parsing. The input is argv split at NUL bytes. Only
// UsageError/InputError (a one-line message naming the option and the fix) may escape, and
// every number that passes is inside its option's declared range.
import { parseArgs, type OptionSpec } from '../../../src/cli/args.js';
import { listenSpecs } from '../../../src/cli/ipc/listen.js';
import { sendSpecs } from '../../../src/cli/ipc/send.js';
import { parseSubcommand } from '../../../src/cli/ipc/usage.js';
import type { Output } from '../../../src/cli/output.js';
import { expandTcpFlag, pingOptionSpecs, toPingConfig } from '../../../src/cli/ping/options.js';
import { parseInvocation, specs as tracerouteSpecs } from '../../../src/cli/traceroute/args.js';
import { describeFailure, printableLine } from '../../../src/cli/failure-text.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { check, onlyTypedErrors } from '../invariants.js';

const CLI_ERRORS = [UsageError, InputError];
const quiet: Output = { out: () => {}, err: () => {}, color: false, isTTY: false };

function checkRanges(options: Record<string, unknown>, specs: readonly OptionSpec[], command: string): void {
  for (const s of specs) {
    const v = options[s.key];
    if (v === undefined) continue;
    if (s.kind === 'number' || s.kind === 'integer') {
      check(typeof v === 'number' && Number.isFinite(v), `${command} ${s.names[0]}: ${String(v)} is not a finite number`);
      if (s.kind === 'integer') check(Number.isInteger(v), `${command} ${s.names[0]}: ${v} is not an integer`);
      if (s.min !== undefined) check(v >= s.min, `${command} ${s.names[0]}: ${v} below its minimum ${s.min}`);
      if (s.max !== undefined) check(v <= s.max, `${command} ${s.names[0]}: ${v} above its maximum ${s.max}`);
    } else if (s.kind === 'string' && s.choices) {
      check(s.choices.includes(v as string), `${command} ${s.names[0]}: '${String(v)}' is not one of its choices`);
    }
  }
}

/** Runs a parse step: a CLI error is fine when it prints as one line; anything else is a finding. */
function cliParse<T>(what: string, parse: () => T): T | undefined {
  let error: Error | undefined;
  const result = onlyTypedErrors(() => {
    try {
      return parse();
    } catch (e) {
      if (e instanceof Error) error = e;
      throw e;
    }
  }, CLI_ERRORS, what);
  if (error) {
    // what main.ts prints for it
    const printed = printableLine(describeFailure(error, 'ping'));
    check(!/[\x00-\x1f\x7f]/.test(printed), `${what}: the usage error prints control bytes: ${JSON.stringify(printed)}`);
  }
  return result;
}

export function fuzz(data: Buffer): void {
  const argv = data.toString('utf8').split('\0').slice(0, 24);

  const ping = cliParse('ping parseArgs', () => parseArgs(expandTcpFlag(argv), pingOptionSpecs, 'ping'));
  if (ping) {
    checkRanges(ping.options, pingOptionSpecs, 'ping');
    for (const euid of [0, 1000]) cliParse('ping toPingConfig', () => toPingConfig(ping.options, ping.positionals, euid));
  }

  const traceroute = cliParse('traceroute parseArgs', () => parseArgs(argv, tracerouteSpecs, 'traceroute'));
  if (traceroute) checkRanges(traceroute.options, tracerouteSpecs, 'traceroute');
  cliParse('traceroute parseInvocation', () => parseInvocation(argv));

  for (const [sub, specs] of [['listen', listenSpecs], ['send', sendSpecs]] as const) {
    const parsed = cliParse(`ipc ${sub}`, () => parseSubcommand(argv, sub, specs, quiet));
    if (parsed) {
      checkRanges(parsed.options, specs, `ipc ${sub}`);
      check(parsed.address !== '', `ipc ${sub}: an empty socket address passed`);
    }
  }
}
