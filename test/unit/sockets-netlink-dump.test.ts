// dumpTable's retry rule on a fake sock_diag socket that replays a captured reply: a dump the
// kernel marks NLM_F_DUMP_INTR is read again (nothing of the interrupted one is kept), and
// after DUMP_ATTEMPTS interrupted reads the last is kept and the caller is warned.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../src/sockets/filters.js';
import { DUMP_ATTEMPTS, dumpTable, SockDiagError, type SockDiagSocket } from '../../src/sockets/netlink/sock-diag-reader.js';
import { walkReplies, type DumpStatus } from '../../src/sockets/netlink/sock-diag-records.js';

const dir = join(import.meta.dirname, '../fixtures/netlink');
const meta = JSON.parse(readFileSync(join(dir, 'sockets.json'), 'utf8')) as { seq: Record<string, number> };
const reply = readFileSync(join(dir, 'tcp4-info.bin'));
const tcp = PROC_TABLES.find((t) => t.file === 'tcp')!;

/** Replays the fixture for every dump; the first `interrupted` dumps carry NLM_F_DUMP_INTR. */
function fakeSocket(interrupted: number, errno = 0): { socket: SockDiagSocket; dumps: () => number } {
  let dumps = 0;
  const socket = {
    dump(request: (seq: number) => Buffer, sink: (b: Buffer, s: number, e: number) => void, begin: (n: number) => void, what: string, status: DumpStatus) {
      dumps++;
      const bytes = Buffer.from(reply);
      if (dumps <= interrupted) bytes.writeUInt16LE(bytes.readUInt16LE(6) | 0x10, 6);
      expect(request(meta.seq['tcp4-info']!).readUInt16LE(4)).toBe(20);
      begin(bytes.length);
      walkReplies(bytes, bytes.length, meta.seq['tcp4-info']!, status, sink);
      if (errno) throw new SockDiagError('ENOENT', errno, `sock_diag ${what} failed`);
    },
  } as unknown as SockDiagSocket;
  return { socket, dumps: () => dumps };
}

function options(warnings: string[]) {
  return { filter: compileFilter({}), addresses: new AddressBook(), tcpInfo: false, memory: false, keepIds: false, bytecode: true, attributes: true, warn: (m: string) => warnings.push(m) };
}

const count = (chunks: { length: number }[]): number => chunks.reduce((n, c) => n + c.length, 0);

describe('dumpTable', () => {
  it('reads a clean dump once', async () => {
    const warnings: string[] = [];
    const fake = fakeSocket(0);
    const chunks = await dumpTable(fake.socket, tcp, options(warnings));
    expect(fake.dumps()).toBe(1);
    expect(count(chunks)).toBeGreaterThan(0);
    expect(warnings).toEqual([]);
  });

  it('reads an interrupted dump again and keeps only the clean one', async () => {
    const warnings: string[] = [];
    const fake = fakeSocket(DUMP_ATTEMPTS - 1);
    const clean = count(await dumpTable(fakeSocket(0).socket, tcp, options([])));
    const chunks = await dumpTable(fake.socket, tcp, options(warnings));
    expect(fake.dumps()).toBe(DUMP_ATTEMPTS);
    expect(count(chunks)).toBe(clean);
    expect(warnings).toEqual([]);
  });

  it('says so when the table keeps changing, and keeps the last read', async () => {
    const warnings: string[] = [];
    const fake = fakeSocket(100);
    const chunks = await dumpTable(fake.socket, tcp, options(warnings));
    expect(fake.dumps()).toBe(DUMP_ATTEMPTS);
    expect(count(chunks)).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/interrupted by changes 3 times in a row \(NLM_F_DUMP_INTR\)/);
  });

  it('passes a refused dump on', async () => {
    await expect(dumpTable(fakeSocket(0, 2).socket, tcp, options([]))).rejects.toThrow(SockDiagError);
  });
});
