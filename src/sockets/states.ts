// Socket states as the kernel numbers them (include/net/tcp_states.h; UDP, raw and unix
// sockets reuse ESTABLISHED and CLOSE), and ss's state names and groups as bit masks.
import type { SocketState } from './types.js';

export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;
const STATE_COUNT = 13;

/** Every state bit (1 << code for codes 1..12). */
export const ALL_STATES = ((1 << STATE_COUNT) - 1) & ~1;

/** ss's default when neither -a, -l nor a state is given: connected, not TIME_WAIT/SYN_RECV. */
export const SS_DEFAULT_STATES = ALL_STATES & ~((1 << TCP_LISTEN) | (1 << TCP_CLOSE) | (1 << TCP_TIME_WAIT) | (1 << TCP_SYN_RECV));

/** ss -l: listening TCP/unix stream sockets and unconnected datagram sockets. */
export const SS_LISTENING_STATES = (1 << TCP_LISTEN) | (1 << TCP_CLOSE);

/** Kernel name by code; code 7 is CLOSE for TCP and UNCONN for everything else. */
const KERNEL_NAMES: readonly (SocketState | undefined)[] = [
  undefined,
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
];

/** ss's display names by code (sstate_name in misc/ss.c). */
const SS_NAMES: readonly string[] = [
  'UNKNOWN',
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'UNCONN',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
  'UNDEF',
];

/** The contract's state name of a kernel code, or undefined for a code the kernel never uses. */
export function stateName(code: number, tcp: boolean): SocketState | undefined {
  if (code === TCP_CLOSE && !tcp) return 'UNCONN';
  return KERNEL_NAMES[code];
}

/** The kernel code of a contract state name. */
export function stateCode(state: SocketState): number {
  return state === 'UNCONN' ? TCP_CLOSE : KERNEL_NAMES.indexOf(state);
}

/** How ss prints a state (ESTAB, SYN-SENT, UNCONN, ...). */
export function ssStateName(state: SocketState): string {
  return SS_NAMES[stateCode(state)] ?? 'UNKNOWN';
}

const bit = (code: number): number => 1 << code;

/** ss names (scan_state in misc/ss.c) and groups, plus the kernel names, lower-cased. */
const SELECTORS: ReadonlyMap<string, number> = new Map<string, number>([
  ['all', ALL_STATES],
  ['connected', ALL_STATES & ~(bit(TCP_CLOSE) | bit(TCP_LISTEN))],
  ['synchronized', ALL_STATES & ~(bit(TCP_CLOSE) | bit(TCP_LISTEN) | bit(TCP_SYN_SENT))],
  ['bucket', bit(TCP_SYN_RECV) | bit(TCP_TIME_WAIT)],
  ['big', ALL_STATES & ~(bit(TCP_SYN_RECV) | bit(TCP_TIME_WAIT))],
  ['established', bit(1)],
  ['syn-sent', bit(2)],
  ['syn-recv', bit(3)],
  ['syn-rcv', bit(3)],
  ['fin-wait-1', bit(4)],
  ['fin-wait-2', bit(5)],
  ['time-wait', bit(6)],
  ['closed', bit(7)],
  ['close', bit(7)],
  ['unconnected', bit(7)],
  ['unconn', bit(7)],
  ['close-wait', bit(8)],
  ['last-ack', bit(9)],
  ['listening', bit(10)],
  ['listen', bit(10)],
  ['closing', bit(11)],
  ...KERNEL_NAMES.flatMap((name, code): [string, number][] => (name ? [[name.toLowerCase(), bit(code)]] : [])),
]);

/** The state bits a selector stands for, or undefined when the name is unknown. */
export function stateSelectorMask(selector: string): number | undefined {
  const lower = selector.toLowerCase();
  return SELECTORS.get(lower) ?? SELECTORS.get(lower.replace(/_/g, '-'));
}

/** Every selector name, for error messages. */
export function stateSelectorNames(): string[] {
  return [...SELECTORS.keys()];
}
