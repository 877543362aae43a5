// CLI writers honour a slow stdout (issue 10, item 5): ping's BufferedWriter holds text while
// stdout is backlogged and sends it on 'drain', bounding what it holds; the sockets listing
// waits for stdout between batches instead of letting it buffer the whole listing.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { useFixtureProc } from '../helpers/proc-fixture.js';
import type { Output } from '../../src/cli/output.js';
import { BufferedWriter } from '../../src/cli/ping/buffered-writer.js';

/** An Output whose stdout is backlogged until release() (as process.stdout on a stalled pipe). */
function slowOutput() {
  let releaseWaiters: (() => void)[] = [];
  const o = {
    writes: [] as string[],
    errors: [] as string[],
    backlogged: false,
    drainedCalls: 0,
    color: false,
    isTTY: false,
    out(t: string) {
      o.writes.push(t);
    },
    err(t: string) {
      o.errors.push(t);
    },
    drained(): Promise<void> {
      o.drainedCalls++;
      if (!o.backlogged) return Promise.resolve();
      return new Promise<void>((r) => releaseWaiters.push(r));
    },
    release() {
      o.backlogged = false;
      const w = releaseWaiters;
      releaseWaiters = [];
      for (const r of w) r();
    },
  };
  return o;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('BufferedWriter (ping output) on a backlogged stdout', () => {
  it('holds text while stdout is backlogged and writes it in one piece on drain', async () => {
    const o = slowOutput();
    const w = new BufferedWriter(o, 16);
    w.write('64 bytes from 127.0.0.1: icmp_seq=1\n');
    expect(o.writes).toHaveLength(1); // over the 16-byte limit: written at once
    o.backlogged = true;
    w.write('icmp_seq=2\n');
    w.write('icmp_seq=3 and more text\n');
    await turn();
    await turn();
    expect(o.writes).toHaveLength(1);
    o.release();
    await turn();
    expect(o.writes.slice(1)).toEqual(['icmp_seq=2\nicmp_seq=3 and more text\n']);
  });

  it('caps what it holds: past maxHeld, output is left out and stderr says how much', async () => {
    const o = slowOutput();
    const w = new BufferedWriter(o, 10, 100);
    o.backlogged = true;
    for (let i = 0; i < 50; i++) w.write('0123456789'); // 500 bytes offered, 100 held
    await turn();
    expect(o.writes).toEqual([]);
    expect(w.dropped).toBe(400);
    o.release();
    await turn();
    expect(o.writes.join('')).toBe('0123456789'.repeat(10));
    expect(o.errors).toEqual(['netdiag: stdout did not keep up: 400 bytes of probe output were left out (the statistics count every probe)\n']);
  });

  it('flush() hands everything over even when backlogged (the end of a run)', () => {
    const o = slowOutput();
    const w = new BufferedWriter(o, 1000);
    o.backlogged = true;
    w.write('a');
    w.write('b');
    w.flush();
    expect(o.writes).toEqual(['ab']);
  });

  it('takes a plain function as before (no flow control)', async () => {
    const got: string[] = [];
    const w = new BufferedWriter((t) => got.push(t));
    w.write('x');
    w.write('y');
    await turn();
    expect(got).toEqual(['xy']);
  });
});

describe('netdiag sockets --json on a backlogged stdout', () => {
  useFixtureProc();

  it('stops producing while stdout is backlogged and finishes the document once it drains', async () => {
    // the reference: everything, with a stdout that keeps up
    const fast = slowOutput();
    expect(await run(['sockets', '-an', '--json'], fast as Output)).toBe(0);
    const batches = fast.writes.length;
    expect(batches).toBeGreaterThan(3); // head, batches, tail: there is something to hold back

    const o = slowOutput();
    const origOut = o.out;
    o.out = (t: string) => {
      origOut(t);
      o.backlogged = true; // every write fills the pipe
    };
    const done = run(['sockets', '-an', '--json'], o as Output);
    for (let i = 0; i < 20; i++) await turn();
    // the head and one batch went out; the rest waits for the reader
    const held = o.writes.length;
    expect(held).toBeLessThan(batches);
    for (let i = 0; i < 200 && o.writes.length < batches; i++) {
      o.release();
      await turn();
    }
    expect(await done).toBe(0);
    expect(o.writes.join('')).toBe(fast.writes.join(''));
    JSON.parse(o.writes.join(''));
  });
});

describe('BufferedWriter results', () => {
  it('never leaves out a result (header, statistics), however much is held', async () => {
    const o = slowOutput();
    const w = new BufferedWriter(o, 10, 100);
    o.backlogged = true;
    for (let i = 0; i < 20; i++) w.write('0123456789');
    w.writeResult('--- statistics ---\n');
    expect(w.dropped).toBe(100);
    o.release();
    await turn();
    expect(o.writes.join('')).toBe('0123456789'.repeat(10) + '--- statistics ---\n');
  });
});
