// A small getopt-style parser shared by every command. It knows short clusters (-nq),
// attached values (-c3, --count=3), `--` and `-` as a positional, and turns every mistake
// into a UsageError that names the option and shows a correct form.
import { UsageError } from '../errors.js';

export type OptionKind = 'flag' | 'string' | 'number' | 'integer' | 'list';

export interface OptionSpec {
  /** key in the parsed result */
  key: string;
  /** spellings, e.g. ['-c', '--count'] */
  names: string[];
  kind: OptionKind;
  /** value name for help and errors, e.g. 'count' */
  value?: string;
  /** inclusive range check for number/integer */
  min?: number;
  max?: number;
  /** also accept 0x-prefixed hex (iputils reads -Q so); numbers are decimal otherwise */
  hex?: boolean;
  /** allowed values for string */
  choices?: string[];
  /** an example used in error messages, e.g. '-c 5' */
  example?: string;
  help: string;
}

export interface Parsed {
  options: Record<string, unknown>;
  positionals: string[];
}

export function parseArgs(argv: string[], specs: OptionSpec[], command: string): Parsed {
  const byName = new Map<string, OptionSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const options: Record<string, unknown> = {};
  const positionals: string[] = [];

  const take = (spec: OptionSpec, name: string, raw: string | undefined): void => {
    if (spec.kind === 'flag') {
      options[spec.key] = true;
      return;
    }
    if (raw === undefined) {
      throw new UsageError(`option ${name} needs a ${spec.value ?? 'value'}`, `e.g. netdiag ${command} ${spec.example ?? `${name} ${spec.value ?? 'VALUE'}`}`);
    }
    options[spec.key] = spec.kind === 'list' ? [...((options[spec.key] as string[] | undefined) ?? []), raw] : convert(spec, name, raw, command);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      const spec = byName.get(name);
      if (!spec) throw unknownOption(name, command, specs);
      if (spec.kind === 'flag') {
        if (eq >= 0) throw new UsageError(`option ${name} takes no value`, `write ${name} alone`);
        take(spec, name, undefined);
      } else {
        const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        take(spec, name, raw);
      }
      continue;
    }
    // '-4' is an option when one is defined (ping -4), otherwise a negative number
    if (arg.startsWith('-') && arg.length > 1 && (!isNegativeNumber(arg) || byName.has(arg.slice(0, 2)))) {
      // short option cluster: -nq, -c3, -c 3
      for (let j = 1; j < arg.length; j++) {
        const name = '-' + arg[j];
        const spec = byName.get(name);
        if (!spec) throw unknownOption(name, command, specs);
        if (spec.kind === 'flag') {
          take(spec, name, undefined);
          continue;
        }
        const rest = arg.slice(j + 1);
        take(spec, name, rest.length > 0 ? rest : argv[++i]);
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { options, positionals };
}

function isNegativeNumber(s: string): boolean {
  return /^-\d/.test(s);
}

function convert(spec: OptionSpec, name: string, raw: string, command: string): unknown {
  const example = `e.g. netdiag ${command} ${spec.example ?? `${name} ${spec.value ?? 'VALUE'}`}`;
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`option ${name} must be one of ${spec.choices.join(', ')}, got '${raw}'`, example);
    }
    return raw;
  }
  return parseNumberText(name, raw, spec, example);
}

/** How a number may be written: what iputils and fping accept, nothing JavaScript adds. */
const DECIMAL_INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;

/**
 * The value of a numeric option: plain decimal digits (a fraction for 'number'), 0x hex only
 * where the spec allows it; no exponent, no 0b/0o, no sign where the range has no negatives,
 * no white space. Every refusal is a UsageError naming the option and a correct form.
 */
export function parseNumberText(name: string, raw: string, spec: Pick<OptionSpec, 'kind' | 'min' | 'max' | 'hex'>, example: string): number {
  const hex = spec.hex === true && HEX.test(raw);
  if (!hex && !DECIMAL.test(raw)) {
    // 0x10, 1e3, 0b11, ' 5': numbers to JavaScript, not to ping or fping
    const jsNumber = raw.trim() !== '' && Number.isFinite(Number(raw));
    if (jsNumber) throw new UsageError(`option ${name} needs a number in decimal digits${spec.hex ? ' or 0x hex' : ''}, got '${raw}'`, example);
    throw new UsageError(`option ${name} needs a number, got '${raw}'`, example);
  }
  if (spec.kind === 'integer' && !hex && !DECIMAL_INTEGER.test(raw)) throw new UsageError(`option ${name} needs a whole number, got '${raw}'`, example);
  const n = hex ? parseInt(raw.slice(2), 16) : Number(raw);
  // a sign where the range has no negative numbers ('-0' included) is out of range
  const signRefused = raw.startsWith('-') && spec.min !== undefined && spec.min >= 0;
  if (!Number.isFinite(n) || signRefused || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw new UsageError(`option ${name} must be from ${spec.min ?? '-inf'} to ${spec.max ?? 'inf'}, got '${raw}'`, example);
  }
  return n;
}

function unknownOption(name: string, command: string, specs: OptionSpec[]): UsageError {
  const close = specs.flatMap((s) => s.names).find((n) => n.startsWith(name) || name.startsWith(n));
  return new UsageError(`unknown option ${name}`, close ? `did you mean ${close}? see netdiag ${command} --help` : `see netdiag ${command} --help`);
}

/** Renders the option list for --help. */
export function formatHelp(usage: string, summary: string, specs: OptionSpec[]): string {
  const rows = specs.map((s) => {
    const names = s.names.join(', ') + (s.kind === 'flag' ? '' : ` ${s.value ?? 'VALUE'}`);
    return [names, s.help] as const;
  });
  const width = Math.min(30, Math.max(...rows.map(([n]) => n.length)) + 2);
  const lines = rows.map(([n, h]) => `  ${n.padEnd(width)}${n.length >= width ? '\n  ' + ' '.repeat(width) : ''}${h}`);
  return `usage: ${usage}\n\n${summary}\n\noptions:\n${lines.join('\n')}\n`;
}

/** Options every command shares. */
export const commonOptions: OptionSpec[] = [
  { key: 'json', names: ['--json'], kind: 'flag', help: 'print one JSON document on stdout' },
  { key: 'help', names: ['-h', '--help'], kind: 'flag', help: 'show this help' },
];
