import { describe, expect, it } from 'vitest';
import { IPV4_UNREACH_MESSAGES, IPV6_UNREACH_MESSAGES, icmpErrorMessage, icmpv4ErrorMessage, icmpv6ErrorMessage, tracerouteVerdict } from '../../src/packet/index.js';

// Expected strings are what iputils ping prints (ping/ping.c pr_icmph, ping/ping6_common.c print_icmp).
describe('iputils messages, ICMPv4', () => {
  const unreachable = [
    'Destination Net Unreachable',
    'Destination Host Unreachable',
    'Destination Protocol Unreachable',
    'Destination Port Unreachable',
    'Frag needed and DF set (mtu = 1400)',
    'Source Route Failed',
    'Destination Net Unknown',
    'Destination Host Unknown',
    'Source Host Isolated',
    'Destination Net Prohibited',
    'Destination Host Prohibited',
    'Destination Net Unreachable for Type of Service',
    'Destination Host Unreachable for Type of Service',
    'Packet filtered',
    'Precedence Violation',
    'Precedence Cutoff',
  ];

  it('has every destination-unreachable code 0–15', () => {
    for (let code = 0; code <= 15; code++) expect(icmpv4ErrorMessage(3, code, { mtu: 1400 }), `code ${code}`).toBe(unreachable[code]);
    expect(IPV4_UNREACH_MESSAGES).toHaveLength(16);
    expect(icmpv4ErrorMessage(3, 16)).toBe('Dest Unreachable, Bad Code: 16');
    expect(icmpv4ErrorMessage(3, 4)).toBe('Frag needed and DF set (mtu = 0)');
  });

  it('has time exceeded, parameter problem, source quench, redirects', () => {
    expect(icmpv4ErrorMessage(11, 0)).toBe('Time to live exceeded');
    expect(icmpv4ErrorMessage(11, 1)).toBe('Frag reassembly time exceeded');
    expect(icmpv4ErrorMessage(11, 2)).toBe('Time exceeded, Bad Code: 2');
    expect(icmpv4ErrorMessage(12, 0, { pointer: 9 })).toBe('Parameter problem: pointer = 9');
    expect(icmpv4ErrorMessage(4, 0)).toBe('Source Quench');
    const gw = { gateway: '10.0.0.254' };
    expect(icmpv4ErrorMessage(5, 0, gw)).toBe('Redirect Network(New nexthop: 10.0.0.254)');
    expect(icmpv4ErrorMessage(5, 1, gw)).toBe('Redirect Host(New nexthop: 10.0.0.254)');
    expect(icmpv4ErrorMessage(5, 2, gw)).toBe('Redirect Type of Service and Network(New nexthop: 10.0.0.254)');
    expect(icmpv4ErrorMessage(5, 3, gw)).toBe('Redirect Type of Service and Host(New nexthop: 10.0.0.254)');
    expect(icmpv4ErrorMessage(5, 9, gw)).toBe('Redirect, Bad Code: 9(New nexthop: 10.0.0.254)');
  });

  it('names the other types like iputils and flags unknown ones', () => {
    expect([0, 8, 13, 14, 15, 16, 17, 18].map((t) => icmpv4ErrorMessage(t, 0))).toEqual([
      'Echo Reply', 'Echo Request', 'Timestamp', 'Timestamp Reply', 'Information Request', 'Information Reply',
      'Address Mask Request', 'Address Mask Reply',
    ]);
    expect(icmpv4ErrorMessage(42, 0)).toBe('Bad ICMP type: 42');
  });
});

describe('iputils messages, ICMPv6', () => {
  const unreachable = [
    'Destination unreachable: No route',
    'Destination unreachable: Administratively prohibited',
    'Destination unreachable: Beyond scope of source address',
    'Destination unreachable: Address unreachable',
    'Destination unreachable: Port unreachable',
    'Destination unreachable: Source address failed ingress/egress policy',
    'Destination unreachable: Reject route to destination',
    'Destination unreachable: Unknown code 7',
  ];

  it('has every destination-unreachable code 0–7', () => {
    for (let code = 0; code <= 7; code++) expect(icmpv6ErrorMessage(1, code), `code ${code}`).toBe(unreachable[code]);
    expect(IPV6_UNREACH_MESSAGES).toHaveLength(7);
  });

  it('has packet too big, time exceeded, parameter problem', () => {
    expect(icmpv6ErrorMessage(2, 0, { mtu: 1400 })).toBe('Packet too big: mtu=1400');
    expect(icmpv6ErrorMessage(2, 1, { mtu: 1280 })).toBe('Packet too big: mtu=1280, code=1');
    expect(icmpv6ErrorMessage(3, 0)).toBe('Time exceeded: Hop limit');
    expect(icmpv6ErrorMessage(3, 1)).toBe('Time exceeded: Defragmentation failure');
    expect(icmpv6ErrorMessage(3, 2)).toBe('Time exceeded: code 2');
    expect(icmpv6ErrorMessage(4, 0, { pointer: 6 })).toBe('Parameter problem: Wrong header field at 6');
    expect(icmpv6ErrorMessage(4, 1, { pointer: 40 })).toBe('Parameter problem: Unknown header at 40');
    expect(icmpv6ErrorMessage(4, 2, { pointer: 42 })).toBe('Parameter problem: Unknown option at 42');
    expect(icmpv6ErrorMessage(4, 3, { pointer: 0 })).toBe('Parameter problem: code 3 at 0');
  });

  it('names informational types and flags unknown ones', () => {
    expect([128, 129, 130, 131, 132].map((t) => icmpv6ErrorMessage(t, 0))).toEqual(['Echo request', 'Echo reply', 'MLD Query', 'MLD Report', 'MLD Reduction']);
    expect(icmpv6ErrorMessage(200, 0)).toBe('unknown icmp type: 200');
  });

  it('dispatches on family', () => {
    expect(icmpErrorMessage(4, 3, 1)).toBe('Destination Host Unreachable');
    expect(icmpErrorMessage(6, 1, 0)).toBe('Destination unreachable: No route');
  });
});

// Expected annotations are Linux traceroute's parse_icmp_res.
describe('traceroute annotations', () => {
  it('maps every ICMPv4 destination-unreachable code', () => {
    const expected = ['!N', '!H', '!P', null, '!F-1400', '!S', '!N', '!H', '!N', '!X', '!X', '!N', '!H', '!X', '!V', '!C'];
    for (let code = 0; code <= 15; code++) {
      const v = tracerouteVerdict(4, 3, code, 1400);
      expect(v.annotation, `code ${code}`).toBe(expected[code]);
      expect(v.final).toBe(true);
      expect(v.reached).toBe(code === 3);
    }
    expect(tracerouteVerdict(4, 3, 16).annotation).toBe('!<16>');
    expect(tracerouteVerdict(4, 3, 4).annotation).toBe('!F-0');
  });

  it('continues past TTL exceeded and ends on anything else', () => {
    expect(tracerouteVerdict(4, 11, 0)).toEqual({ annotation: null, final: false, reached: false });
    expect(tracerouteVerdict(4, 11, 1)).toEqual({ annotation: '!<11-1>', final: true, reached: false });
    expect(tracerouteVerdict(4, 12, 0).annotation).toBe('!<12-0>');
    expect(tracerouteVerdict(4, 4, 0).annotation).toBe('!<4-0>');
    expect(tracerouteVerdict(4, 5, 1).annotation).toBe('!<5-1>');
  });

  it('maps every ICMPv6 destination-unreachable code and the other ICMPv6 errors', () => {
    const expected = ['!N', '!X', '!H', '!H', null, '!<5>', '!<6>', '!<7>'];
    for (let code = 0; code <= 7; code++) {
      const v = tracerouteVerdict(6, 1, code);
      expect(v.annotation, `code ${code}`).toBe(expected[code]);
      expect(v.final).toBe(true);
      expect(v.reached).toBe(code === 4);
    }
    expect(tracerouteVerdict(6, 2, 0, 1280)).toEqual({ annotation: '!F-1280', final: true, reached: false });
    expect(tracerouteVerdict(6, 3, 0)).toEqual({ annotation: null, final: false, reached: false });
    expect(tracerouteVerdict(6, 3, 1).annotation).toBe('!<3-1>');
    expect(tracerouteVerdict(6, 4, 1).annotation).toBe('!<4-1>');
  });
});
