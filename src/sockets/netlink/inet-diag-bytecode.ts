// The port and address filters of a listing compiled to INET_DIAG_REQ_BYTECODE
// (linux/inet_diag.h), so the kernel sends only the sockets that can match. The program is
// an AND of OR-groups (each of localPort, remotePort, localAddress, remoteAddress: any of
// the given items), laid out the way the kernel's auditor (inet_diag_bc_audit) accepts:
// every op's `yes` steps to the next op, so all ops lie on one straight chain; a passed
// item leaves its group with a JMP; a failed item's `no` goes to the next item, and the
// last one's to 4 bytes past the end, which rejects the socket. Running off the exact end
// accepts it. User space applies the same filter again, so the result never depends on this.
import type { AddressPrefix } from '../inet-address.js';
import type { PortRange, SocketFilter } from '../filters.js';
import { AF_INET, AF_INET6, writeU16, writeU32 } from './sock-diag-messages.js';

const BC_JMP = 1;
const BC_S_GE = 2;
const BC_S_LE = 3;
const BC_D_GE = 4;
const BC_D_LE = 5;
const BC_S_COND = 7;
const BC_D_COND = 8;

/** The largest program sent (the attribute's length is a u16); past it the kernel sends everything. */
export const MAX_BYTECODE = 60_000;

/** One op: its bytes after the 4-byte header, and where its `no` goes. */
interface Op {
  code: number;
  payload: Buffer;
  /** index of the op `no` jumps to; ops.length is the end (accept), -1 rejects */
  no: number;
}

type Test = { code: number; payload: Buffer };

function portTest(code: number, port: number): Test {
  // the port rides in the `no` field of a second, NOP-coded op
  const payload = Buffer.alloc(4);
  writeU16(payload, 2, port);
  return { code, payload };
}

function portTests(local: boolean, r: PortRange): Test[] {
  const tests: Test[] = [];
  if (r.from > 0) tests.push(portTest(local ? BC_S_GE : BC_D_GE, r.from));
  if (r.to < 65535) tests.push(portTest(local ? BC_S_LE : BC_D_LE, r.to));
  return tests;
}

function prefixBits(p: AddressPrefix): number {
  let bits = 0;
  for (const m of p.masks) for (let v = m >>> 0; v !== 0; v = (v << 1) >>> 0) bits++;
  return bits;
}

function hostTest(local: boolean, p: AddressPrefix): Test {
  // inet_diag_hostcond: family u8, prefix_len u8, (pad), port int (-1: any), addr (network order)
  const addrLen = p.family === 4 ? 4 : 16;
  const payload = Buffer.alloc(8 + addrLen);
  payload[0] = p.family === 4 ? AF_INET : AF_INET6;
  payload[1] = prefixBits(p);
  writeU32(payload, 4, 0xffffffff);
  p.words.forEach((w, k) => payload.writeUInt32BE(w >>> 0, 8 + 4 * k));
  return { code: local ? BC_S_COND : BC_D_COND, payload };
}

/**
 * The program for the filter's ports and addresses, or null when there is nothing to test
 * (or the program would be too long: then the kernel sends everything and user space filters).
 */
export function compileInetBytecode(filter: SocketFilter): Buffer | null {
  const groups: Test[][][] = [];
  if (filter.localPorts !== null) groups.push(filter.localPorts.map((r) => portTests(true, r)));
  if (filter.remotePorts !== null) groups.push(filter.remotePorts.map((r) => portTests(false, r)));
  if (filter.localPrefixes !== null) groups.push(filter.localPrefixes.map((p) => [hostTest(true, p)]));
  if (filter.remotePrefixes !== null) groups.push(filter.remotePrefixes.map((p) => [hostTest(false, p)]));

  const ops: Op[] = [];
  for (const items of groups) {
    // an item without tests (the range 0-65535) passes every socket: so does its group
    if (items.some((tests) => tests.length === 0)) continue;
    const jumps: Op[] = [];
    items.forEach((tests, k) => {
      const last = k === items.length - 1;
      const fails: Op[] = [];
      for (const t of tests) {
        const op: Op = { code: t.code, payload: t.payload, no: -1 };
        ops.push(op);
        fails.push(op);
      }
      if (!last) {
        const jmp: Op = { code: BC_JMP, payload: Buffer.alloc(0), no: -2 };
        ops.push(jmp);
        jumps.push(jmp);
        // a failed test goes on with the next item, which starts right after the JMP
        for (const f of fails) f.no = ops.length;
      }
    });
    // a passed item's JMP goes past the group
    for (const j of jumps) j.no = ops.length;
  }
  if (ops.length === 0) return null;

  const offsets: number[] = [];
  let total = 0;
  for (const op of ops) {
    offsets.push(total);
    total += 4 + op.payload.length;
  }
  offsets.push(total);
  if (total > MAX_BYTECODE) return null;
  const out = Buffer.alloc(total);
  ops.forEach((op, k) => {
    const at = offsets[k]!;
    const size = 4 + op.payload.length;
    out[at] = op.code;
    out[at + 1] = size; // yes: the next op (every op is at most 24 bytes)
    const no = op.no === -1 ? total - at + 4 : offsets[op.no]! - at;
    writeU16(out, at + 2, no);
    op.payload.copy(out, at + 4);
  });
  return out;
}
