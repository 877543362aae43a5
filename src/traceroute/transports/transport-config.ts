// What a real transport is built with: the destination, the source, the flow and the options
// of its sockets, and the clock its stamps are on.
import type { TraceClock } from '../clock.js';
import type { TracerouteFlow } from '../types.js';

export interface TransportConfig {
  family: 4 | 6;
  /** destination address, a link-local one with its %ifname (as replies' sources are spelled) */
  target: string;
  /** sin6_scope_id of the sends: the interface of a link-local target; none (0) otherwise */
  scopeId?: number;
  /** the address probes leave from (see socket/source-address.ts) */
  source: string;
  /** destination port (udp, tcp, tcp-connect) */
  port: number;
  flow: TracerouteFlow;
  /** multipath discovery: hold what per-probe flows need (TCP SYN: a range of source ports) */
  multipath?: boolean;
  tos?: number;
  device?: string;
  /** DF and path MTU discovery probing (traceroute --mtu) */
  pmtu: 'dont' | 'probe';
  /** decode RFC 4884 extensions */
  extensions: boolean;
  clock: TraceClock;
}
