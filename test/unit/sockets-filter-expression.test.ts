// ss's filter words as netdiag sockets reads them: state/exclude and groups, sport/dport
// with operators and ':port' or service names, src/dst with addresses, CIDRs and ports.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseFilterExpression } from '../../src/cli/sockets/filter-expression.js';
import { ALL_STATES, stateSelectorMask } from '../../src/sockets/states.js';

const services: Record<string, number> = { ssh: 22, https: 443 };
const parse = (...args: string[]) => parseFilterExpression(args, (n) => services[n]);
const mask = (name: string): number => stateSelectorMask(name)!;

describe('parseFilterExpression', () => {
  it('reads states like ss: state adds, exclude removes from all', () => {
    expect(parse().stateMask).toBeNull();
    expect(parse('state', 'established').stateMask).toBe(mask('established'));
    expect(parse('state', 'established', 'state', 'time-wait').stateMask).toBe(mask('established') | mask('time-wait'));
    expect(parse('exclude', 'listening').stateMask).toBe(ALL_STATES & ~mask('listening'));
    expect(parse('state', 'connected', 'excl', 'syn-sent').stateMask).toBe(mask('connected') & ~mask('syn-sent'));
  });

  it('reads port conditions with every operator, :port and service names', () => {
    expect(parse('sport', '=', ':22').localPorts).toEqual([22]);
    expect(parse('sport', ':ssh').localPorts).toEqual([22]);
    expect(parse('dport', 'ge', ':1024').remotePorts).toEqual([{ from: 1024, to: 65535 }]);
    expect(parse('dport', '>', '1023').remotePorts).toEqual([{ from: 1024, to: 65535 }]);
    expect(parse('dport', '<', ':1024').remotePorts).toEqual([{ from: 0, to: 1023 }]);
    expect(parse('dport', 'le', 'https').remotePorts).toEqual([{ from: 0, to: 443 }]);
    expect(parse('sport', '=', ':*').localPorts).toEqual([]);
  });

  it('reads one quoted argument with brackets and and', () => {
    expect(parse('( sport = :ssh and dport >= :1024 )')).toEqual({
      stateMask: null,
      localPorts: [22],
      remotePorts: [{ from: 1024, to: 65535 }],
      localAddresses: [],
      remoteAddresses: [],
    });
    expect(parse('state', 'established', '(sport = :443)').localPorts).toEqual([443]);
  });

  it('reads addresses, CIDRs and address:port', () => {
    expect(parse('src', '10.0.0.0/8')).toMatchObject({ localAddresses: ['10.0.0.0/8'], localPorts: [] });
    expect(parse('dst', '127.0.0.1:5432')).toMatchObject({ remoteAddresses: ['127.0.0.1'], remotePorts: [5432] });
    expect(parse('dst', '[::1]:ssh')).toMatchObject({ remoteAddresses: ['::1'], remotePorts: [22] });
    expect(parse('src', '::1')).toMatchObject({ localAddresses: ['::1'], localPorts: [] });
    expect(parse('src', '*:22')).toMatchObject({ localAddresses: [], localPorts: [22] });
    expect(parse('src', '=', '[fe80::]/10')).toMatchObject({ localAddresses: ['[fe80::]/10'] });
  });

  it('rejects what it cannot read with a UsageError that says how', () => {
    const cases: [string[], RegExp][] = [
      [['state'], /'state' needs a state name/],
      [['state', 'establishd'], /unknown socket state 'establishd'/],
      [['sport', '=', ':nosuchservice'], /':nosuchservice' is not a port/],
      [['sport', '=', '70000'], /'70000' is not a port/],
      [['dport', '!=', ':22'], /operator '!=' is not supported/],
      [['sport', '=', ':22', 'or', 'dport', '=', ':22'], /operator 'or' is not supported/],
      [['not', 'sport', ':22'], /operator 'not' is not supported/],
      [['src', 'example.com'], /'example.com' is not an address or CIDR/],
      [['dport', 'gt', ':65535'], /no port is greater than 65535/],
      [['frobnicate'], /unknown filter word 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      let err: unknown;
      try {
        parse(...args);
      } catch (e) {
        err = e;
      }
      expect(err, args.join(' ')).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('parseFilterExpression grammar (ss syntax: parentheses, not > and > or)', () => {
  const failure = (...args: string[]): string => {
    try {
      parse(...args);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error(`'${args.join(' ')}' parsed without an error`);
  };

  it('refuses unbalanced parentheses and says where', () => {
    expect(failure('(', 'sport', '=', ':80')).toMatch(/the '\(' at column 1 of the filter is never closed/);
    expect(failure('sport', '=', ':80', ')')).toMatch(/unbalanced '\)' at column 13/);
    expect(failure('( sport = :80 ) )')).toMatch(/unbalanced '\)' at column 17/);
    expect(failure('((sport = :80)')).toMatch(/the '\(' at column 1 of the filter is never closed/);
    expect(failure(')')).toMatch(/unbalanced '\)' at column 1/);
    expect(failure('(', ')')).toMatch(/'\(\)' at column 1 of the filter holds no condition/);
  });

  it('refuses a dangling operator and says where', () => {
    expect(failure('sport', '=', ':80', 'and')).toMatch(/'and' at column 13 of the filter needs a condition after it/);
    expect(failure('and', 'sport', '=', ':80')).toMatch(/'and' at column 1 of the filter has no condition before it/);
    expect(failure('sport = :80 and and dport = :1')).toMatch(/'and' at column 13 of the filter needs a condition after it/);
    expect(failure('sport = :80 or')).toMatch(/'or' at column 13 of the filter needs a condition after it/);
    expect(failure('not')).toMatch(/'not' at column 1 of the filter needs a condition after it/);
    expect(failure('( sport = :80 and )')).toMatch(/'and' at column 15 of the filter needs a condition after it/);
    expect(failure('sport', 'and')).toMatch(/'sport' needs a port at column 7 of the filter/);
    expect(failure('state')).toMatch(/'state' needs a state name at the end of the filter/);
  });

  it('caps the nesting depth instead of recursing without bound', () => {
    expect(failure('('.repeat(1000))).toMatch(/nests more than 64 levels deep at column 65/);
    expect(failure(...Array(1000).fill('not'), 'sport', ':1')).toMatch(/nests more than 64 levels deep/);
    // 64 levels are fine
    expect(parse('('.repeat(64) + 'sport = :22' + ')'.repeat(64)).localPorts).toEqual([22]);
  });

  it('joins adjacent terms with and, as ss does, through any parentheses', () => {
    const joined = { localPorts: [22], remotePorts: [{ from: 1024, to: 65535 }] };
    expect(parse('sport = :22 dport >= :1024')).toMatchObject(joined);
    expect(parse('sport = :22 && dport >= :1024')).toMatchObject(joined);
    expect(parse('(sport = :22) (dport >= :1024)')).toMatchObject(joined);
    expect(parse('((sport = :22 and (dport >= :1024)))')).toMatchObject(joined);
    expect(parse('state established ( sport = :22 ) dport >= :1024')).toMatchObject({ ...joined, stateMask: mask('established') });
  });

  it('parses or and not with their precedence before refusing them at the operator', () => {
    // the whole filter is checked first: a syntax error wins over the unsupported operator
    expect(failure('sport = :22 or (dport = :1')).toMatch(/never closed/);
    expect(failure('sport = :22 and dport = :1 or sport = :3')).toMatch(/operator 'or' is not supported at column 28/);
    expect(failure('sport = :22 ! dport = :1')).toMatch(/operator '!' is not supported at column 13/);
    expect(failure('( not sport = :22 )')).toMatch(/operator 'not' is not supported at column 3/);
  });

  it('names the column of an unknown word', () => {
    expect(failure('sport = :22 frob')).toMatch(/unknown filter word 'frob' at column 13/);
    expect(failure('( sport = :22 frob )')).toMatch(/unknown filter word 'frob' at column 15/);
  });
});
