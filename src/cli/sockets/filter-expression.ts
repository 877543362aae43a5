// The part of ss's filter language that netdiag understands, for the positional arguments of
// `netdiag sockets`. The whole grammar is parsed, as ss parses it:
//
//   expr    := and ( ('or' | '||' | '|') and )*
//   and     := unary ( ('and' | '&&' | '&')? unary )*      adjacent terms are joined by 'and'
//   unary   := ('not' | '!') unary | '(' expr ')' | condition
//   condition := state NAME | exclude NAME | sport [OP] PORT | dport [OP] PORT
//              | src [=] ADDR[/LEN][:PORT] | dst [=] ...
//
// with the operators = == eq != ne > gt >= ge < lt <= le and ss's ':port' spelling. Syntax
// errors (an unbalanced parenthesis, a dangling 'and', nesting past MAX_DEPTH) name the column
// where they are. What parses but cannot be listed ('or', 'not') is rejected with a UsageError
// rather than misread: the listing combines conditions with 'and' only.
import { UsageError } from '../../errors.js';
import { parseAddressPrefix } from '../../sockets/inet-address.js';
import { ALL_STATES, stateSelectorMask } from '../../sockets/states.js';
import type { PortSelector } from '../../sockets/types.js';

export interface FilterExpression {
  /** bits to keep; null when the expression names no state */
  stateMask: number | null;
  localPorts: PortSelector[];
  remotePorts: PortSelector[];
  localAddresses: string[];
  remoteAddresses: string[];
}

const COMMAND = 'sockets';
/** Deepest nesting of '(' and 'not' accepted: enough for any real filter, bounded recursion. */
export const MAX_FILTER_DEPTH = 64;

interface Token {
  text: string;
  /** 1-based column in the filter as the arguments read joined by spaces */
  column: number;
}

type Condition =
  | { kind: 'state'; mask: number }
  | { kind: 'exclude'; mask: number }
  | { kind: 'port'; word: 'sport' | 'dport'; range: PortSelector | null }
  | { kind: 'address'; word: 'src' | 'dst'; address: string | null; port: PortSelector | null; column: number };

type Node =
  | { kind: 'condition'; condition: Condition }
  | { kind: 'and'; items: Node[] }
  | { kind: 'or' | 'not'; token: Token; items: Node[] };

const AND_WORDS = new Set(['and', '&&', '&']);
const OR_WORDS = new Set(['or', '||', '|']);
const NOT_WORDS = new Set(['not', '!']);
const CONDITION_WORDS = new Set(['state', 'exclude', 'excl', 'sport', 'dport', 'src', 'dst']);

function tokenize(args: readonly string[]): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  for (const a of args) {
    for (const m of a.matchAll(/[()]|[^\s()]+/g)) tokens.push({ text: m[0], column: offset + m.index! + 1 });
    offset += a.length + 1;
  }
  return tokens;
}

const at = (t: Token | undefined): string => (t === undefined ? 'at the end of the filter' : `at column ${t.column}`);

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
  const tree = new FilterParser(tokenize(args), resolvePort).parse();
  const expr: FilterExpression = { stateMask: null, localPorts: [], remotePorts: [], localAddresses: [], remoteAddresses: [] };
  if (tree === null) return expr;
  const unsupported = firstUnsupported(tree);
  if (unsupported !== null) {
    throw new UsageError(`the filter operator '${unsupported.text}' is not supported ${at(unsupported)}`, `netdiag ${COMMAND} combines conditions with 'and' only; run it once per alternative`);
  }
  lower(tree, expr, { sawState: false });
  return expr;
}

/** Recursive descent over the tokens; every syntax error names its column. */
class FilterParser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly resolvePort: (name: string) => number | undefined,
  ) {}

  /** The whole filter; null when there is none. */
  parse(): Node | null {
    if (this.tokens.length === 0) return null;
    const tree = this.orExpr();
    const stray = this.tokens[this.i];
    if (stray !== undefined) {
      // orExpr stops only at ')' or a word no term starts with
      if (stray.text === ')') throw new UsageError(`unbalanced ')' ${at(stray)} of the filter`, "remove it or add the '(' it closes");
      throw unknownWord(stray);
    }
    return tree;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private orExpr(): Node {
    const first = this.andExpr();
    let t = this.peek();
    if (t === undefined || !OR_WORDS.has(t.text.toLowerCase())) return first;
    const node: Node = { kind: 'or', token: t, items: [first] };
    while (t !== undefined && OR_WORDS.has(t.text.toLowerCase())) {
      this.i++;
      node.items.push(this.andExpr(t));
      t = this.peek();
    }
    return node;
  }

  /** `after`: the operator this operand follows, for the message when it is missing. */
  private andExpr(after?: Token): Node {
    const items = [this.unary(after)];
    for (;;) {
      const t = this.peek();
      if (t === undefined) break;
      const word = t.text.toLowerCase();
      if (AND_WORDS.has(word)) {
        this.i++;
        items.push(this.unary(t));
      } else if (startsTerm(t)) {
        items.push(this.unary()); // ss joins adjacent terms with 'and'
      } else break;
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private unary(after?: Token): Node {
    const t = this.peek();
    if (t === undefined || !startsTerm(t)) {
      if (after !== undefined) throw new UsageError(`'${after.text}' ${at(after)} of the filter needs a condition after it`, `e.g. netdiag ${COMMAND} sport = :22 ${after.text} dport = :443`);
      if (t === undefined) throw new UsageError('the filter ends where a condition should be', `e.g. netdiag ${COMMAND} sport = :22`);
      if (t.text === ')') throw new UsageError(`unbalanced ')' ${at(t)} of the filter`, "remove it or add the '(' it closes");
      if (AND_WORDS.has(t.text.toLowerCase()) || OR_WORDS.has(t.text.toLowerCase())) {
        throw new UsageError(`'${t.text}' ${at(t)} of the filter has no condition before it`, `e.g. netdiag ${COMMAND} sport = :22 ${t.text} dport = :443`);
      }
      throw unknownWord(t);
    }
    this.i++;
    const word = t.text.toLowerCase();
    if (t.text === '(' || NOT_WORDS.has(word)) {
      if (++this.depth > MAX_FILTER_DEPTH) {
        throw new UsageError(`the filter nests more than ${MAX_FILTER_DEPTH} levels deep ${at(t)}`, "use fewer '(' and 'not'");
      }
      let node: Node;
      if (t.text === '(') {
        if (this.peek()?.text === ')') throw new UsageError(`'()' ${at(t)} of the filter holds no condition`, "put a condition between the parentheses or remove them");
        node = this.orExpr();
        const close = this.peek();
        if (close === undefined || close.text !== ')') {
          if (close !== undefined && !startsTerm(close)) throw unknownWord(close);
          throw new UsageError(`the '(' ${at(t)} of the filter is never closed`, "add the ')' that closes it");
        }
        this.i++;
      } else {
        node = { kind: 'not', token: t, items: [this.unary(t)] };
      }
      this.depth--;
      return node;
    }
    return { kind: 'condition', condition: this.condition(t) };
  }

  /** The word's argument: a token that is no parenthesis and no operator. */
  private argument(what: string, after: string): Token {
    const t = this.peek();
    if (t === undefined || t.text === '(' || t.text === ')' || isOperatorWord(t)) {
      throw new UsageError(`'${after}' needs ${what} ${at(t)} of the filter`, `e.g. netdiag ${COMMAND} ${after === 'state' || after === 'exclude' ? `${after} established` : `${after} = :22`}`);
    }
    this.i++;
    return t;
  }

  private condition(t: Token): Condition {
    const lower = t.text.toLowerCase();
    if (lower === 'state' || lower === 'exclude' || lower === 'excl') {
      const kind = lower === 'state' ? 'state' : 'exclude';
      const name = this.argument('a state name', kind).text;
      const mask = stateSelectorMask(name);
      if (mask === undefined) {
        throw new UsageError(`unknown socket state '${name}'`, 'use a state such as established, listening, time-wait, syn-sent, or a group: all, connected, synchronized, bucket, big');
      }
      return { kind, mask };
    }
    if (lower === 'sport' || lower === 'dport') {
      let op = 'eq';
      let value = this.argument('a port', lower).text;
      if (OPERATORS[value.toLowerCase()] !== undefined) {
        op = OPERATORS[value.toLowerCase()]!;
        value = this.argument('a port', `${lower} ${value}`).text;
      }
      const port = parsePort(value, this.resolvePort);
      if (port === undefined) throw new UsageError(`'${value}' is not a port`, `e.g. netdiag ${COMMAND} ${lower} = :22`);
      return { kind: 'port', word: lower, range: portRange(op, port, lower) };
    }
    const word = lower as 'src' | 'dst';
    let value = this.argument('an address', word).text;
    if (value === '=' || value === '==' || value.toLowerCase() === 'eq') value = this.argument('an address', word).text;
    const { address, port } = splitAddressPort(value, this.resolvePort, word);
    return { kind: 'address', word, address, port, column: t.column };
  }
}

function startsTerm(t: Token): boolean {
  const word = t.text.toLowerCase();
  return t.text === '(' || NOT_WORDS.has(word) || CONDITION_WORDS.has(word);
}

function isOperatorWord(t: Token): boolean {
  const word = t.text.toLowerCase();
  return AND_WORDS.has(word) || OR_WORDS.has(word) || NOT_WORDS.has(word);
}

function unknownWord(t: Token): UsageError {
  return new UsageError(`unknown filter word '${t.text}' ${at(t)}`, `filters are: state NAME, exclude NAME, sport/dport OP PORT, src/dst ADDR[/LEN], joined by and, in ( ) (see netdiag ${COMMAND} --help)`);
}

/** The first 'or' or 'not' in the filter (in reading order): they have no listing form. */
function firstUnsupported(node: Node): Token | null {
  if (node.kind === 'or' || node.kind === 'not') return node.token;
  if (node.kind === 'and') {
    for (const item of node.items) {
      const t = firstUnsupported(item);
      if (t !== null) return t;
    }
  }
  return null;
}

/** Applies the conditions of an 'and' tree in order. */
function lower(node: Node, expr: FilterExpression, state: { sawState: boolean }): void {
  if (node.kind !== 'condition') {
    for (const item of node.items) lower(item, expr, state);
    return;
  }
  const c = node.condition;
  if (c.kind === 'state') {
    expr.stateMask = (state.sawState ? (expr.stateMask ?? 0) : 0) | c.mask;
    state.sawState = true;
  } else if (c.kind === 'exclude') {
    expr.stateMask = (state.sawState ? (expr.stateMask ?? ALL_STATES) : ALL_STATES) & ~c.mask;
    state.sawState = true;
  } else if (c.kind === 'port') {
    if (c.range !== null) andPort(c.word === 'sport' ? expr.localPorts : expr.remotePorts, c.range, c.word);
  } else {
    if (c.address !== null) {
      const list = c.word === 'src' ? expr.localAddresses : expr.remoteAddresses;
      // conditions are joined by 'and'; two different addresses for one end match nothing
      if (list.length > 0) throw new UsageError(`only one ${c.word} address may be given (the second is at column ${c.column})`, `conditions are joined by 'and'; use a CIDR such as ${c.word} 10.0.0.0/8`);
      list.push(c.address);
    }
    if (c.port !== null) andPort(c.word === 'src' ? expr.localPorts : expr.remotePorts, c.port, c.word);
  }
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
