// Classic BPF programs for the raw sockets of the UDP and TCP methods: a raw socket sees every
// packet of its protocol on the host, so the kernel keeps only what can concern this trace —
// ICMP errors quoting a probe from our source ports, TCP segments to our source ports — and
// user space still checks every field. Built with the label assembler of src/icmp.
import { assemble } from '../../socket/kernel-filters.js';

// linux/filter.h opcodes
const LD = 0x00, LDX = 0x01, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const B = 0x10, H = 0x08;
const ABS = 0x20, IND = 0x40, MSH = 0xa0;
const AND = 0x50, LSH = 0x60, ADD = 0x00;
const JEQ = 0x10, JGE = 0x30, JGT = 0x20, K = 0x00, X = 0x08;
const TAX = 0x00;
const ACCEPT = 0xffff;

type Line = { op: number; k: number } | { op: number; k: number; yes: string; no: string } | { label: string };
const op = (o: number, k = 0): Line => ({ op: o, k });
const jump = (o: number, k: number, yes: string, no: string): Line => ({ op: JMP | o | K, k, yes, no });
const label = (name: string): Line => ({ label: name });
const NEXT = '';

/** A ≥ lo and A ≤ hi, else reject. */
function inRange(lo: number, hi: number): Line[] {
  return [jump(JGE, lo, NEXT, 'reject'), jump(JGT, hi, 'reject', 'accept')];
}

const tail: Line[] = [label('accept'), op(RET | K, ACCEPT), label('reject'), op(RET | K, 0)];

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
    op(ALU | AND | K, 0x0f),
    op(ALU | LSH | K, 2),
    op(ALU | ADD | X, 0),
    op(MISC | TAX, 0), // X = outer IHL + quoted IHL
    op(LD | H | IND, 8), // quoted source port
    ...inRange(lo, hi),
    ...tail,
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
    ...tail,
  ]);
}

/** Raw TCP socket: segments to a destination port in [lo, hi] (IPv4 packets start at the IP header). */
export function tcpToPorts(family: 4 | 6, lo: number, hi: number): Buffer {
  return assemble(
    family === 4
      ? [op(LDX | B | MSH, 0), op(LD | H | IND, 2), ...inRange(lo, hi), ...tail]
      : [op(LD | H | ABS, 2), ...inRange(lo, hi), ...tail],
  );
}

/** Accepts nothing: for raw sockets that only send. */
export function acceptNothing(): Buffer {
  return assemble([op(RET | K, 0)]);
}
