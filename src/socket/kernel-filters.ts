// Kernel-side filters for raw ICMP sockets. A raw socket sees every ICMP packet the host
// receives; ICMP_FILTER drops unwanted types and a classic BPF program keeps only echo
// replies carrying our identifier and errors quoting an echo request with it.

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

// classic BPF opcodes (linux/filter.h)
const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_MISC = 0x07;
const BPF_H = 0x08, BPF_B = 0x10;
const BPF_ABS = 0x20, BPF_IND = 0x40, BPF_MSH = 0xa0;
const BPF_ADD = 0x00, BPF_AND = 0x50, BPF_LSH = 0x60;
const BPF_JEQ = 0x10, BPF_JGE = 0x30, BPF_JGT = 0x20, BPF_K = 0x00, BPF_X = 0x08;
const BPF_TAX = 0x00;

/** One instruction; jumps name labels, resolved by assemble(). */
type Line =
  | { op: number; k: number }
  | { op: number; k: number; yes: string; no: string }
  | { label: string };

const op = (o: number, k = 0): Line => ({ op: o, k });
const jeq = (k: number, yes: string, no: string): Line => ({ op: BPF_JMP | BPF_JEQ | BPF_K, k, yes, no });
const jge = (k: number, yes: string, no: string): Line => ({ op: BPF_JMP | BPF_JGE | BPF_K, k, yes, no });
const jgt = (k: number, yes: string, no: string): Line => ({ op: BPF_JMP | BPF_JGT | BPF_K, k, yes, no });
const label = (name: string): Line => ({ label: name });
const NEXT = '';

/** Resolves labels into relative jump offsets and encodes 8-byte sock_filter entries. */
export function assemble(lines: Line[]): Buffer {
  const where = new Map<string, number>();
  const insns: Exclude<Line, { label: string }>[] = [];
  for (const l of lines) {
    if ('label' in l) where.set(l.label, insns.length);
    else insns.push(l);
  }
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    let jt = 0, jf = 0;
    if ('yes' in ins) {
      const target = (name: string): number => {
        if (name === NEXT) return 0;
        const t = where.get(name);
        if (t === undefined || t <= i || t - i - 1 > 255) throw new Error(`bad BPF label ${name}`);
        return t - i - 1;
      };
      jt = target(ins.yes);
      jf = target(ins.no);
    }
    b.writeUInt16LE(ins.op, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return b;
}

const ACCEPT = 0xffff;

/**
 * IPv4 raw socket (packets start at the IP header): accept echo replies with our identifier
 * and errors (3, 4, 5, 11, 12) whose quoted ICMP header carries it; honours both IHLs.
 */
export function icmpV4EchoBpf(identifier: number): Buffer {
  const id = identifier & 0xffff;
  return assemble([
    op(BPF_LDX | BPF_B | BPF_MSH, 0), // X = outer IHL * 4
    op(BPF_LD | BPF_B | BPF_IND, 0), // A = ICMP type
    jeq(0, NEXT, 'error'),
    op(BPF_LD | BPF_H | BPF_IND, 4), // A = identifier
    jeq(id, 'accept', 'reject'),
    label('error'),
    jeq(3, 'quoted', NEXT),
    jeq(11, 'quoted', NEXT),
    jeq(12, 'quoted', NEXT),
    jeq(4, 'quoted', NEXT),
    jeq(5, 'quoted', 'reject'),
    label('quoted'), // the quoted IP header starts 8 bytes into the ICMP message
    op(BPF_LD | BPF_B | BPF_IND, 8), // A = quoted version/IHL byte
    op(BPF_ALU | BPF_AND | BPF_K, 0x0f),
    op(BPF_ALU | BPF_LSH | BPF_K, 2), // A = quoted IHL * 4
    op(BPF_ALU | BPF_ADD | BPF_X, 0), // + outer IHL
    op(BPF_MISC | BPF_TAX, 0),
    op(BPF_LD | BPF_H | BPF_IND, 8 + 4), // A = quoted echo identifier
    jeq(id, 'accept', 'reject'),
    label('accept'),
    op(BPF_RET | BPF_K, ACCEPT),
    label('reject'),
    op(BPF_RET | BPF_K, 0),
  ]);
}

/**
 * IPv6 raw socket (packets start at the ICMPv6 header): echo replies with our identifier,
 * and errors (types 1-4) whose quoted echo (after the 40-byte IPv6 header) carries it.
 */
export function icmpV6EchoBpf(identifier: number): Buffer {
  const id = identifier & 0xffff;
  return assemble([
    op(BPF_LD | BPF_B | BPF_ABS, 0), // A = type
    jeq(129, NEXT, 'error'),
    op(BPF_LD | BPF_H | BPF_ABS, 4),
    jeq(id, 'accept', 'reject'),
    label('error'),
    jge(1, NEXT, 'reject'),
    jgt(4, 'reject', NEXT),
    op(BPF_LD | BPF_H | BPF_ABS, 8 + 40 + 4), // quoted echo identifier
    jeq(id, 'accept', 'reject'),
    label('accept'),
    op(BPF_RET | BPF_K, ACCEPT),
    label('reject'),
    op(BPF_RET | BPF_K, 0),
  ]);
}
