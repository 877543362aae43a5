// listSockets() as a whole: the netdiag.sockets/1 document, another network namespace
// through netnsPid, a missing process, aborts, and a big listing read through the worker.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listSockets, NoSuchProcessError } from '../../src/sockets/index.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');
const KEYS = ['protocol', 'family', 'type', 'state', 'localAddress', 'localPort', 'remoteAddress', 'remotePort', 'mapped', 'recvQueue', 'sendQueue', 'inode', 'uid', 'user', 'service', 'owners', 'path', 'timer'];

describe('the document', () => {
  it('has the schema and every field of every socket, none undefined', async () => {
    const doc = await listSockets({ procRoot, owners: true });
    expect(doc.schema).toBe('netdiag.sockets/1');
    expect(doc.sockets.length).toBe(15 + 5 + 4 + 2 + 12);
    for (const s of doc.sockets) {
      expect(Object.keys(s)).toEqual(KEYS);
      for (const k of KEYS) expect((s as unknown as Record<string, unknown>)[k]).not.toBeUndefined();
    }
    // survives JSON unchanged
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});

describe('netnsPid', () => {
  it('reads /proc/PID/net of that process', async () => {
    const doc = await listSockets({ procRoot, netnsPid: 4242, owners: true });
    expect(doc.sockets.map((s) => [s.state, s.localAddress, s.localPort, s.owners])).toEqual([
      ['LISTEN', '127.0.0.1', 47123, [{ pid: 4242, command: 'nsholder', fd: 3 }]],
      ['ESTABLISHED', '127.0.0.1', 47123, [{ pid: 4242, command: 'nsholder', fd: 4 }]],
    ]);
  });

  it('says which process is missing', async () => {
    const err = await listSockets({ procRoot, netnsPid: 999999 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSuchProcessError);
    expect((err as Error).message).toMatch(/netnsPid 999999: no such process/);
  });
});

describe('aborts', () => {
  it('rejects at once with an aborted signal', async () => {
    await expect(listSockets({ procRoot, signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });
});

describe('a listing big enough for the reader worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-sockets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns every line exactly once, in order', async () => {
    // a copy of the fixtures whose tcp table has 60k lines and whose sockstat says so
    cpSync(procRoot, dir, { recursive: true, verbatimSymlinks: true });
    const lines: string[] = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    const N = 60_000;
    for (let i = 0; i < N; i++) {
      const port = (i % 60000) + 1;
      lines.push(`${String(i).padStart(4)}: 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 ${100000 + i} 1 0000000000000000 20 4 30 10 -1`.padEnd(149));
    }
    mkdirSync(join(dir, 'net'), { recursive: true });
    writeFileSync(join(dir, 'net/tcp'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'net/sockstat'), `sockets: used ${N}\nTCP: inuse ${N} orphan 0 tw 0 alloc ${N} mem 1\n`);
    for (const owners of [false, true]) {
      const doc = await listSockets({ procRoot: dir, protocols: ['tcp'], families: ['inet'], owners });
      expect(doc.sockets).toHaveLength(N);
      expect(doc.sockets.every((s, i) => s.inode === 100000 + i)).toBe(true);
    }
  });
});
