// Where sock_diag is refused, --backend auto reads /proc and says so (backend: "proc"), and
// --backend netlink fails with one line naming the fix. The refusal is real: the CLI runs
// under a seccomp filter (installed by python3 through prctl, then exec) that fails
// socket(AF_NETLINK, ...) with EPERM, as a container runtime's profile may.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { platform } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';

// socket() is syscall 41 on x86_64 and 198 on aarch64; AF_NETLINK is 16
const NO_NETLINK = `
import ctypes, os, platform, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
nr = {'x86_64': 41, 'aarch64': 198}[platform.machine()]
ins = lambda code, jt, jf, k: struct.pack('HBBI', code, jt, jf, k)
prog = ctypes.create_string_buffer(b''.join([ins(0x20, 0, 0, 0), ins(0x15, 0, 3, nr), ins(0x20, 0, 0, 16), ins(0x15, 0, 1, 16), ins(0x06, 0, 0, 0x00050001), ins(0x06, 0, 0, 0x7fff0000)]))
fprog = ctypes.create_string_buffer(struct.pack('HxxxxxxQ', 6, ctypes.addressof(prog)))
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0) != 0:
    sys.stderr.write('seccomp unavailable: errno %d\\n' % ctypes.get_errno()); sys.exit(77)
os.execv(sys.argv[1], sys.argv[1:])
`;

const runNoNetlink = (args: string[]) => spawnSync('python3', ['-c', NO_NETLINK, process.execPath, cliPath(), ...args], { encoding: 'utf8' });

describeWith(['tool:python3'], 'sock_diag refused by a seccomp filter', () => {
  let server: net.Server;
  let port = 0;
  let seccomp: string | null = null;

  beforeAll(async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    const probe = runNoNetlink(['ss', '--help']);
    if (probe.status === 77 || !['x64', 'arm64'].includes(process.arch) || platform() !== 'linux') seccomp = probe.stderr.trim() || 'unsupported architecture';
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('auto falls back to /proc and says so', (ctx) => {
    if (seccomp) return ctx.skip(`skipped: ${seccomp}`);
    const r = runNoNetlink(['ss', '-tl', '--sport', String(port), '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { backend: string; sockets: { localPort: number; cookie?: unknown }[] };
    expect(doc.backend).toBe('proc');
    expect(doc.sockets).toHaveLength(1);
    expect(doc.sockets[0]!.localPort).toBe(port);
    expect(doc.sockets[0]).not.toHaveProperty('cookie');
    // and without the filter, sock_diag answers
    const free = spawnSync(process.execPath, [cliPath(), 'ss', '-tl', '--sport', String(port), '--json'], { encoding: 'utf8' });
    expect(JSON.parse(free.stdout)).toMatchObject({ backend: 'netlink', sockets: [{ localPort: port }] });
  });

  it('--backend netlink fails with one line that names the fix', (ctx) => {
    if (seccomp) return ctx.skip(`skipped: ${seccomp}`);
    const r = runNoNetlink(['ss', '-tl', '--backend', 'netlink']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('netdiag: cannot open a sock_diag socket (EPERM) (use --backend auto or --backend proc)\n');
  });
});
