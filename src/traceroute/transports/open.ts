// Opening the sockets of a method in two steps, so the CLI can drop its capabilities in
// between: openMethodSockets() does what needs privilege (raw sockets, device binding) and knows
// only the family; createTransport() then binds, reserves ports, installs kernel filters and
// builds the transport once the destination is known. Which socket a method may use is decided
// here, with errors that name the missing knob.
import { writeAddress } from '../../socket/address-bytes.js';
import { FlowLabelLeases, LEASABLE_LABELS, useAutomaticFlowLabels } from '../../socket/flow-label-leases.js';
import { IcmpSocket } from '../../socket/icmp-socket.js';
import { acceptNothing, icmpV4ErrorQuotingPorts, icmpV6ErrorQuotingPorts, tcpToPorts } from '../../socket/probe-filters.js';
import { ProbeSocket } from '../../socket/probe-socket.js';
import { TcpPortRange } from '../../socket/tcp-port-range.js';
import { CAP_NET_RAW } from '../../capabilities.js';
import { optionRangeError, PrivilegeError } from '../../errors.js';
import { native } from '../../native.js';
import { chooseIcmpMode, rawAccess } from '../../privileges.js';
import type { ProbeTransport } from '../transport.js';
import type { TracerouteMethod, TracerouteSocketKind, TracerouteSocketRequest } from '../types.js';
import type { DrainingTransport } from './draining-transport.js';
import { IcmpTransport } from './icmp-transport.js';
import { randomInt } from './random-int.js';
import type { TransportConfig } from './transport-config.js';
import { CLASSIC_TCP_PORTS, MULTIPATH_TCP_PORTS, TcpSynTransport } from './tcp-syn-transport.js';
import { TcpConnectTransport } from './tcp-connect-transport.js';
import { UdpDgramTransport } from './udp-dgram-transport.js';
import { UdpRawTransport } from './udp-raw-transport.js';

export interface SocketSetup {
  method: TracerouteMethod;
  socket: TracerouteSocketRequest;
  tos?: number;
  device?: string;
  /** source address: ping and UDP sockets are bound to it when opened (raw ones later) */
  source?: string;
  pmtu: 'dont' | 'probe';
  /**
   * Multipath discovery to this IPv6 address: the flows' labels are leased as the sockets open,
   * while the process may still hold CAP_NET_ADMIN (without it the kernel leases 32 per socket)
   */
  flowLabelsFor?: string;
}

/** Flow labels leased up front for multipath discovery over IPv6 (flow-label-leases.ts); later flows lease their own. */
const RESERVED_FLOW_LABELS = 128;

/** Sockets opened for one family, waiting for a destination. */
export interface MethodSockets {
  readonly method: TracerouteMethod;
  readonly kind: TracerouteSocketKind;
  readonly family: 4 | 6;
  /** consumed by createTransport(); closes everything when not used */
  close(): void;
  /** @internal */
  readonly parts: { icmp?: IcmpSocket; probe?: ProbeSocket };
  /** @internal */
  readonly setup: SocketSetup;
  /** @internal flow labels leased for setup.flowLabelsFor, or null */
  readonly flowLabels: FlowLabelLeases | null;
}

/** The socket kind a method gets for a request; throws PrivilegeError naming the fix. */
export function chooseSocketKind(method: TracerouteMethod, request: TracerouteSocketRequest): TracerouteSocketKind {
  if (method === 'tcp-connect') {
    if (request === 'raw') throw optionRangeError('socket', '"auto" or "dgram" for method tcp-connect (it uses ordinary TCP sockets)', request);
    return 'stream';
  }
  if (method === 'icmp') return chooseIcmpMode(request);
  const raw = rawAccess();
  if (method === 'tcp') {
    if (request === 'dgram') throw optionRangeError('socket', '"auto" or "raw" for method tcp (SYN probes need a raw socket; tcp-connect needs none)', request);
    if (!raw.allowed) {
      throw new PrivilegeError(`TCP SYN probes need a raw socket: ${raw.reason}`, `${raw.fix}; or use --tcp-connect, which needs no privilege`);
    }
  } else if (request === 'dgram' || (request === 'auto' && !raw.allowed)) {
    return 'dgram';
  } else if (!raw.allowed) {
    throw new PrivilegeError(`raw UDP probes need ${raw.reason?.replace(/^raw ICMP sockets need /, '') ?? 'CAP_NET_RAW'}`, `${raw.fix}; or leave --socket at auto for unprivileged UDP probes`);
  }
  if (raw.via === 'permitted') native().raiseCapability(CAP_NET_RAW);
  return 'raw';
}

/** Opens what needs privilege for `family` (before capabilities are dropped). */
export function openMethodSockets(family: 4 | 6, setup: SocketSetup): MethodSockets {
  const kind = chooseSocketKind(setup.method, setup.socket);
  const C = native().constants;
  const parts: { icmp?: IcmpSocket; probe?: ProbeSocket } = {};
  const icmpOptions = { family, tos: setup.tos, device: setup.device, pmtu: setup.pmtu } as const;
  try {
    if (setup.method === 'icmp') {
      parts.icmp = new IcmpSocket({ ...icmpOptions, mode: kind as 'raw' | 'dgram', source: setup.source, receiveBuffer: 1 << 18 });
    } else if (setup.method === 'udp' && kind === 'dgram') {
      parts.probe = new ProbeSocket({ family, type: 'dgram', protocol: C.IPPROTO_UDP, tos: setup.tos, device: setup.device, pmtu: setup.pmtu, source: setup.source });
    } else if (setup.method === 'udp' || setup.method === 'tcp') {
      const protocol = setup.method === 'udp' ? C.IPPROTO_UDP : C.IPPROTO_TCP;
      // until the filters know our ports, the raw sockets take nothing
      parts.probe = new ProbeSocket({ family, type: 'raw', protocol, tos: setup.tos, device: setup.device, pmtu: setup.pmtu, filter: acceptNothing() });
      // it sends nothing: the pending error an ICMP error quoting an ICMP packet leaves on every
      // raw ICMP socket (one per such answer) is never the trace's, so reads step over it
      parts.icmp = new IcmpSocket({ ...icmpOptions, mode: 'raw', filterIdentifier: false, receiveBuffer: 1 << 18, readPastPendingErrors: true });
      parts.icmp.attachFilter(acceptNothing());
    }
  } catch (e) {
    parts.icmp?.close();
    parts.probe?.close();
    throw e;
  }
  const sending = parts.probe ?? parts.icmp;
  let flowLabels: FlowLabelLeases | null = null;
  // UDP sockets label their flows by port themselves (useAutomaticFlowLabels): no lease
  if (family === 6 && setup.flowLabelsFor !== undefined && sending && !(setup.method === 'udp' && kind === 'dgram')) {
    flowLabels = flowLabelLeases(sending.fd, setup.flowLabelsFor);
    flowLabels.reserve(RESERVED_FLOW_LABELS);
  }
  return {
    method: setup.method, kind, family, parts, setup, flowLabels,
    close: () => {
      parts.icmp?.close();
      parts.probe?.close();
    },
  };
}

/** A bound, unconnected UDP socket holding a local port for the life of a raw UDP trace. */
function reserveUdpPort(family: 4 | 6, source: string): ProbeSocket {
  const s = new ProbeSocket({ family, type: 'dgram', protocol: native().constants.IPPROTO_UDP });
  try {
    s.bind(source);
  } catch (e) {
    s.close();
    throw e;
  }
  return s;
}

function boundPort(s: ProbeSocket): number {
  return native().getsockname(s.fd).port ?? 0;
}

/** Multipath TCP flows are source ports: as many consecutive ones as a busy host still has free. */
function reserveFlowPorts(family: 4 | 6, source: string): TcpPortRange {
  return TcpPortRange.reserve(family, source, MULTIPATH_TCP_PORTS, MULTIPATH_TCP_PORTS >> 3);
}

function flowLabelLeases(fd: number, destination: string): FlowLabelLeases {
  return new FlowLabelLeases(fd, destinationBytes(destination), () => randomInt(1, LEASABLE_LABELS + 1));
}

function destinationBytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  writeAddress(address, bytes, 0);
  return bytes;
}

/**
 * Multipath over IPv6: the transport's flows carry flow labels: the kernel's own on a UDP socket
 * (they follow the ports), else leased ones (those leased at open when they are for its destination).
 */
function labelled<T extends DrainingTransport>(transport: T, sockets: MethodSockets, config: TransportConfig, fd: number): T {
  if (config.family === 6 && config.multipath) {
    if (sockets.method === 'udp' && sockets.kind === 'dgram' && useAutomaticFlowLabels(fd)) {
      transport.useFlowLabels('automatic');
      return transport;
    }
    const leased = sockets.flowLabels;
    transport.useFlowLabels(leased !== null && leased.isFor(destinationBytes(config.target)) ? leased : flowLabelLeases(fd, config.target));
  }
  return transport;
}

/** Builds the transport on opened sockets for a destination (no privilege needed any more). */
export function createTransport(sockets: MethodSockets, config: TransportConfig): ProbeTransport {
  const { parts, method, kind, family } = sockets;
  const C = native().constants;
  const source = config.source;
  try {
    if (method === 'tcp-connect') {
      sockets.close();
      return new TcpConnectTransport(config);
    }
    if (method === 'icmp') return labelled(new IcmpTransport(parts.icmp!, config), sockets, config, parts.icmp!.fd);
    if (method === 'udp' && kind === 'dgram') return labelled(new UdpDgramTransport(parts.probe!, config), sockets, config, parts.probe!.fd);
    const probe = parts.probe!;
    const icmp = parts.icmp!;
    probe.bind(source);
    if (method === 'udp') {
      const holder = reserveUdpPort(family, source);
      const port = boundPort(holder);
      icmp.attachFilter(family === 4 ? icmpV4ErrorQuotingPorts(C.IPPROTO_UDP, port, port) : icmpV6ErrorQuotingPorts(C.IPPROTO_UDP, port, port));
      return labelled(new UdpRawTransport(probe, icmp, port, config, () => holder.close()), sockets, config, probe.fd);
    }
    // Paris keeps one source port; classic counts up through a range; multipath flows are source ports
    const ports = config.flow === 'classic' ? TcpPortRange.reserveExactly(family, source, CLASSIC_TCP_PORTS)
      : config.multipath ? reserveFlowPorts(family, source) : TcpPortRange.reserveExactly(family, source, 1);
    const lo = ports.first;
    const hi = ports.last;
    probe.attachFilter(tcpToPorts(family, lo, hi));
    icmp.attachFilter(family === 4 ? icmpV4ErrorQuotingPorts(C.IPPROTO_TCP, lo, hi) : icmpV6ErrorQuotingPorts(C.IPPROTO_TCP, lo, hi));
    return labelled(new TcpSynTransport(probe, icmp, lo, config, () => ports.close(), config.multipath ? hi - lo + 1 : 0), sockets, config, probe.fd);
  } catch (e) {
    sockets.close();
    throw e;
  }
}
