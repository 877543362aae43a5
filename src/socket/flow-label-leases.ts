// IPv6 flow labels one socket sends to one destination, one per flow. Linux sends a label other
// than 0 only from a socket with IPV6_FLOWINFO_SEND on that holds a lease on the label
// (IPV6_FLOWLABEL_MGR, for a destination). Without CAP_NET_ADMIN the kernel leases 32 labels
// per socket (ENOBUFS after that), so a privileged process that knows the destination leases a
// block up front, before it drops its capabilities; the rest are leased as flows first use them. Routers that hash IPv6 on the flow label (Linux's default
// fib_multipath_hash_policy 0: addresses, flow label, next header) send every unlabelled probe
// one way; a flow that gets no label goes with 0 and `refused` says why.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { native } from '../native.js';

/** struct in6_flowlabel_req: destination (16 bytes), label (be32), action, share (u8), flags, expires, linger (u16), pad */
const REQUEST_BYTES = 32;
/** labels with this bit set are the stateless range (net.ipv6.flowlabel_state_ranges): never leased */
const STATELESS = 0x80000;
/** labels tried for one flow when others hold the candidates (EEXIST, or EPERM for an exclusive one) */
const CONFLICT_TRIES = 16;
/** Labels a lease may ask for: 1 … 0x7ffff (0 is no label, the stateless range is never leased). */
export const LEASABLE_LABELS = STATELESS - 1;
const LITTLE_ENDIAN = endianness() === 'LE';

export class FlowLabelLeases {
  private readonly labels = new Map<number, number>();
  private sending = false;
  /** the next label to ask for */
  private candidate: number;
  /** why a flow went without a label (the kernel's refusal), null while every flow got one */
  refused: string | null = null;

  /**
   * fd: an IPv6 socket; destination: its 16 address bytes (the kernel leases for a destination);
   * pick: a label drawn at random from 1 … LEASABLE_LABELS: the first one asked for, and where
   * asking goes on after a label another socket holds (other leases come in runs of labels too)
   */
  constructor(private readonly fd: number, private readonly destination: Buffer, private readonly pick: () => number) {
    this.candidate = pick();
  }

  /** Whether the labels are for this destination (16 address bytes). */
  isFor(destination: Buffer): boolean {
    return destination.equals(this.destination.subarray(0, 16));
  }

  /** Of flows 0 … flows - 1, how many went out with a label of their own. */
  labelledOf(flows: number): number {
    let n = 0;
    for (const [flow, label] of this.labels) if (flow < flows && label !== 0) n++;
    return n;
  }

  /** Leases labels for flows 0 … count - 1 now (while the process may still hold CAP_NET_ADMIN); stops at the first refusal. */
  reserve(count: number): void {
    for (let flow = 0; flow < count && this.refused === null; flow++) this.labelFor(flow);
  }

  /** The label flow `flow` goes out with: always the same for one flow; 0 where none could be leased. */
  labelFor(flow: number): number {
    const known = this.labels.get(flow);
    if (known !== undefined) return known;
    let label = 0;
    if (this.refused === null) {
      for (let i = 0; i < CONFLICT_TRIES && label === 0 && this.refused === null; i++) {
        label = this.lease(this.nextCandidate());
        if (label === 0) this.candidate = this.pick();
      }
      if (label === 0) this.refused ??= `other sockets hold the ${CONFLICT_TRIES} flow labels tried`;
    }
    this.labels.set(flow, label);
    return label;
  }

  private nextCandidate(): number {
    const label = this.candidate;
    this.candidate = label + 1 < STATELESS ? label + 1 : 1;
    return label;
  }

  /** The label when leased; 0 when another socket holds it (try the next) or the kernel refused (refused is set). */
  private lease(label: number): number {
    const n = native();
    const C = n.constants;
    const request = Buffer.alloc(REQUEST_BYTES);
    this.destination.copy(request, 0, 0, 16);
    request.writeUInt32BE(label, 16);
    request[20] = C.IPV6_FL_A_GET;
    request[21] = C.IPV6_FL_S_EXCL;
    if (LITTLE_ENDIAN) request.writeUInt16LE(C.IPV6_FL_F_CREATE, 22);
    else request.writeUInt16BE(C.IPV6_FL_F_CREATE, 22);
    try {
      if (!this.sending) {
        n.setsockoptInt(this.fd, C.IPPROTO_IPV6, C.IPV6_FLOWINFO_SEND, 1);
        this.sending = true;
      }
      n.setsockoptBuffer(this.fd, C.IPPROTO_IPV6, C.IPV6_FLOWLABEL_MGR, request);
      return label;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST' || code === 'EPERM') return 0;
      this.refused = code === 'ENOBUFS'
        ? 'the kernel leases no more to this socket: 32 per socket without CAP_NET_ADMIN, fewer while the system holds many'
        : `the kernel refused a flow label lease (${code ?? String(e)})`;
      return 0;
    }
  }
}

/**
 * Turns on the kernel's own flow label for a UDP or TCP socket (IPV6_AUTOFLOWLABEL): a hash of
 * the addresses, protocol and ports, so flows that differ in their ports differ in their label
 * with no lease. False where the namespace has them off (net.ipv6.auto_flowlabels 0) or the
 * kernel refuses; raw and ping sockets get one label for every flow (the kernel sees no ports).
 */
export function useAutomaticFlowLabels(fd: number): boolean {
  try {
    if (readFileSync('/proc/sys/net/ipv6/auto_flowlabels', 'latin1').trim() === '0') return false;
    const n = native();
    n.setsockoptInt(fd, n.constants.IPPROTO_IPV6, n.constants.IPV6_AUTOFLOWLABEL, 1);
    return true;
  } catch {
    return false;
  }
}
