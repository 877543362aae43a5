// Every input a fuzz target found (test/fuzz/findings/<target>/) and every seed
// (test/fuzz/corpus/<target>/) replayed through the target's own invariants, plus one
// direct test per finding saying what was wrong.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { describeFailure, printableLine } from '../../src/cli/failure-text.js';
import { pingOptionSpecs } from '../../src/cli/ping/options.js';
import { UsageError } from '../../src/errors.js';
import { icmpExtensionsLength, parseIcmpExtensions, writeIcmpExtensions } from '../../src/packet/icmp-extensions.js';
import { AddressBook } from '../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../src/sockets/filters.js';
import { parseInetLines } from '../../src/sockets/proc-net-parser.js';
import { SocketRows } from '../../src/sockets/socket-rows.js';
import { estimateTableLines } from '../../src/sockets/sockstat.js';
import { parseUnixLines } from '../../src/sockets/unix-parser.js';

const fuzzDir = join(import.meta.dirname, '../fuzz');
const findings = (target: string): string[] => {
  const dir = join(fuzzDir, 'findings', target);
  return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
};
const finding = (target: string, name: string): Buffer => readFileSync(join(fuzzDir, 'findings', target, name));

describe('fuzz findings and seeds replayed through their targets', () => {
  const targets = readdirSync(join(fuzzDir, 'targets')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  for (const target of targets) {
    it(`${target}: every finding and seed keeps the invariants`, async () => {
      const mod = (await import(/* @vite-ignore */ join(fuzzDir, 'targets', `${target}.ts`))) as { fuzz(data: Buffer): void };
      const seedDir = join(fuzzDir, 'corpus', target);
      const inputs = [...findings(target), ...(existsSync(seedDir) ? readdirSync(seedDir).map((f) => join(seedDir, f)) : [])];
      for (const file of inputs) {
        expect(() => mod.fuzz(readFileSync(file)), file).not.toThrow();
      }
    });
  }
});

describe('fuzz findings', () => {
  it('packet-icmp: an extension structure whose checksum computes to 0 goes out as 0xffff and verifies', () => {
    const data = finding('packet-icmp', 'extension-checksum-zero.bin');
    const ext = parseIcmpExtensions(data, 0, data.length)!;
    const objects = ext.objects.map((o) => ({ classNum: o.classNum, cType: o.cType, data: data.subarray(o.dataOffset, o.dataOffset + o.dataLength) }));
    const out = Buffer.alloc(icmpExtensionsLength(objects));
    writeIcmpExtensions(out, 0, objects);
    expect(out.readUInt16BE(2)).toBe(0xffff);
    expect(parseIcmpExtensions(out, 0, out.length)!.checksumValid).toBe(true);
  });

  it('proc-net: a uid or inode too long to be exact makes the line malformed, not a row', () => {
    const data = finding('proc-net', 'uid-inode-past-2-53.txt');
    const table = PROC_TABLES.find((t) => t.file === 'raw')!;
    const rows = new SocketRows(table, 4);
    parseInetLines(data, 0, data.length, { filter: compileFilter({}), addresses: new AddressBook(), v6: false }, rows);
    for (let i = 0; i < rows.length; i++) {
      expect(Number.isSafeInteger(rows.inode[i]!)).toBe(true);
      expect(Number.isSafeInteger(rows.uid[i]!)).toBe(true);
    }
  });

  it('proc-net: a unix socket inode too long to be exact makes the line malformed, not a row', () => {
    const data = finding('proc-net', 'unix-inode-past-2-53.txt');
    const table = PROC_TABLES.find((t) => t.file === 'unix')!;
    const rows = new SocketRows(table, 4);
    parseUnixLines(data, 0, data.length, compileFilter({}), rows);
    expect(rows.length).toBe(0);
  });

  it('sockstat: counts that are not counts (x, -2, 1e400) are left out of the estimate', () => {
    const data = finding('sockstat', 'count-not-a-number.txt');
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-sockstat-'));
    try {
      const nul = data.indexOf(0);
      writeFileSync(join(dir, 'sockstat'), data.subarray(0, nul));
      writeFileSync(join(dir, 'sockstat6'), data.subarray(nul + 1));
      const lines = estimateTableLines(dir);
      expect(Object.fromEntries(lines)).toEqual({ tcp: 4, unix: 9 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cli-args: a newline inside an argument prints escaped, on the usage error\'s one line', () => {
    const argv = finding('cli-args', 'newline-in-argument.bin').toString('utf8').split('\0');
    let error: unknown;
    try {
      parseArgs(argv, pingOptionSpecs, 'ping');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    const printed = printableLine(describeFailure(error, 'ping'));
    expect(printed).not.toMatch(/[\x00-\x1f]/);
    expect(printed).toContain("'322\\n64'");
  });
});
