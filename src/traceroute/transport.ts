// What the traceroute engine needs from a probe method, as interfaces: send probes with a TTL,
// report answers, forget probes whose outcome is decided. The real transports (transports/)
// wrap raw, ping, UDP and TCP sockets; unit tests and the report runner use the same interface.
import type { MplsLabel, TracerouteFlow, TracerouteMethod, TracerouteProbeFlag, TracerouteSocketKind } from './types.js';

export interface ProbeRequest {
  /** session-unique id; answers carry it back */
  id: number;
  ttl: number;
  /** total IP packet length, headers included */
  length: number;
  /**
   * Multipath discovery: the flow identifier, 0 … flowIds - 1. Probes with the same value carry
   * the same fields a per-flow load balancer hashes (ports, ICMP checksum); different values
   * differ. Left out: the transport's own flow (Paris or classic).
   */
  flow?: number;
}

export type SendOutcome =
  /** sent; stamp = send time on the clock's stamp base */
  | { kind: 'sent'; stamp: number }
  /** EAGAIN / ENOBUFS: nothing went out, try again a little later */
  | { kind: 'retry' }
  /** the kernel refused the size (EMSGSIZE with DF): mtu is the local limit */
  | { kind: 'too-big'; mtu: number };

export interface ProbeReply {
  id: number;
  /** receive time on the clock's stamp base */
  stamp: number;
  from: string;
  icmp: { type: number; code: number } | null;
  annotation: string | null;
  /** the trace ends at this hop (destination reached, or an unreachable) */
  final: boolean;
  /** the destination itself answered */
  reached: boolean;
  /** MTU carried by fragmentation-needed / packet-too-big, else null */
  mtu: number | null;
  mpls: MplsLabel[];
  extensions: string | null;
  replyTtl: number | null;
  flags: TracerouteProbeFlag[];
}

export interface ProbeTransport {
  readonly method: TracerouteMethod;
  readonly socket: TracerouteSocketKind;
  readonly flow: TracerouteFlow | null;
  readonly family: 4 | 6;
  /** the least packet length this method can send (headers plus what matching needs) */
  readonly minLength: number;
  /** whether the packet length can be chosen per probe (path MTU discovery needs it) */
  readonly sizable: boolean;
  /** how many distinct ProbeRequest.flow values this transport can put on the wire; 0 or absent: it cannot choose (tcp-connect) */
  readonly flowIds?: number;
  /**
   * IPv6 multipath flows also differ in their flow label, which the sending socket must lease:
   * of flows 0 … flows - 1, how many went out with one, and why one went without (the kernel's
   * refusal) or null. Null or absent: the transport sends no labels (IPv4, not multipath).
   */
  flowLabelStatus?(flows: number): { labelled: number; refused: string | null } | null;
  /**
   * Starts delivering answers (never from inside send()); onFailure gets errors the transport
   * cannot recover from.
   */
  start(onReply: (reply: ProbeReply) => void, onFailure: (error: Error) => void): void;
  /**
   * Reads everything the kernel has queued now, handing answers to onReply. The engine calls it
   * before it lets a probe expire, so an answer that is already here is never counted as lost
   * because JS got to it late. Calls made while a read is in progress do nothing.
   */
  poll(): void;
  /** sends the probes in order; throws a system error (errno, syscall) for a fatal send failure */
  send(probes: readonly ProbeRequest[]): SendOutcome[];
  /** the probe's outcome is decided: forget it (answers for it are ignored from now on) */
  release(id: number): void;
  close(): void;
}
