// Text output of `netdiag traceroute`, shaped like Linux traceroute so scripts and eyes that know
// it keep working: the header line, then per hop "%2u " and for each probe " *" or the address
// (when it differs from the previous answer), "  %.3f ms", and the annotation.
import type { TracerouteHop, TracerouteProbe } from '../../traceroute/types.js';

export interface TraceTextOptions {
  /** print names as "name (address)"; -n prints addresses only */
  names: boolean;
  /** print RFC 4884 extensions as " <MPLS:...>" (traceroute -e) */
  extensions: boolean;
}

export function traceHeader(target: string, address: string, maxTtl: number, packetLength: number): string {
  return `traceroute to ${target} (${address}), ${maxTtl} hops max, ${packetLength} byte packets\n`;
}

function addressText(p: TracerouteProbe, opts: TraceTextOptions): string {
  let s = opts.names ? ` ${p.name ?? p.address} (${p.address})` : ` ${p.address}`;
  if (opts.extensions && p.extensions) s += ` <${p.extensions}>`;
  if (p.flags.includes('nat')) s += ' [NAT]';
  return s;
}

/** One hop line, newline included. */
export function hopLine(hop: TracerouteHop, opts: TraceTextOptions): string {
  let line = hop.ttl.toString().padStart(2) + ' ';
  let previous: TracerouteProbe | null = null;
  for (const p of hop.probes) {
    if (p.address === null) {
      line += ' *';
    } else {
      const differs = previous === null || previous.address !== p.address || (opts.extensions && previous.extensions !== p.extensions);
      if (differs) line += addressText(p, opts);
      previous = p;
    }
    if (p.rtt !== null) line += `  ${p.rtt.toFixed(3)} ms`;
    if (p.annotation) line += ` ${p.annotation}`;
    else if (p.mtu !== null) line += ` F=${p.mtu}`;
  }
  return line + '\n';
}
