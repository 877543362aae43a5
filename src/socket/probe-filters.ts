// Classic BPF programs for the raw sockets of the UDP and TCP methods: a raw socket sees every
// packet of its protocol on the host, so the kernel keeps only what can concern this trace —
// ICMP errors quoting a probe from our source ports, TCP segments to our source ports — and
// user space still checks every field.
import { ABS, ACCEPT_OR_REJECT, ADD, ALU, AND, assemble, B, H, IND, JEQ, JGE, JGT, jump, K, label, LD, LDX, LSH, MISC, MSH, NEXT, op, RET, TAX, X, type Line } from './bpf.js';

/** A ≥ lo and A ≤ hi, else reject. */
function inRange(lo: number, hi: number): Line[] {
  return [jump(JGE, lo, NEXT, 'reject'), jump(JGT, hi, 'reject', 'accept')];
}

/**
 * Raw ICMP socket (IPv4, packets start at the IP header): errors (3, 11, 12) quoting a
 * `protocol` datagram whose source port is in [lo, hi]. Both IP header lengths are honoured.
 */
export function icmpV4ErrorQuotingPorts(protocol: number, lo: number, hi: number): Buffer {
  return assemble([
    op(LDX | B | MSH, 0), // X = outer IHL
    op(LD | B | IND, 0), // ICMP type
    jump(JEQ, 3, 'quoted', NEXT),
    jump(JEQ, 11, 'quoted', NEXT),
    jump(JEQ, 12, 'quoted', 'reject'),
    label('quoted'),
    op(LD | B | IND, 8 + 9), // quoted protocol
    jump(JEQ, protocol, NEXT, 'reject'),
    op(LD | B | IND, 8), // quoted version/IHL
    op(ALU | AND, 0x0f),
    op(ALU | LSH, 2),
    op(ALU | ADD | X, 0),
    op(MISC | TAX, 0), // X = outer IHL + quoted IHL
    op(LD | H | IND, 8), // quoted source port
    ...inRange(lo, hi),
    ...ACCEPT_OR_REJECT,
  ]);
}

/** Raw ICMPv6 socket (packets start at the ICMPv6 header): errors 1–4 quoting such a datagram (no extension headers). */
export function icmpV6ErrorQuotingPorts(protocol: number, lo: number, hi: number): Buffer {
  return assemble([
    op(LD | B | ABS, 0),
    jump(JGE, 1, NEXT, 'reject'),
    jump(JGT, 4, 'reject', NEXT),
    op(LD | B | ABS, 8 + 6), // quoted next header
    jump(JEQ, protocol, NEXT, 'reject'),
    op(LD | H | ABS, 8 + 40), // quoted source port
    ...inRange(lo, hi),
    ...ACCEPT_OR_REJECT,
  ]);
}

/** Raw TCP socket: segments to a destination port in [lo, hi] (IPv4 packets start at the IP header). */
export function tcpToPorts(family: 4 | 6, lo: number, hi: number): Buffer {
  return assemble(
    family === 4
      ? [op(LDX | B | MSH, 0), op(LD | H | IND, 2), ...inRange(lo, hi), ...ACCEPT_OR_REJECT]
      : [op(LD | H | ABS, 2), ...inRange(lo, hi), ...ACCEPT_OR_REJECT],
  );
}

/** Accepts nothing: for raw sockets that only send. */
export function acceptNothing(): Buffer {
  return assemble([op(RET | K, 0)]);
}
