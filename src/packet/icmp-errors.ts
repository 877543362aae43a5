// What ICMP/ICMPv6 errors mean to the tools users compare us with: the message iputils ping prints
// ("From 10.0.0.1 icmp_seq=1 Destination Host Unreachable") and Linux traceroute's annotation
// after the times (" !H", " !F-1400"). Scripts parse both, so the strings match those tools
// (iputils ping/ping.c pr_icmph and ping/ping6_common.c print_icmp; traceroute's parse_icmp_res).

import type { IpFamily } from './address.js';
import { ICMPV4_TIME_EXCEEDED, ICMPV4_TYPE, ICMPV4_UNREACH, ICMPV6_TIME_EXCEEDED, ICMPV6_TYPE, ICMPV6_UNREACH } from './icmp.js';

/** Values from the ICMP header that some messages include. */
export interface IcmpErrorDetail {
  /** Next-hop MTU: ICMPv4 fragmentation needed, ICMPv6 packet too big. */
  mtu?: number | null;
  /** Parameter problem pointer. */
  pointer?: number | null;
  /** ICMPv4 redirect: the new next hop, as it should be printed. */
  gateway?: string | null;
}

/** iputils' text for ICMPv4 destination unreachable, indexed by code (4 takes the MTU, see icmpErrorMessage). */
export const IPV4_UNREACH_MESSAGES: readonly string[] = [
  'Destination Net Unreachable',
  'Destination Host Unreachable',
  'Destination Protocol Unreachable',
  'Destination Port Unreachable',
  'Frag needed and DF set',
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

const IPV4_REDIRECT_MESSAGES: readonly string[] = [
  'Redirect Network',
  'Redirect Host',
  'Redirect Type of Service and Network',
  'Redirect Type of Service and Host',
];

const IPV4_INFORMATIONAL_MESSAGES: ReadonlyMap<number, string> = new Map([
  [ICMPV4_TYPE.ECHO_REPLY, 'Echo Reply'],
  [ICMPV4_TYPE.SOURCE_QUENCH, 'Source Quench'],
  [ICMPV4_TYPE.ECHO_REQUEST, 'Echo Request'],
  [ICMPV4_TYPE.TIMESTAMP, 'Timestamp'],
  [ICMPV4_TYPE.TIMESTAMP_REPLY, 'Timestamp Reply'],
  [ICMPV4_TYPE.INFO_REQUEST, 'Information Request'],
  [ICMPV4_TYPE.INFO_REPLY, 'Information Reply'],
  [ICMPV4_TYPE.ADDRESS_MASK_REQUEST, 'Address Mask Request'],
  [ICMPV4_TYPE.ADDRESS_MASK_REPLY, 'Address Mask Reply'],
]);

/**
 * iputils' text for ICMPv6 destination unreachable, indexed by code, after "Destination unreachable: ".
 * Codes 5 and 6 are current iputils; Debian 12's iputils 20221126 prints "Unknown code 5"/"6".
 */
export const IPV6_UNREACH_MESSAGES: readonly string[] = [
  'No route',
  'Administratively prohibited',
  'Beyond scope of source address',
  'Address unreachable',
  'Port unreachable',
  'Source address failed ingress/egress policy',
  'Reject route to destination',
];

const IPV6_PARAMETER_PROBLEM_MESSAGES: readonly string[] = ['Wrong header field', 'Unknown header', 'Unknown option'];

const IPV6_INFORMATIONAL_MESSAGES: ReadonlyMap<number, string> = new Map([
  [ICMPV6_TYPE.ECHO_REQUEST, 'Echo request'],
  [ICMPV6_TYPE.ECHO_REPLY, 'Echo reply'],
  [ICMPV6_TYPE.MLD_QUERY, 'MLD Query'],
  [ICMPV6_TYPE.MLD_REPORT, 'MLD Report'],
  [ICMPV6_TYPE.MLD_REDUCTION, 'MLD Reduction'],
]);

/** The message iputils ping prints for this ICMPv4 type/code (without the "From ... icmp_seq=N " prefix). */
export function icmpv4ErrorMessage(type: number, code: number, detail?: IcmpErrorDetail): string {
  switch (type) {
    case ICMPV4_TYPE.DEST_UNREACH:
      if (code === ICMPV4_UNREACH.FRAG_NEEDED) return `Frag needed and DF set (mtu = ${detail?.mtu ?? 0})`;
      return IPV4_UNREACH_MESSAGES[code] ?? `Dest Unreachable, Bad Code: ${code}`;
    case ICMPV4_TYPE.REDIRECT:
      // iputils prints no space before the parenthesis.
      return `${IPV4_REDIRECT_MESSAGES[code] ?? `Redirect, Bad Code: ${code}`}(New nexthop: ${detail?.gateway ?? '0.0.0.0'})`;
    case ICMPV4_TYPE.TIME_EXCEEDED:
      if (code === ICMPV4_TIME_EXCEEDED.TTL) return 'Time to live exceeded';
      if (code === ICMPV4_TIME_EXCEEDED.REASSEMBLY) return 'Frag reassembly time exceeded';
      return `Time exceeded, Bad Code: ${code}`;
    case ICMPV4_TYPE.PARAMETER_PROBLEM:
      return `Parameter problem: pointer = ${detail?.pointer ?? 0}`;
    default:
      return IPV4_INFORMATIONAL_MESSAGES.get(type) ?? `Bad ICMP type: ${type}`;
  }
}

/** The message iputils ping -6 prints for this ICMPv6 type/code (without the "From ... icmp_seq=N " prefix). */
export function icmpv6ErrorMessage(type: number, code: number, detail?: IcmpErrorDetail): string {
  switch (type) {
    case ICMPV6_TYPE.DEST_UNREACH:
      return `Destination unreachable: ${IPV6_UNREACH_MESSAGES[code] ?? `Unknown code ${code}`}`;
    case ICMPV6_TYPE.PACKET_TOO_BIG:
      return `Packet too big: mtu=${detail?.mtu ?? 0}${code !== 0 ? `, code=${code}` : ''}`;
    case ICMPV6_TYPE.TIME_EXCEEDED:
      if (code === ICMPV6_TIME_EXCEEDED.HOP_LIMIT) return 'Time exceeded: Hop limit';
      if (code === ICMPV6_TIME_EXCEEDED.REASSEMBLY) return 'Time exceeded: Defragmentation failure';
      return `Time exceeded: code ${code}`;
    case ICMPV6_TYPE.PARAMETER_PROBLEM:
      return `Parameter problem: ${IPV6_PARAMETER_PROBLEM_MESSAGES[code] ?? `code ${code}`} at ${detail?.pointer ?? 0}`;
    default:
      return IPV6_INFORMATIONAL_MESSAGES.get(type) ?? `unknown icmp type: ${type}`;
  }
}

/** The iputils message for an ICMP (family 4) or ICMPv6 (family 6) message. */
export function icmpErrorMessage(family: IpFamily, type: number, code: number, detail?: IcmpErrorDetail): string {
  return family === 4 ? icmpv4ErrorMessage(type, code, detail) : icmpv6ErrorMessage(type, code, detail);
}

export interface TracerouteVerdict {
  /** Text traceroute prints after the time ('!H', '!F-1400', '!<13>', '!<12-0>'), or null for none. */
  annotation: string | null;
  /** The probe ends the trace at this hop (everything except time-exceeded in transit). */
  final: boolean;
  /** Port unreachable: the destination itself answered (UDP method), i.e. reached. */
  reached: boolean;
}

const TRANSIT: TracerouteVerdict = Object.freeze({ annotation: null, final: false, reached: false });
const REACHED: TracerouteVerdict = Object.freeze({ annotation: null, final: true, reached: true });

function finalWith(annotation: string): TracerouteVerdict {
  return { annotation, final: true, reached: false };
}

/** Linux traceroute's annotations for ICMPv4 destination unreachable codes that have a letter. */
const IPV4_UNREACH_ANNOTATIONS: ReadonlyMap<number, string> = new Map([
  [ICMPV4_UNREACH.NET, '!N'],
  [ICMPV4_UNREACH.NET_UNKNOWN, '!N'],
  [ICMPV4_UNREACH.HOST_ISOLATED, '!N'],
  [ICMPV4_UNREACH.NET_TOS, '!N'],
  [ICMPV4_UNREACH.HOST, '!H'],
  [ICMPV4_UNREACH.HOST_UNKNOWN, '!H'],
  [ICMPV4_UNREACH.HOST_TOS, '!H'],
  [ICMPV4_UNREACH.NET_PROHIBITED, '!X'],
  [ICMPV4_UNREACH.HOST_PROHIBITED, '!X'],
  [ICMPV4_UNREACH.FILTERED, '!X'],
  [ICMPV4_UNREACH.PROTOCOL, '!P'],
  [ICMPV4_UNREACH.SOURCE_ROUTE_FAILED, '!S'],
  [ICMPV4_UNREACH.PRECEDENCE_VIOLATION, '!V'],
  [ICMPV4_UNREACH.PRECEDENCE_CUTOFF, '!C'],
]);

const IPV6_UNREACH_ANNOTATIONS: ReadonlyMap<number, string> = new Map([
  [ICMPV6_UNREACH.NO_ROUTE, '!N'],
  [ICMPV6_UNREACH.BEYOND_SCOPE, '!H'],
  [ICMPV6_UNREACH.ADDRESS, '!H'],
  [ICMPV6_UNREACH.ADMIN_PROHIBITED, '!X'],
]);

/**
 * How Linux traceroute treats an ICMP/ICMPv6 error for a probe: its annotation, whether the hop
 * is final, and whether it means the destination was reached (port unreachable). `mtu` is used
 * for fragmentation needed / packet too big ('!F-<mtu>'). Echo replies and TCP answers are the
 * engine's business, not errors.
 */
export function tracerouteVerdict(family: IpFamily, type: number, code: number, mtu?: number | null): TracerouteVerdict {
  if (family === 4) {
    if (type === ICMPV4_TYPE.TIME_EXCEEDED && code === ICMPV4_TIME_EXCEEDED.TTL) return TRANSIT;
    if (type === ICMPV4_TYPE.DEST_UNREACH) {
      if (code === ICMPV4_UNREACH.PORT) return REACHED;
      if (code === ICMPV4_UNREACH.FRAG_NEEDED) return finalWith(`!F-${mtu ?? 0}`);
      return finalWith(IPV4_UNREACH_ANNOTATIONS.get(code) ?? `!<${code}>`);
    }
  } else {
    if (type === ICMPV6_TYPE.TIME_EXCEEDED && code === ICMPV6_TIME_EXCEEDED.HOP_LIMIT) return TRANSIT;
    if (type === ICMPV6_TYPE.DEST_UNREACH) {
      if (code === ICMPV6_UNREACH.PORT) return REACHED;
      return finalWith(IPV6_UNREACH_ANNOTATIONS.get(code) ?? `!<${code}>`);
    }
    if (type === ICMPV6_TYPE.PACKET_TOO_BIG) return finalWith(`!F-${mtu ?? 0}`);
  }
  return finalWith(`!<${type}-${code}>`);
}
