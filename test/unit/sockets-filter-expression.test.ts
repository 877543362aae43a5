// ss's filter words as netdiag sockets reads them: state/exclude and groups, sport/dport
// with operators and ':port' or service names, src/dst with addresses, CIDRs and ports.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseFilterExpression } from '../../src/sockets/filter-expression.js';
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
