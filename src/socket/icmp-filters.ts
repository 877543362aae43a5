// Kernel-side filters for raw ICMP sockets. A raw socket sees every ICMP packet the host
// receives; ICMP_FILTER drops unwanted types and a classic BPF program keeps only echo
// replies carrying our identifier and errors quoting an echo request with it.
import { ABS, ACCEPT_OR_REJECT, ADD, ALU, AND, assemble, B, H, IND, JEQ, JGE, JGT, jump, label, LD, LDX, LSH, MISC, MSH, NEXT, op, TAX, X } from './bpf.js';

// ICMP types kept by the type filters
const V4_KEEP = [0 /* echo reply */, 3 /* unreachable */, 4 /* source quench */, 5 /* redirect */, 11 /* time exceeded */, 12 /* parameter problem */];
const V6_KEEP = [129 /* echo reply */, 1 /* unreachable */, 2 /* packet too big */, 3 /* time exceeded */, 4 /* parameter problem */];

/** ICMP_FILTER value: a 32-bit mask of IPv4 types to drop (host order). */
export function icmpV4TypeFilter(keep: number[] = V4_KEEP): Buffer {
  let mask = 0xffffffff;
  for (const t of keep) if (t < 32) mask &= ~(1 << t);
  const b = Buffer.alloc(4);
  b.writeUInt32LE(mask >>> 0, 0);
  // struct icmp_filter is a host-order u32; every platform we build for is little-endian
  return b;
}

/** ICMPV6_FILTER value: struct icmp6_filter, 256 bits where a set bit drops that type. */
export function icmpV6TypeFilter(keep: number[] = V6_KEEP): Buffer {
  const words = new Uint32Array(8).fill(0xffffffff);
  for (const t of keep) words[t >> 5]! &= ~(1 << (t & 31));
  return Buffer.from(words.buffer);
}

/**
 * IPv4 raw socket (packets start at the IP header): accept echo replies with our identifier
 * and errors (3, 4, 5, 11, 12) whose quoted ICMP header carries it; honours both IHLs.
 */
export function icmpV4EchoBpf(identifier: number): Buffer {
  const id = identifier & 0xffff;
  return assemble([
    op(LDX | B | MSH, 0), // X = outer IHL * 4
    op(LD | B | IND, 0), // A = ICMP type
    jump(JEQ, 0, NEXT, 'error'),
    op(LD | H | IND, 4), // A = identifier
    jump(JEQ, id, 'accept', 'reject'),
    label('error'),
    jump(JEQ, 3, 'quoted', NEXT),
    jump(JEQ, 11, 'quoted', NEXT),
    jump(JEQ, 12, 'quoted', NEXT),
    jump(JEQ, 4, 'quoted', NEXT),
    jump(JEQ, 5, 'quoted', 'reject'),
    label('quoted'), // the quoted IP header starts 8 bytes into the ICMP message
    op(LD | B | IND, 8), // A = quoted version/IHL byte
    op(ALU | AND, 0x0f),
    op(ALU | LSH, 2), // A = quoted IHL * 4
    op(ALU | ADD | X, 0), // + outer IHL
    op(MISC | TAX, 0),
    op(LD | H | IND, 8 + 4), // A = quoted echo identifier
    jump(JEQ, id, 'accept', 'reject'),
    ...ACCEPT_OR_REJECT,
  ]);
}

/**
 * IPv6 raw socket (packets start at the ICMPv6 header): echo replies with our identifier,
 * and errors (types 1-4) whose quoted echo (after the 40-byte IPv6 header) carries it.
 */
export function icmpV6EchoBpf(identifier: number): Buffer {
  const id = identifier & 0xffff;
  return assemble([
    op(LD | B | ABS, 0), // A = type
    jump(JEQ, 129, NEXT, 'error'),
    op(LD | H | ABS, 4),
    jump(JEQ, id, 'accept', 'reject'),
    label('error'),
    jump(JGE, 1, NEXT, 'reject'),
    jump(JGT, 4, 'reject', NEXT),
    op(LD | H | ABS, 8 + 40 + 4), // quoted echo identifier
    jump(JEQ, id, 'accept', 'reject'),
    ...ACCEPT_OR_REJECT,
  ]);
}
