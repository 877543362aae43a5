// INET_DIAG_REQ_BYTECODE compilation: the exact program for simple filters, the chain the
// kernel's auditor requires (every `yes` steps to the next op, every `no` lands on an op or
// rejects 4 bytes past the end), nothing for filters without ports or addresses, and nothing
// when the program would be too long. test/integration/sockets-kernel-filter.test.ts runs
// the programs in the kernel against the user-space filter.
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../src/sockets/filters.js';
import { compileInetBytecode, MAX_BYTECODE } from '../../src/sockets/netlink/inet-diag-bytecode.js';
import type { ListSocketsOptions } from '../../src/sockets/types.js';

const compile = (o: ListSocketsOptions): Buffer | null => compileInetBytecode(compileFilter(o));

interface Op {
  at: number;
  code: number;
  yes: number;
  no: number;
}

/** The ops on the straight chain, as inet_diag_bc_audit walks them; throws where it would refuse. */
function audit(bc: Buffer): Op[] {
  const ops: Op[] = [];
  const starts = new Set<number>();
  for (let at = 0; at < bc.length; ) {
    const op = { at, code: bc[at]!, yes: bc[at + 1]!, no: bc.readUInt16LE(at + 2) };
    if (op.yes < 4 || op.yes % 4 !== 0 || at + op.yes > bc.length) throw new Error(`bad yes at ${at}`);
    ops.push(op);
    starts.add(at);
    at += op.yes;
  }
  starts.add(bc.length);
  for (const op of ops) {
    const target = op.at + op.no;
    if (op.no % 4 !== 0 || op.no < 4) throw new Error(`bad no at ${op.at}`);
    if (target !== bc.length + 4 && !starts.has(target)) throw new Error(`no of ${op.at} lands inside an op`);
  }
  return ops;
}

describe('compileInetBytecode', () => {
  it('compiles nothing for a filter without ports or addresses', () => {
    expect(compile({ states: ['established'] })).toBeNull();
    expect(compile({ localPort: { from: 0, to: 65535 } })).toBeNull();
  });

  it('compiles one port to a >= and a <= test that reject past the end', () => {
    const bc = compile({ remotePort: 8080 })!;
    const ops = audit(bc);
    // D_GE and D_LE, each 8 bytes: the port rides in the `no` of a second op the chain steps over
    expect(ops.map((o) => o.code)).toEqual([4, 5]);
    expect(bc.readUInt16LE(6)).toBe(8080);
    expect(bc.readUInt16LE(14)).toBe(8080);
    expect(ops[0]!.no).toBe(bc.length + 4);
    expect(ops[1]!.no).toBe(bc.length - 8 + 4);
  });

  it('joins alternatives with a JMP past the group and groups by AND', () => {
    const bc = compile({ localPort: [22, 80], remoteAddress: '10.0.0.0/8' })!;
    const ops = audit(bc);
    const codes = ops.map((o) => o.code);
    // S_GE 22, S_LE 22, JMP, S_GE 80, S_LE 80, D_COND
    expect(codes).toEqual([2, 3, 1, 2, 3, 8]);
    const jmp = ops[2]!;
    const cond = ops[5]!;
    expect(jmp.at + jmp.no).toBe(cond.at);
    // a failed first alternative goes on with the second, right after the JMP
    expect(ops[0]!.at + ops[0]!.no).toBe(ops[3]!.at);
    expect(ops[1]!.at + ops[1]!.no).toBe(ops[3]!.at);
    // the hostcond: AF_INET, /8, any port, 10.0.0.0
    expect(bc[cond.at + 4]).toBe(2);
    expect(bc[cond.at + 5]).toBe(8);
    expect(bc.readInt32LE(cond.at + 8)).toBe(-1);
    expect(bc.readUInt32BE(cond.at + 12)).toBe(0x0a000000);
    expect(cond.no).toBe(bc.length - cond.at + 4);
  });

  it('writes IPv6 prefixes with their length', () => {
    const bc = compile({ localAddress: 'fe80::/10' })!;
    audit(bc);
    expect(bc[0]).toBe(7); // S_COND
    expect(bc[4]).toBe(10); // AF_INET6
    expect(bc[5]).toBe(10);
    expect(bc.readUInt16BE(12)).toBe(0xfe80);
    expect(bc.length).toBe(4 + 8 + 16);
  });

  it('sends no program rather than one too long for the attribute', () => {
    const many = Array.from({ length: 5000 }, (_, i) => i + 1);
    expect(compile({ localPort: many.slice(0, 100) })!.length).toBeLessThan(MAX_BYTECODE);
    expect(compile({ localPort: many })).toBeNull();
  });
});
