// What a host (a name or an address) may look like before anything resolves it: not empty, not
// longer than a DNS name, no white space or control bytes (a binary file read as a target
// list), and no IPv4-mapped IPv6 address (no IPv6 packet reaches one: the kernel would route it
// to the default gateway).

import { isIPv6 } from 'node:net';
import { parseIPv6 } from '../packet/address.js';
import { MAX_HOST_LENGTH } from './limits.js';

const CONTROL_OR_SPACE = /[\s\x00-\x1f\x7f-\x9f]/;

/** The IPv4 address inside an IPv4-mapped IPv6 literal (::ffff:127.0.0.1), or null. */
export function mappedIPv4(text: string): string | null {
  // most targets are names and dotted quads: skip the parse for them
  if (!text.includes(':') || !isIPv6(text)) return null;
  const b = Buffer.alloc(16);
  if (!parseIPv6(text, b, 0)) return null;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return null;
  if (b[10] !== 0xff || b[11] !== 0xff) return null;
  return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
}

/** Why a text cannot be a host, and what to give instead. */
export interface HostProblem {
  /** completes "the host ...", e.g. "is empty" */
  problem: string;
  fix: string;
}

const GIVE_HOST = 'give a host name or address';

/** Why `text` cannot be a host, or null when it can be one. */
export function hostProblem(text: string): HostProblem | null {
  if (text.length === 0) return { problem: 'is empty', fix: GIVE_HOST };
  if (text.length > MAX_HOST_LENGTH) return { problem: `is longer than ${MAX_HOST_LENGTH} characters`, fix: `${GIVE_HOST} of at most ${MAX_HOST_LENGTH}` };
  if (CONTROL_OR_SPACE.test(text)) return { problem: 'holds white space or control characters', fix: GIVE_HOST };
  const v4 = mappedIPv4(text);
  if (v4 !== null) return { problem: 'is an IPv4-mapped IPv6 address, which no IPv6 packet reaches', fix: `give the IPv4 address ${v4}` };
  return null;
}
