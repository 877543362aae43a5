// Processes that exit while the owner scan walks /proc: the scan neither throws nor calls a
// vanished process unreadable, and every owner it reports held that socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listSockets } from '../../src/sockets/index.js';
import { describeWith } from '../helpers/requirements.js';

// forks children that open a few sockets and exit at once, as fast as it can, printing pids
const CHURN = `
import os, socket, sys, time
deadline = time.time() + 120
while time.time() < deadline:
    pid = os.fork()
    if pid == 0:
        ss = [socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(8)]
        os._exit(0)
    sys.stdout.write('%d\\n' % pid)
    sys.stdout.flush()
    os.waitpid(pid, 0)
`;

describeWith(['tool:python3'], 'processes exiting during the scan', () => {
  const churners: ChildProcess[] = [];
  const churnPids = new Set<number>();

  beforeAll(() => {
    for (let i = 0; i < 2; i++) {
      const c = spawn('python3', ['-c', CHURN], { stdio: ['ignore', 'pipe', 'inherit'] });
      createInterface({ input: c.stdout! }).on('line', (l) => churnPids.add(Number(l)));
      churners.push(c);
    }
  });

  afterAll(async () => {
    await Promise.all(
      churners.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => {
        c.once('exit', r);
        c.kill('SIGKILL');
      }))),
    );
  });

  for (const backend of ['netlink', 'proc'] as const) it(`lists owners again and again while processes come and go (${backend})`, { timeout: 180_000 }, async () => {
    // wait until the churn is under way
    while (churnPids.size < 50) await new Promise((r) => setTimeout(r, 10));
    const before = churnPids.size;
    let scans = 0;
    let sawChurnOwner = false;
    while (scans < 10 || churnPids.size - before < 50) {
      const doc = await listSockets({ backend, protocols: ['unix'], owners: true });
      expect(doc.backend).toBe(backend);
      scans++;
      // let the churners' output in (a small listing never waits for I/O)
      await new Promise((r) => setImmediate(r));
      for (const pid of doc.ownersUnreadable!) expect(churnPids.has(pid), `vanished process ${pid} reported unreadable`).toBe(false);
      for (const s of doc.sockets) {
        for (const o of s.owners!) {
          expect(o.fd).toBeGreaterThanOrEqual(0);
          if (churnPids.has(o.pid)) sawChurnOwner = true;
        }
      }
      if (scans > 1000) break;
    }
    expect(churnPids.size - before).toBeGreaterThanOrEqual(50);
    // not asserted (it depends on scheduling), only reported: a churner caught mid-life
    if (!sawChurnOwner) process.stderr.write('[note] no short-lived process was caught holding a socket during the scans\n');
  });
});
