// `netdiag sockets` / `netdiag ss` in-process on the fixture /proc (PROC_ROOT, as ss reads
// it): defaults like ss, flags, filters, --json, --watch, and one-line errors with exit 2.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { useFixtureProc } from '../helpers/proc-fixture.js';
import type { Output } from '../../src/cli/output.js';

useFixtureProc();

interface Captured {
  code: number;
  out: string;
  err: string;
  writes: number;
}

async function netdiag(argv: string[], signal = new AbortController().signal, onOut?: () => void): Promise<Captured> {
  let out = '';
  let err = '';
  let writes = 0;
  const o: Output = {
    out: (t) => {
      out += t;
      writes++;
      onOut?.();
    },
    err: (t) => void (err += t),
    color: false,
    isTTY: false,
  };
  const code = await run(argv, o, signal);
  return { code, out, err, writes };
}

const column = (out: string, n: number): string[] => out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[n]!);

describe('listing', () => {
  it('shows connected sockets by default, like ss (no LISTEN, TIME-WAIT, SYN-RECV, UNCONN)', async () => {
    const r = await netdiag(['sockets', '-tn']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(new Set(column(r.out, 0))).toEqual(new Set(['ESTAB', 'SYN-SENT', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSING', 'UNDEF']));
  });

  it('answers to ss and applies -l and -a in order', async () => {
    const listening = await netdiag(['ss', '-tln']);
    expect(new Set(column(listening.out, 0))).toEqual(new Set(['LISTEN', 'UNCONN']));
    expect((await netdiag(['ss', '-tnla'])).out.split('\n').length).toBeGreaterThan(listening.out.split('\n').length);
    expect((await netdiag(['ss', '-tnal'])).out).toBe(listening.out);
  });

  it('reads -4 and -6, alone or in a cluster', async () => {
    const v4 = await netdiag(['ss', '-4tan']);
    expect(v4.out).not.toContain('[');
    expect(v4.out).toContain('10.0.0.5:22');
    const v6 = await netdiag(['ss', '-t', '-a', '-n', '-6']);
    expect(v6.out).not.toContain('10.0.0.5');
    expect(v6.out).toContain('[::ffff:127.0.0.1]:5432');
    expect((await netdiag(['ss', '-46tan'])).out).toBe((await netdiag(['ss', '-tan'])).out);
  });

  it('takes filters as flags and as ss words', async () => {
    const words = await netdiag(['ss', '-tan', 'state', 'established', '( sport = :22 )']);
    expect(words.out.trim().split('\n')).toHaveLength(2);
    expect(words.out).toContain('10.0.0.9:51000');
    const flags = await netdiag(['ss', '-tan', '--sport', '22', '--dst', '10.0.0.0/28']);
    expect(column(flags.out, 4)).toEqual(['10.0.0.9:51000', '10.0.0.7:50001', '10.0.0.9:51001', '10.0.0.9:51002']);
    // an IPv4 rule matches the IPv4-mapped socket too
    expect((await netdiag(['ss', '-tan', '--src', '127.0.0.1', '--dport', '50000-60000'])).out).toContain('[::ffff:127.0.0.1]:5432');
    expect((await netdiag(['ss', '-tan', '--pid', '201'])).out.trim().split('\n')).toHaveLength(2);
    expect((await netdiag(['ss', '-xa', '--command', 'dbus-daemon'])).out).toContain('/run/sshd.sock 5001');
  });

  it('prints processes with -p', async () => {
    const r = await netdiag(['ss', '-tlnp']);
    expect(r.out).toContain('users:(("postgres",pid=200,fd=7),("postgres",pid=201,fd=7))');
  });

  it('lists another network namespace', async () => {
    const r = await netdiag(['ss', '-tan', '--netns-pid', '4242']);
    expect(r.out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['LISTEN', 'ESTAB']);
  });
});

describe('--json', () => {
  it('prints one netdiag.sockets/1 document', async () => {
    const r = await netdiag(['ss', '-ta', '--json']);
    const doc = JSON.parse(r.out) as { schema: string; sockets: { protocol: string; owners: unknown }[]; ownersUnreadable?: number[] };
    expect(doc.schema).toBe('netdiag.sockets/1');
    expect(doc.sockets).toHaveLength(20);
    expect(doc.sockets.every((s) => s.protocol === 'tcp' && s.owners === null)).toBe(true);
    expect(doc.ownersUnreadable).toBeUndefined();
  });

  it('adds owners and ownersUnreadable with -p, and stays valid when empty', async () => {
    const withOwners = JSON.parse((await netdiag(['ss', '-tlp', '--json'])).out) as { sockets: { owners: unknown[] }[]; ownersUnreadable: number[] };
    expect(withOwners.ownersUnreadable).toEqual([]);
    expect(withOwners.sockets.every((s) => Array.isArray(s.owners))).toBe(true);
    expect(JSON.parse((await netdiag(['ss', '--udplite', '--json'])).out)).toEqual({ schema: 'netdiag.sockets/1', sockets: [], backend: 'proc' });
  });
});

describe('--watch', () => {
  it('redraws until the signal aborts, then exits 0', async () => {
    const ac = new AbortController();
    let frames = 0;
    const r = await netdiag(['ss', '-tln', '--watch'], ac.signal, () => {
      if (++frames === 2) ac.abort();
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('LISTEN');
  });
});

describe('errors', () => {
  const cases: [string[], RegExp][] = [
    [['ss', '--sport', 'x'], /option --sport needs a port or a range, got 'x'/],
    [['ss', '--dport', '2000-1000'], /option --dport has an empty range/],
    [['ss', '--src', 'localhost'], /option --src needs an IP address or CIDR/],
    [['ss', '--pid', 'abc'], /option --pid needs a process id/],
    [['ss', '--netns-pid', '999999'], /option --netns-pid: no process with pid 999999/],
    [['ss', '--netns-pid', 'x'], /option --netns-pid needs a number/],
    [['ss', '--watch', '--json'], /--watch and --json cannot be combined/],
    [['ss', 'state', 'nonsense'], /unknown socket state 'nonsense'/],
    [['ss', 'sport', '=', ':22', 'or', 'dport', '=', ':22'], /operator 'or' is not supported/],
    [['ss', '-Z'], /unknown option -Z/],
    [['ss', 'exclude', 'all'], /no socket state is left/],
  ];
  for (const [argv, message] of cases) {
    it(`netdiag ${argv.join(' ')}`, async () => {
      const r = await netdiag(argv);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^netdiag: [^\n]+\([^\n]+\)\n$/);
    });
  }

  it('prints help', async () => {
    const r = await netdiag(['ss', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: netdiag sockets/);
    expect(r.out).toContain('--netns-pid');
  });
});
