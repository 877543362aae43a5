// `netdiag ipc listen|send` run in-process against real sockets: text and --json output,
// --echo, --wait-reply with an fd, exit codes, and one-line errors (exit 2) for bad usage,
// missing servers and taken addresses.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run } from '../../src/cli/ipc/command.js';
import type { Output } from '../../src/cli/output.js';

function capture(): Output & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    color: false,
    isTTY: false,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Runs `netdiag ipc ...`, mapping a thrown UsageError to exit 2 as main.ts does. */
async function ipc(argv: string[], signal = new AbortController().signal): Promise<{ code: number; out: string; err: string }> {
  const o = capture();
  let code: number;
  try {
    code = await run(argv, o, signal);
  } catch (e) {
    o.err(`netdiag: ${(e as Error).message}\n`);
    code = 2;
  }
  return { code, out: o.stdout(), err: o.stderr() };
}

/** Starts `ipc listen`, waits until it listens; stop() aborts it and returns its result. */
async function listener(argv: string[]) {
  const ac = new AbortController();
  const o = capture();
  const done = run(['listen', ...argv], o, ac.signal);
  // --json prints nothing until the end: watch for the socket in /proc/net/unix instead
  const bound = (): boolean => readFileSync('/proc/net/unix', 'utf8').split('\n').some((l) => l.endsWith(` ${argv[0]}`));
  while (!o.stdout().includes('listening on') && !bound()) {
    if (o.stderr()) throw new Error(o.stderr());
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    output: o,
    async stop() {
      ac.abort();
      const code = await done;
      return { code, out: o.stdout(), err: o.stderr() };
    },
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netdiag-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const name = (): string => `@netdiag-cli-${process.pid}-${++n}`;

describe('netdiag ipc', () => {
  it('send → listen --echo: the listener prints each message with size and credentials; --wait-reply prints the echo', async () => {
    const address = name();
    const l = await listener([address, '--echo']);
    const sent = await ipc(['send', address, 'hello', 'wörld', '--fd', '/dev/null', '--wait-reply']);
    expect(sent.err).toBe('');
    expect(sent.code).toBe(0);
    expect(sent.out).toContain(`sent 2 messages (5 + 6 bytes) to ${address}; peer pid ${process.pid} uid ${process.getuid!()}`);
    expect(sent.out).toContain('reply: 5 bytes, 1 fd (/dev/null): "hello"');
    const r = await l.stop();
    expect(r.code).toBe(0);
    expect(r.out).toContain(`pid ${process.pid} uid ${process.getuid!()} gid ${process.getgid!()}: 5 bytes, 1 fd (/dev/null): "hello"`);
    expect(r.out).toContain(': 6 bytes: "wörld"');
  });

  it('--json documents from both sides', async () => {
    const address = name();
    const l = await listener([address, '--json', '--echo']);
    const sent = await ipc(['send', address, 'ping', '--wait-reply', '--json']);
    expect(sent.code).toBe(0);
    const doc = JSON.parse(sent.out) as Record<string, unknown>;
    expect(doc).toMatchObject({
      schema: 'netdiag.ipc/1',
      command: 'send',
      address,
      peer: { pid: process.pid },
      sent: [{ size: 4 }],
      reply: { size: 4, encoding: 'utf8', data: 'ping', fds: [] },
    });
    expect((await ipc(['send', address, '\u0001binary', '--wait-reply'])).code).toBe(0); // the echo proves it was read
    const r = await l.stop();
    const listen = JSON.parse(r.out) as { schema: string; messages: { size: number; encoding: string; data: string; peer: { pid: number } }[]; connections: unknown[] };
    expect(listen.schema).toBe('netdiag.ipc/1');
    expect(listen.connections).toHaveLength(2);
    expect(listen.messages.map((m) => [m.size, m.encoding])).toEqual([
      [4, 'utf8'],
      [7, 'base64'],
    ]);
    expect(Buffer.from(listen.messages[1]!.data, 'base64').toString()).toBe('\u0001binary');
  });

  it('--wait-reply without a reply exits 1', async () => {
    const address = name();
    const l = await listener([address]);
    const sent = await ipc(['send', address, 'anyone?', '--wait-reply', '--timeout', '0.2']);
    expect(sent.code).toBe(1);
    expect(sent.out).toContain('no reply');
    await l.stop();
  });

  it('one-line errors with exit 2', async () => {
    const missing = await ipc(['send', join(dir, 'none.sock'), 'x']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^netdiag: cannot connect to .*none\.sock: ENOENT \(no socket at that path; .*\)\n$/);

    const refused = await ipc(['send', name(), 'x']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/ECONNREFUSED/);

    const address = name();
    const l = await listener([address]);
    const taken = await ipc(['listen', address]);
    expect(taken.code).toBe(2);
    expect(taken.err.trim().split('\n')).toHaveLength(1);
    expect(taken.err).toMatch(/cannot listen on .*in use/);
    await l.stop();

    for (const argv of [['send'], ['send', name()], ['bogus'], ['listen', '@x', '--mode', '9'], ['listen', '@x', '--mode', '600'], ['send', '@x', 'y', '--nope']]) {
      const r = await ipc(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^netdiag: .+ \(.+\)\n$/);
      expect(r.err).not.toMatch(/\n\s+at /); // never a stack trace
    }
  });

  it('--help prints usage and exits 0', async () => {
    const r = await ipc(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('netdiag ipc listen <path|@name>');
    expect((await ipc(['send', '--help'])).out).toContain('--wait-reply');
  });
});
