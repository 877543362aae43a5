// readTables(): whole lines, exactly once and in order, whether this thread reads, the worker
// reads everything, or the worker takes a file over halfway; missing tables, huge lines,
// early exits and aborts leave no descriptor open.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTables as readTablesWith, type ReadTablesOptions } from '../../src/sockets/proc-tables-reader.js';
import { compiledWorker } from '../helpers/compiled-worker.js';

const dir = mkdtempSync(join(tmpdir(), 'netdiag-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// the worker module, compiled: Node 20 cannot start a worker from src/'s TypeScript
const workerUrl = compiledWorker('src/sockets/proc-reader-worker.ts', ['src/sockets/proc-reader-protocol.ts']);
const readTables = (paths: string[], options: ReadTablesOptions = {}) => readTablesWith(paths, { ...options, workerUrl });

function makeLines(n: number, tag: string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${tag} line ${i} ${'x'.repeat(i % 97)}\n`;
  return s;
}

async function collect(paths: string[], options: Parameters<typeof readTables>[1] = {}): Promise<string[]> {
  const out = paths.map(() => '');
  for await (const c of readTables(paths, options)) {
    const text = c.buf.toString('latin1', c.start, c.end);
    // every chunk is whole lines
    expect(text.endsWith('\n') || c.end === c.buf.length || !text.includes('\n')).toBe(true);
    out[c.table] += text;
  }
  return out;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('readTables', () => {
  const a = makeLines(40_000, 'a');
  const b = makeLines(3, 'b');
  writeFileSync(join(dir, 'a'), a);
  writeFileSync(join(dir, 'b'), b);
  const paths3 = () => [join(dir, 'a'), join(dir, 'missing'), join(dir, 'b')];

  it('reads tables in order in this thread, skipping missing ones', async () => {
    expect(await collect([join(dir, 'a'), join(dir, 'missing'), join(dir, 'b')])).toEqual([a, '', b]);
  });

  it('reads alone when the worker cannot start (a bundle without its module)', async () => {
    const missing = new URL('./no-such-worker.js', workerUrl);
    for (const handOverAtOnce of [true, false]) {
      const got: string[] = paths3().map(() => '');
      for await (const c of readTablesWith(paths3(), { offload: true, handOverAtOnce, workerUrl: missing })) got[c.table] += c.buf.toString('latin1', c.start, c.end);
      expect(got).toEqual([a, '', b]);
    }
  });

  it('reads everything through the worker', async () => {
    expect(await collect([join(dir, 'a'), join(dir, 'missing'), join(dir, 'b')], { offload: true, handOverAtOnce: true })).toEqual([a, '', b]);
  });

  it('hands a half-read file over to the worker without losing or repeating a line', async () => {
    // a FIFO fed slowly: this thread is still reading when the worker is ready
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const parts = 20;
    const text = makeLines(20_000, 'f');
    const step = Math.ceil(text.length / parts);
    const pieces = Array.from({ length: parts }, (_, i) => text.slice(i * step, (i + 1) * step));
    pieces.forEach((p, i) => writeFileSync(join(dir, `piece${i}`), p));
    const writer = spawn('sh', ['-c', `for i in $(seq 0 ${parts - 1}); do cat ${dir}/piece$i; sleep 0.05; done > ${fifo}`]);
    try {
      expect(await collect([fifo, join(dir, 'b')], { offload: true })).toEqual([text, b]);
    } finally {
      writer.kill();
    }
  });

  it('hands over at the start of a table', async () => {
    // an empty FIFO that ends only after the worker has started: the next table starts
    // with the worker ready and nothing read yet
    const fifo = join(dir, 'fifo2');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', `sleep 0.5; : > ${fifo}`]);
    try {
      expect(await collect([fifo, join(dir, 'a'), join(dir, 'b')], { offload: true })).toEqual(['', a, b]);
    } finally {
      writer.kill();
    }
  });

  it('grows its buffer for a line longer than it', async () => {
    const long = 'y'.repeat(700_000) + '\nshort\n';
    writeFileSync(join(dir, 'long'), long);
    expect(await collect([join(dir, 'long')])).toEqual([long]);
    expect(await collect([join(dir, 'long')], { offload: true, handOverAtOnce: true })).toEqual([long]);
  });

  it('closes everything when the reader stops early or is aborted', async () => {
    const before = openFds();
    for (const options of [{}, { offload: true, handOverAtOnce: true }, { offload: true }]) {
      for await (const _ of readTables([join(dir, 'a'), join(dir, 'b')], options)) break;
    }
    const ac = new AbortController();
    ac.abort();
    const iter = readTables([join(dir, 'a')], { signal: ac.signal });
    await expect((async () => {
      for await (const _ of iter) {
        // the first chunk comes before the first yield to the event loop
      }
    })()).rejects.toThrow(/abort/i);
    // workers release their descriptors asynchronously
    for (let i = 0; i < 50 && openFds() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBeLessThanOrEqual(before);
  });
});
