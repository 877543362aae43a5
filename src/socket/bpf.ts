// Classic BPF (linux/filter.h) for the kernel-side filters of raw sockets: the opcodes, a few
// instruction builders, and an assembler that resolves named labels into the forward jump
// offsets the kernel wants, so the programs in icmp-filters.ts and probe-filters.ts read as
// listings instead of hand-counted offsets.

// instruction classes
export const LD = 0x00, LDX = 0x01, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
// load sizes
export const H = 0x08, B = 0x10;
// addressing modes: absolute, indirect (X + k), IP header length (4 * (P[k] & 0x0f))
export const ABS = 0x20, IND = 0x40, MSH = 0xa0;
// ALU operations
export const ADD = 0x00, AND = 0x50, LSH = 0x60;
// jumps, and where the operand comes from (the constant k or the register X)
export const JEQ = 0x10, JGT = 0x20, JGE = 0x30, K = 0x00, X = 0x08;
// MISC: X = A
export const TAX = 0x00;

/** The return value that keeps the whole packet (0 drops it). */
export const ACCEPT = 0xffff;

/** One line of a program: an instruction, a conditional jump to labels, or a label. */
export type Line =
  | { op: number; k: number }
  | { op: number; k: number; yes: string; no: string }
  | { label: string };

/** The label of the next instruction (a jump that falls through). */
export const NEXT = '';

export const op = (code: number, k = 0): Line => ({ op: code, k });
/** A conditional jump on A compared with k (JEQ, JGT or JGE). */
export const jump = (test: number, k: number, yes: string, no: string): Line => ({ op: JMP | test | K, k, yes, no });
export const label = (name: string): Line => ({ label: name });

/** The end of every filter here: 'accept' keeps the packet, 'reject' drops it. */
export const ACCEPT_OR_REJECT: readonly Line[] = [label('accept'), op(RET | K, ACCEPT), label('reject'), op(RET | K, 0)];

/** Resolves labels into relative jump offsets and encodes 8-byte sock_filter entries. */
export function assemble(lines: readonly Line[]): Buffer {
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
      // classic BPF jumps only forward, at most 255 instructions
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
