// A socket inside another network namespace (unshare -n) is invisible to a plain listing and
// found through netnsPid, with its owner; `netdiag ss --netns-pid` prints it. On both
// backends: sock_diag opens its socket inside the namespace (setns on a short-lived thread).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listSockets } from '../../src/sockets/index.js';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';

// in the new namespace: lo up, a listener and one connection to it on 127.0.0.1
const HOLDER = `
import json, os, socket, sys
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen()
c = socket.create_connection(ls.getsockname()); a, _ = ls.accept()
ino = lambda s: os.fstat(s.fileno()).st_ino
print(json.dumps({'pid': os.getpid(), 'port': ls.getsockname()[1], 'listener': [ino(ls), ls.fileno()], 'client': [ino(c), c.fileno()], 'accepted': [ino(a), a.fileno()]}), flush=True)
sys.stdin.read()
`;

interface Report {
  pid: number;
  port: number;
  listener: [number, number];
  client: [number, number];
  accepted: [number, number];
}

for (const backend of ['netlink', 'proc'] as const) {
  describeWith(['root', 'tool:unshare', 'tool:ip', 'tool:python3'], `another network namespace (${backend})`, () => {
    let child: ChildProcess | undefined;
    let report: Report;

    beforeAll(async () => {
      child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec python3 -c "$0"`, HOLDER], { stdio: ['pipe', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child!.stdout! }).once('line', resolve);
        child!.once('exit', (code) => reject(new Error(`the namespace holder exited with ${code}`)));
      });
      report = JSON.parse(line) as Report;
    });

    afterAll(async () => {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.stdin!.end();
      child.kill('SIGTERM');
      await exited;
    });

    it('is not in this namespace’s listing', async () => {
      const here = await listSockets({ backend, protocols: ['tcp'] });
      const inodes = new Set(here.sockets.map((s) => s.inode));
      expect(inodes.has(report.listener[0])).toBe(false);
      expect(inodes.has(report.client[0])).toBe(false);
    });

    it('is found through netnsPid, with owners', async () => {
      const there = await listSockets({ backend, protocols: ['tcp'], netnsPid: report.pid, owners: true });
      expect(there.backend).toBe(backend);
      const by = (inode: number) => there.sockets.find((s) => s.inode === inode);
      expect(by(report.listener[0])).toMatchObject({ state: 'LISTEN', localAddress: '127.0.0.1', localPort: report.port, owners: [{ pid: report.pid, command: 'python3', fd: report.listener[1] }] });
      expect(by(report.client[0])).toMatchObject({ state: 'ESTABLISHED', remotePort: report.port, owners: [{ pid: report.pid, command: 'python3', fd: report.client[1] }] });
      expect(by(report.accepted[0])).toMatchObject({ state: 'ESTABLISHED', localPort: report.port, owners: [{ pid: report.pid, command: 'python3', fd: report.accepted[1] }] });
      expect(there.sockets.filter((s) => s.state !== 'TIME_WAIT')).toHaveLength(3);
    });

    it('is printed by netdiag ss --netns-pid', () => {
      const r = spawnSync(process.execPath, [cliPath(), 'ss', '-tlnp', '--netns-pid', String(report.pid), '--backend', backend], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`127.0.0.1:${report.port}`);
      expect(r.stdout).toContain(`users:(("python3",pid=${report.pid},fd=${report.listener[1]}))`);
    });
  });
}
