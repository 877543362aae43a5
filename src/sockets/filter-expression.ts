// The part of ss's filter language that netdiag understands, for the positional arguments of
// `netdiag sockets`: `state NAME`, `exclude NAME` and conditions joined by `and` (or just
// listed): `sport OP PORT`, `dport OP PORT`, `src ADDR[/LEN][:PORT]`, `dst ...`, with the
// operators = == eq != ne > gt >= ge < lt <= le and ss's ':port' spelling. `or` and `not`
// are rejected with a UsageError rather than misread.
import { UsageError } from '../errors.js';
import { parseAddressPrefix } from './inet-address.js';
import { ALL_STATES, stateSelectorMask } from './states.js';
import type { PortSelector } from './types.js';

export interface FilterExpression {
  /** bits to keep; null when the expression names no state */
  stateMask: number | null;
  localPorts: PortSelector[];
  remotePorts: PortSelector[];
  localAddresses: string[];
  remoteAddresses: string[];
}

const COMMAND = 'sockets';

function tokenize(args: readonly string[]): string[] {
  return args.flatMap((a) => a.match(/[()]|[^\s()]+/g) ?? []);
}

/** A port: '22', ':22', 'ssh', ':ssh'; null for '*' (any), undefined when it is none. */
export function parsePort(text: string, resolvePort: (name: string) => number | undefined): number | null | undefined {
  const t = text.startsWith(':') ? text.slice(1) : text;
  if (t === '*' || t === '') return null;
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n <= 65535 ? n : undefined;
  }
  return resolvePort(t);
}

const OPERATORS: Record<string, string> = { '=': 'eq', '==': 'eq', eq: 'eq', '!=': 'ne', ne: 'ne', '>': 'gt', gt: 'gt', '>=': 'ge', ge: 'ge', '<': 'lt', lt: 'lt', '<=': 'le', le: 'le' };

export function parseFilterExpression(args: readonly string[], resolvePort: (name: string) => number | undefined): FilterExpression {
  const tokens = tokenize(args);
  const expr: FilterExpression = { stateMask: null, localPorts: [], remotePorts: [], localAddresses: [], remoteAddresses: [] };
  let sawState = false;
  let i = 0;
  const next = (what: string, after: string): string => {
    const t = tokens[i++];
    if (t === undefined || t === '(' || t === ')') throw new UsageError(`'${after}' needs ${what}`, `e.g. netdiag ${COMMAND} ${after === 'state' || after === 'exclude' ? `${after} established` : `${after} = :22`}`);
    return t;
  };
  while (i < tokens.length) {
    const word = tokens[i++]!;
    const lower = word.toLowerCase();
    if (lower === 'and' || lower === '&&' || word === '(' || word === ')') continue;
    if (lower === 'or' || lower === '||' || lower === 'not' || lower === '!') {
      throw new UsageError(`the filter operator '${word}' is not supported`, `netdiag ${COMMAND} combines conditions with 'and' only; run it once per alternative`);
    }
    if (lower === 'state' || lower === 'exclude' || lower === 'excl') {
      const name = next('a state name', lower === 'excl' ? 'exclude' : lower);
      const mask = stateSelectorMask(name);
      if (mask === undefined) {
        throw new UsageError(`unknown socket state '${name}'`, 'use a state such as established, listening, time-wait, syn-sent, or a group: all, connected, synchronized, bucket, big');
      }
      if (lower === 'state') {
        expr.stateMask = (sawState ? (expr.stateMask ?? 0) : 0) | mask;
      } else {
        expr.stateMask = (sawState ? (expr.stateMask ?? ALL_STATES) : ALL_STATES) & ~mask;
      }
      sawState = true;
      continue;
    }
    if (lower === 'sport' || lower === 'dport') {
      let op = 'eq';
      let value = next('a port', lower);
      if (OPERATORS[value.toLowerCase()] !== undefined) {
        op = OPERATORS[value.toLowerCase()]!;
        value = next('a port', `${lower} ${value}`);
      }
      const port = parsePort(value, resolvePort);
      if (port === undefined) throw new UsageError(`'${value}' is not a port`, `e.g. netdiag ${COMMAND} ${lower} = :22`);
      const range = portRange(op, port, lower);
      if (range !== null) andPort(lower === 'sport' ? expr.localPorts : expr.remotePorts, range, lower);
      continue;
    }
    if (lower === 'src' || lower === 'dst') {
      let value = next('an address', lower);
      if (value === '=' || value === '==' || value.toLowerCase() === 'eq') value = next('an address', lower);
      const { address, port } = splitAddressPort(value, resolvePort, lower);
      if (address !== null) {
        const list = lower === 'src' ? expr.localAddresses : expr.remoteAddresses;
        // conditions are joined by 'and'; two different addresses for one end match nothing
        if (list.length > 0) throw new UsageError(`only one ${lower} address may be given`, `conditions are joined by 'and'; use a CIDR such as ${lower} 10.0.0.0/8`);
        list.push(address);
      }
      if (port !== null) andPort(lower === 'src' ? expr.localPorts : expr.remotePorts, port, lower);
      continue;
    }
    throw new UsageError(`unknown filter word '${word}'`, `filters are: state NAME, exclude NAME, sport/dport OP PORT, src/dst ADDR[/LEN] (see netdiag ${COMMAND} --help)`);
  }
  return expr;
}

/** Adds a port condition joined by 'and': the list keeps one selector, the intersection. */
function andPort(list: PortSelector[], sel: PortSelector, word: string): void {
  const prev = list[0];
  if (prev === undefined) {
    list.push(sel);
    return;
  }
  const a = typeof prev === 'number' ? { from: prev, to: prev } : prev;
  const b = typeof sel === 'number' ? { from: sel, to: sel } : sel;
  const from = Math.max(a.from, b.from), to = Math.min(a.to, b.to);
  if (from > to) throw new UsageError(`no port satisfies every ${word} condition`, `conditions are joined by 'and'; check the ${word} ranges`);
  list[0] = from === to ? from : { from, to };
}

function portRange(op: string, port: number | null, word: string): PortSelector | null {
  if (port === null) return null; // '*': any port
  switch (op) {
    case 'eq':
      return port;
    case 'ge':
      return { from: port, to: 65535 };
    case 'gt':
      if (port === 65535) throw new UsageError(`no port is greater than 65535`, `e.g. netdiag ${COMMAND} ${word} gt :1023`);
      return { from: port + 1, to: 65535 };
    case 'le':
      return { from: 0, to: port };
    case 'lt':
      if (port === 0) throw new UsageError(`no port is less than 0`, `e.g. netdiag ${COMMAND} ${word} lt :1024`);
      return { from: 0, to: port - 1 };
    default:
      throw new UsageError(`the port operator '${op === 'ne' ? '!=' : op}' is not supported`, `use =, <, <=, > or >= (e.g. ${word} >= :1024)`);
  }
}

/** 'ADDR', 'ADDR/LEN', 'ADDR:PORT', '[V6]:PORT', '*:PORT' */
function splitAddressPort(value: string, resolvePort: (name: string) => number | undefined, word: string): { address: string | null; port: PortSelector | null } {
  if (parseAddressPrefix(value)) return { address: value, port: null };
  let host = value;
  let portText: string | null = null;
  const bracket = /^\[([^\]]+)\](?:\/(\d+))?(?::(.+))?$/.exec(value);
  if (bracket) {
    host = bracket[1]! + (bracket[2] !== undefined ? `/${bracket[2]}` : '');
    portText = bracket[3] ?? null;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0 && value.indexOf(':') === colon) {
      host = value.slice(0, colon);
      portText = value.slice(colon + 1);
    }
  }
  const address = host === '*' || host === '' ? null : host;
  if (address !== null && !parseAddressPrefix(address)) {
    throw new UsageError(`'${value}' is not an address or CIDR`, `e.g. netdiag ${COMMAND} ${word} 127.0.0.1, ${word} 10.0.0.0/8 or ${word} [::1]:22`);
  }
  let port: PortSelector | null = null;
  if (portText !== null) {
    const p = parsePort(portText, resolvePort);
    if (p === undefined) throw new UsageError(`'${portText}' is not a port`, `e.g. netdiag ${COMMAND} ${word} 127.0.0.1:22`);
    port = p;
  }
  return { address, port };
}
