// Run as nobody (setpriv, uid 65534), the lister cannot read root's descriptors: it must say
// so in ownersUnreadable (and netdiag ss -p on stderr), not claim the sockets have no owner.
// The unprivileged child runs the compiled code in dist/ (npm run build:ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { worldReadableRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

const HOLDER = `
import json, os, socket, sys
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen()
print(json.dumps({'pid': os.getpid(), 'port': ls.getsockname()[1], 'inode': os.fstat(ls.fileno()).st_ino}), flush=True)
sys.stdin.read()
`;

function packageRoot(): string {
  const root = worldReadableRoot(); // fails with "run npm run build:ts" when dist/ is missing
  if (!existsSync(join(root, 'dist/sockets/index.js'))) throw new Error('dist/sockets is missing: run npm run build:ts before the integration tests');
  return root;
}

for (const backend of ['netlink', 'proc'] as const) {
  describeWith(['root', 'tool:setpriv', 'tool:python3'], `an unprivileged listing (${backend})`, () => {
    let child: ChildProcess | undefined;
    let holder: { pid: number; port: number; inode: number };

    beforeAll(async () => {
      child = spawn('python3', ['-c', HOLDER], { stdio: ['pipe', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child!.stdout! }).once('line', resolve);
        child!.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
      });
      holder = JSON.parse(line) as typeof holder;
    });

    afterAll(async () => {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.stdin!.end();
      child.kill('SIGTERM');
      await exited;
    });

    it('reports root’s processes as unreadable instead of giving their sockets no owner', () => {
      const lib = join(packageRoot(), 'dist/sockets/index.js');
      const script = `import(${JSON.stringify(lib)}).then(async (m) => {
        const doc = await m.listSockets({ backend: '${backend}', protocols: ['tcp'], localPort: ${holder.port}, owners: true });
        process.stdout.write(JSON.stringify({ uid: process.getuid(), doc }));
      }).catch((e) => { console.error(e); process.exit(3); });`;
      const r = spawnSync('setpriv', [...NOBODY, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const { uid, doc } = JSON.parse(r.stdout) as { uid: number; doc: { sockets: { inode: number; owners: unknown[]; uid: number }[]; ownersUnreadable: number[] } };
      expect(uid).toBe(65534);
      const listener = doc.sockets.find((s) => s.inode === holder.inode);
      expect(listener).toMatchObject({ owners: [], uid: 0 });
      expect(doc.ownersUnreadable).toContain(holder.pid);
      expect(doc.ownersUnreadable).toContain(process.pid);
      // and as root the same socket has its owner
      expect(spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).stdout).toContain(`"owners":[{"pid":${holder.pid},"command":"python3"`);
    });

    it('makes netdiag ss -p say which processes it could not read', () => {
      const cli = join(packageRoot(), 'bin/netdiag.js');
      const r = spawnSync('setpriv', [...NOBODY, process.execPath, cli, 'ss', '-tlnp', '--sport', String(holder.port), '--backend', backend], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`127.0.0.1:${holder.port}`);
      expect(r.stdout).not.toContain('users:(');
      expect(r.stderr).toMatch(/^netdiag: could not read the descriptors of \d+ process(es)? \(pid [^)]*\); their sockets show no process \(run as root to see them\)\n$/);
    });
  });
}
