import { describe, expect, it } from 'vitest';
import { readAddress, writeAddress } from '../../src/socket/address-bytes.js';
import { assemble } from '../../src/socket/bpf.js';
import { icmpV4EchoBpf, icmpV6EchoBpf, icmpV4TypeFilter, icmpV6TypeFilter } from '../../src/socket/icmp-filters.js';
import { SendBatch } from '../../src/socket/send-batch.js';

describe('address bytes', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'], ['::1', '::1'], ['fd00:1:0:0:0:0:0:2', 'fd00:1::2'], ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['fe80::1%lo', 'fe80::1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['::', '::'],
  ];
  for (const [input, printed] of cases) {
    it(`${input} round-trips as ${printed}`, () => {
      const b = Buffer.alloc(20);
      const fam = writeAddress(input, b, 2);
      expect(readAddress(b, 2, fam)).toBe(printed);
    });
  }
  it('rejects what is not an address', () => {
    expect(() => writeAddress('localhost', Buffer.alloc(16), 0)).toThrow(RangeError);
  });
});

// A classic-BPF interpreter for the few opcodes the filters use, to check them without a kernel.
function runBpf(prog: Buffer, pkt: Buffer): number {
  let A = 0, X = 0, pc = 0;
  const ld = (off: number, size: number): number | null => (off < 0 || off + size > pkt.length ? null : size === 1 ? pkt[off]! : pkt.readUInt16BE(off));
  for (;;) {
    const code = prog.readUInt16LE(pc * 8), jt = prog[pc * 8 + 2]!, jf = prog[pc * 8 + 3]!, k = prog.readUInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0xb1: { const v = ld(k, 1); if (v === null) return 0; X = (v & 0xf) * 4; break; }
      case 0x50: { const v = ld(X + k, 1); if (v === null) return 0; A = v; break; }
      case 0x48: { const v = ld(X + k, 2); if (v === null) return 0; A = v; break; }
      case 0x30: { const v = ld(k, 1); if (v === null) return 0; A = v; break; }
      case 0x28: { const v = ld(k, 2); if (v === null) return 0; A = v; break; }
      case 0x54: A &= k; break;
      case 0x64: A = (A << k) >>> 0; break;
      case 0x0c: A = (A + X) >>> 0; break;
      case 0x07: X = A; break;
      case 0x15: pc += A === k ? jt : jf; break;
      case 0x35: pc += A >= k ? jt : jf; break;
      case 0x25: pc += A > k ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`opcode ${code.toString(16)}`);
    }
  }
}

function v4(type: number, body: Buffer, ihl = 20): Buffer {
  const ip = Buffer.alloc(ihl);
  ip[0] = 0x40 | (ihl / 4);
  return Buffer.concat([ip, Buffer.from([type, 0, 0, 0]), body]);
}
const echoHdr = (type: number, id: number) => { const b = Buffer.alloc(8); b[0] = type; b.writeUInt16BE(id, 4); return b; };

describe('kernel filters', () => {
  it('the IPv4 BPF keeps our echo replies and errors quoting our echo, honouring both IHLs', () => {
    const p = icmpV4EchoBpf(0x1234);
    expect(runBpf(p, v4(0, Buffer.from([0x12, 0x34, 0, 1])))).toBe(0xffff);
    expect(runBpf(p, v4(0, Buffer.from([0x12, 0x35, 0, 1])))).toBe(0);
    expect(runBpf(p, v4(8, Buffer.from([0x12, 0x34, 0, 1])))).toBe(0);
    for (const ihl of [20, 24, 60]) {
      const quotedIp = Buffer.alloc(ihl === 60 ? 32 : 20); quotedIp[0] = 0x40 | (quotedIp.length / 4);
      const quote = Buffer.concat([quotedIp, echoHdr(8, 0x1234)]);
      expect(runBpf(p, v4(11, Buffer.concat([Buffer.alloc(4), quote]), ihl))).toBe(0xffff);
      expect(runBpf(p, v4(3, Buffer.concat([Buffer.alloc(4), quotedIp, echoHdr(8, 0x9999)]), ihl))).toBe(0);
    }
    // truncated packets are dropped, never read out of bounds
    expect(runBpf(p, v4(11, Buffer.alloc(6)))).toBe(0);
  });
  it('the IPv6 BPF keeps our echo replies and errors 1-4 quoting our echo', () => {
    const p = icmpV6EchoBpf(0xbeef);
    expect(runBpf(p, echoHdr(129, 0xbeef))).toBe(0xffff);
    expect(runBpf(p, echoHdr(129, 0xbeee))).toBe(0);
    expect(runBpf(p, echoHdr(128, 0xbeef))).toBe(0);
    for (const t of [1, 2, 3, 4]) {
      const pkt = Buffer.concat([Buffer.from([t, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40), echoHdr(128, 0xbeef)]);
      expect(runBpf(p, pkt)).toBe(0xffff);
      pkt.writeUInt16BE(0x1111, 52);
      expect(runBpf(p, pkt)).toBe(0);
    }
    expect(runBpf(p, Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40), echoHdr(128, 0xbeef)]))).toBe(0);
  });
  it('type filters drop everything but the kept types', () => {
    expect(icmpV4TypeFilter().readUInt32LE(0)).toBe((0xffffffff & ~((1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 11) | (1 << 12))) >>> 0);
    const f6 = icmpV6TypeFilter();
    expect(f6.readUInt32LE(16) & (1 << 1)).toBe(0); // 129 passes
    expect(f6.readUInt32LE(16) & (1 << 0)).not.toBe(0); // 128 dropped
  });
  it('assemble refuses backward or unknown labels', () => {
    expect(() => assemble([{ label: 'a' }, { op: 0x15, k: 0, yes: 'a', no: '' }])).toThrow(/bad BPF label/);
  });
});

describe('SendBatch', () => {
  it('keeps unsent messages in order after shift', () => {
    const b = new SendBatch(4, 8);
    for (let i = 0; i < 3; i++) {
      b.data[b.nextOffset()] = 10 + i;
      b.push(1, 4, Buffer.from([127, 0, 0, i + 1, ...new Array(12).fill(0)]), 0, 0, 60 + i);
    }
    b.shift(1);
    expect(b.count).toBe(2);
    expect(b.data[0]).toBe(11);
    expect(b.data[8]).toBe(12);
    expect(Array.from(b.desc.subarray(0, 6))).toEqual([0, 1, 4, 0, 61, -1]);
    expect(b.addrs[3]).toBe(2);
  });
});
