// Boundary checks for library options: throw TypeError/RangeError that name the option.
import { optionRangeError, optionTypeError } from './errors.js';

export function checkNumber(option: string, v: unknown, min: number, max: number, opts: { integer?: boolean } = {}): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw optionTypeError(option, 'a number', v);
  if (opts.integer && !Number.isInteger(v)) throw optionRangeError(option, `an integer from ${min} to ${max}`, v);
  if (v < min || v > max) throw optionRangeError(option, `${opts.integer ? 'an integer' : 'a number'} from ${min} to ${max}`, v);
  return v;
}

export function checkOptionalNumber(option: string, v: unknown, min: number, max: number, dflt: number, opts: { integer?: boolean } = {}): number {
  return v === undefined ? dflt : checkNumber(option, v, min, max, opts);
}

export function checkString(option: string, v: unknown, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') throw optionTypeError(option, 'a string', v);
  if (opts.nonEmpty && v.length === 0) throw optionRangeError(option, 'a non-empty string', v);
  return v;
}

export function checkBoolean(option: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw optionTypeError(option, 'true or false', v);
  return v;
}

export function checkOneOf<T extends string>(option: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw optionRangeError(option, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v);
  }
  return v as T;
}

export function checkSignal(option: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw optionTypeError(option, 'an AbortSignal', v);
  return v;
}

export function checkObject(option: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw optionTypeError(option, 'an object', v);
  return v as Record<string, unknown>;
}
