// netdiag ping on loopback with raw sockets: the library (IPv4, IPv6, kernel-timestamped RTTs
// that a blocked event loop does not inflate, 10,000 targets in one run) and the CLI, whose
// output must have the line shapes of iputils ping run side by side, Ctrl-C included; and two
// netdiag floods plus an iputils flood at once never take each other's replies.
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/built-package.js';
import { runProcess, startProcess } from '../helpers/process.js';
import { describeWith } from '../helpers/requirements.js';
import { ping, pingMany, pingStream } from '../../src/ping/index.js';
import type { PingDocument, PingEvent } from '../../src/ping/types.js';

function netdiag(args: string[], timeoutMs = 60_000) {
  return runProcess(process.execPath, [cliPath(), 'ping', ...args], { timeoutMs });
}

// one regex per line kind, written from iputils' printf formats; both tools must match them
const LINE = {
  header4: /^PING (\S+) \((\d+\.\d+\.\d+\.\d+)\) (\d+)\((\d+)\) bytes of data\.$/,
  header6: /^PING (\S+)\((\S+)\) (\d+) data bytes$/,
  reply: /^(\[\d+\.\d{6}\] )?(\d+) bytes from (\S+): icmp_seq=(\d+) ttl=(\d+) time=(\d+(?:\.\d+)?) ms$/,
  blank: /^$/,
  stats: /^--- (\S+) ping statistics ---$/,
  counts: /^(\d+) packets transmitted, (\d+) received, (\d+(?:\.\d+)?)% packet loss, time (\d+)ms$/,
  rtt: /^rtt min\/avg\/max\/mdev = (\d+\.\d{3})\/(\d+\.\d{3})\/(\d+\.\d{3})\/(\d+\.\d{3}) ms$/,
};

/** The kind of each line, or 'unknown:<line>'. */
function shapes(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => Object.entries(LINE).find(([, re]) => re.test(l))?.[0] ?? `unknown:${l}`);
}

describeWith(['net_raw'], 'ping on loopback (raw sockets, library)', () => {
  for (const [address, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
    it(`IPv${family}: replies with TTL 64 and microsecond RTTs from kernel timestamps`, async () => {
      const r = await ping(address, { count: 3, interval: 20, socket: 'raw' });
      expect(r).toMatchObject({ address, family, transmitted: 3, received: 3, loss: 0, duplicates: 0, corrupted: 0 });
      for (const p of r.probes) {
        expect(p).toMatchObject({ status: 'reply', ttl: 64, bytes: 64, from: address, flags: [] });
        expect(p.rtt!).toBeGreaterThan(0);
        expect(p.rtt!).toBeLessThan(5);
      }
    });
  }

  it('a busy event loop does not inflate RTTs (kernel receive time minus C send time)', async () => {
    // block the loop for 50 ms every 60 ms while 20 probes are out
    const blocker = setInterval(() => {
      const end = performance.now() + 50;
      while (performance.now() < end);
    }, 60);
    try {
      const run = pingStream('127.0.0.1', { count: 20, interval: 25, timeout: 2000 });
      const rtts: number[] = [];
      for await (const e of run as AsyncIterable<PingEvent>) if (e.type === 'reply') rtts.push(e.reply.rtt);
      const doc = await run.result;
      expect(doc.targets[0]!.received).toBe(20);
      expect(rtts).toHaveLength(20);
      // a userspace clock would show up to 50 ms here
      expect(Math.max(...rtts)).toBeLessThan(5);
    } finally {
      clearInterval(blocker);
    }
  });

  it('answers 10,000 loopback targets (127.0.0.0/8) in one run', async () => {
    const targets = Array.from({ length: 10_000 }, (_, i) => `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
    const doc = await pingMany(targets, { probes: false, timeout: 3000 });
    expect(doc.targets).toHaveLength(10_000);
    const missing = doc.targets.filter((t) => t.received !== 1).map((t) => t.address);
    expect(missing).toEqual([]);
    expect(doc.targets.every((t) => t.transmitted === 1 && t.duplicates === 0)).toBe(true);
  });
});

describeWith(['net_raw', 'tool:ping'], 'netdiag ping CLI next to iputils ping (loopback)', () => {
  it('prints the same line shapes as iputils for IPv4', async () => {
    const args = ['-c', '3', '-i', '0.2', '127.0.0.1'];
    const [ours, theirs] = await Promise.all([netdiag(args), runProcess('ping', args)]);
    expect(ours.code).toBe(0);
    expect(theirs.code).toBe(0);
    expect(shapes(ours.stdout)).toEqual(shapes(theirs.stdout));
    expect(shapes(ours.stdout)).toEqual(['header4', 'reply', 'reply', 'reply', 'blank', 'stats', 'counts', 'rtt']);
    // and the same fixed parts
    const fixed = (s: string): string[] => s.split('\n').map((l) => l.replace(/time[= ]\S+/, 'time').replace(/= \S+ ms/, '= ms'));
    expect(fixed(ours.stdout)).toEqual(fixed(theirs.stdout));
  });

  it('prints the same line shapes as iputils for IPv6, -q and -D', async () => {
    for (const args of [['-6', '-c', '2', '-i', '0.2', '::1'], ['-q', '-c', '2', '-i', '0.2', '127.0.0.1'], ['-D', '-c', '2', '-i', '0.2', '127.0.0.1']]) {
      const [ours, theirs] = await Promise.all([netdiag(args), runProcess('ping', args)]);
      expect(ours.code, ours.stderr).toBe(0);
      expect(shapes(ours.stdout), args.join(' ')).toEqual(shapes(theirs.stdout));
      expect(shapes(ours.stdout).some((s) => s.startsWith('unknown'))).toBe(false);
    }
  });

  it('prints the statistics so far on Ctrl-C and exits 0', async () => {
    const child = startProcess(process.execPath, [cliPath(), 'ping', '-i', '0.1', '127.0.0.1']);
    // wait for three replies, then interrupt
    await new Promise<void>((resolve) => {
      let text = '';
      child.child.stdout!.on('data', (b: Buffer) => {
        text += b.toString();
        if ((text.match(/icmp_seq=/g) ?? []).length >= 3) resolve();
      });
    });
    child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(0);
    expect(shapes(r.stdout).slice(-4)).toEqual(['blank', 'stats', 'counts', 'rtt']);
    const [, tx, rx] = LINE.counts.exec(r.stdout.split('\n').at(-3)!)!;
    expect(Number(rx)).toBeGreaterThanOrEqual(3);
    expect(Number(tx)).toBeGreaterThanOrEqual(Number(rx));
  });

  it('prints netdiag.ping/1 with --json and nothing else on stdout', async () => {
    const r = await netdiag(['--json', '-c', '2', '-i', '0.1', '127.0.0.1']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PingDocument;
    expect(doc).toMatchObject({ schema: 'netdiag.ping/1', socket: 'raw' });
    expect(doc.targets[0]).toMatchObject({ target: '127.0.0.1', address: '127.0.0.1', family: 4, transmitted: 2, received: 2, loss: 0 });
    expect(Object.keys(doc.targets[0]!.rtt!)).toEqual(['min', 'avg', 'max', 'mdev', 'stddev', 'p50', 'p90', 'p99', 'ewma']);
    expect(doc.targets[0]!.probes.map((p) => Object.keys(p))).toEqual([
      ['seq', 'status', 'rtt', 'ttl', 'bytes', 'from', 'flags'], ['seq', 'status', 'rtt', 'ttl', 'bytes', 'from', 'flags'],
    ]);
  });

  it('pings 10,000 loopback targets from the command line (-g), all answered', async () => {
    const r = await netdiag(['--json', '-q', '-g', '127.0.0.1', '127.0.39.16']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as PingDocument;
    expect(doc.targets).toHaveLength(10_000);
    expect(doc.targets.filter((t) => t.received !== 1)).toEqual([]);
  });

  it('two netdiag floods and an iputils flood at once never take each other\'s replies', async () => {
    const a = netdiag(['--json', '-f', '-c', '20000', '127.0.0.1']);
    const b = netdiag(['--json', '-f', '-c', '20000', '127.0.0.2']);
    const c = runProcess('ping', ['-q', '-f', '-c', '20000', '127.0.0.3']);
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    for (const [r, address] of [[ra, '127.0.0.1'], [rb, '127.0.0.2']] as const) {
      expect(r.code, r.stderr).toBe(0);
      const t = (JSON.parse(r.stdout) as PingDocument).targets[0]!;
      expect(t).toMatchObject({ address, transmitted: 20000, received: 20000, duplicates: 0, corrupted: 0, errors: 0, late: 0, loss: 0 });
      expect(t.probes.every((p) => p.status === 'reply' && p.from === address && p.flags.length === 0)).toBe(true);
    }
    expect(rc.code).toBe(0);
    // iputils (raw socket as root) gets a copy of every echo reply, so no one can take its
    // replies; on a loaded machine the kernel may drop one when its receive buffer is full
    const received = Number(/20000 packets transmitted, (\d+) received/.exec(rc.stdout)?.[1]);
    expect(received).toBeGreaterThanOrEqual(19_900);
    expect(rc.stdout).not.toMatch(/duplicates|corrupted|errors/);
  });
});

describe('shape regexes', () => {
  it('recognise the iputils lines they were written from', () => {
    expect(shapes('PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.026 ms\n')).toEqual(['header4', 'reply']);
    expect(shapes('something else\n')).toEqual(['unknown:something else']);
  });
});
