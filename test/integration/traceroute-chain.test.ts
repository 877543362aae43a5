// netdiag traceroute on a chain of namespaces (source — 7 routers — destination: 8 hops), run as
// the compiled CLI inside the source namespace: every method in both families, with and without
// privilege, a silent hop, unreachable and prohibited routes, a smaller MTU mid-path with
// --mtu, text identical in shape to Linux traceroute's, report mode.
import { beforeAll, expect, it } from 'vitest';
import { cliPath, worldReadableRoot } from '../helpers/built-package.js';
import { describeWith, hasTool } from '../helpers/requirements.js';
import { useTopology, type RunAs } from '../helpers/topology.js';
import { join } from 'node:path';

interface Doc {
  schema: string;
  family: number;
  method: string;
  socket: string;
  flow: string | null;
  reached: boolean;
  packetLength: number;
  elapsed: number;
  hops: Array<{ ttl: number; probes: Array<{ address: string | null; status: string; annotation: string | null; mtu: number | null; rtt: number | null }>; stats?: { sent: number; loss: number } }>;
}

const NOBODY: RunAs = { uid: 65534, gid: 65534 };

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip', 'tool:nft', 'tool:setpriv'], 'traceroute over an 8-hop namespace chain', () => {
  const net = useTopology({ routers: 7, prefix: 'ndtr' });

  beforeAll(async () => {
    // ping sockets for root (gid 0) and nobody (65534) alike
    await net.setPingGroupRange(net.source, 0, 2147483647);
    // resolve every neighbour once, so no probe waits for neighbour discovery
    await net.run(net.source, 'ping', ['-c1', '-W2', net.target.v4]);
    await net.run(net.source, 'ping', ['-6', '-c1', '-W2', net.target.v6]);
  });

  async function cli(args: string[], user?: RunAs): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const bin = user ? join(worldReadableRoot(), 'bin/netdiag.js') : cliPath();
    return net.run(net.source, process.execPath, [bin, 'traceroute', ...args], { user, timeoutMs: 60_000 });
  }

  async function json(args: string[], user?: RunAs): Promise<Doc> {
    const r = await cli(['--json', '-n', ...args], user);
    try {
      return JSON.parse(r.stdout) as Doc;
    } catch {
      throw new Error(`netdiag traceroute ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    }
  }

  const expected = (family: 4 | 6) => net.hops.map((h) => (family === 4 ? h.v4 : h.v6));
  const target = (family: 4 | 6) => (family === 4 ? net.target.v4 : net.target.v6);
  const seen = (doc: Doc) => doc.hops.map((h) => h.probes.map((p) => p.address));

  const methods: Array<{ name: string; args: string[]; user?: RunAs; method: string; socket: string; flow: string | null }> = [
    { name: 'ICMP, raw socket', args: ['-I', '--socket', 'raw'], method: 'icmp', socket: 'raw', flow: 'paris' },
    { name: 'ICMP, ping socket', args: ['-I', '--socket', 'dgram'], method: 'icmp', socket: 'dgram', flow: 'paris' },
    { name: 'ICMP, unprivileged', args: ['-I'], user: NOBODY, method: 'icmp', socket: 'dgram', flow: 'paris' },
    { name: 'UDP, raw socket', args: ['-U', '--socket', 'raw'], method: 'udp', socket: 'raw', flow: 'paris' },
    { name: 'UDP classic, raw socket', args: ['-U', '--socket', 'raw', '--classic'], method: 'udp', socket: 'raw', flow: 'classic' },
    { name: 'UDP, unprivileged', args: ['-U'], user: NOBODY, method: 'udp', socket: 'dgram', flow: 'paris' },
    { name: 'UDP classic, unprivileged', args: ['-U', '--classic'], user: NOBODY, method: 'udp', socket: 'dgram', flow: 'classic' },
    { name: 'TCP SYN', args: ['-T'], method: 'tcp', socket: 'raw', flow: 'paris' },
    { name: 'TCP SYN classic', args: ['-T', '--classic', '-p', '22'], method: 'tcp', socket: 'raw', flow: 'classic' },
    { name: 'TCP connect, unprivileged', args: ['--tcp-connect'], user: NOBODY, method: 'tcp-connect', socket: 'stream', flow: null },
  ];

  for (const m of methods) {
    for (const family of [4, 6] as const) {
      it(`${m.name}, IPv${family}: every hop, every probe, reached at TTL 8`, async () => {
        const doc = await json([...m.args, target(family)], m.user);
        expect(doc).toMatchObject({ schema: 'netdiag.traceroute/1', family, method: m.method, socket: m.socket, flow: m.flow, reached: true });
        expect(seen(doc)).toEqual(expected(family).map((a) => [a, a, a]));
        expect(doc.hops.flatMap((h) => h.probes).every((p) => p.status === 'reply' && p.rtt! > 0)).toBe(true);
      });
    }
  }

  it('TCP SYN probes without CAP_NET_RAW fail with the fix named, exit 2', async () => {
    const r = await cli(['-n', '-T', net.target.v4], NOBODY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^netdiag: TCP SYN probes need a raw socket: .*--tcp-connect/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('text output has the shape of Linux traceroute -n, line for line', async () => {
    for (const family of [4, 6] as const) {
      for (const flag of ['-U', '-I'] as const) {
        const shape = (s: string) => s.trimEnd().split('\n').map((l) => l.replace(/\d+\.\d{3} ms/g, 'T ms'));
        const mine = await cli(['-n', flag, target(family)]);
        // traceroute itself now and then misses an answer under load: give it a few tries at a clean run
        let theirs = '';
        for (let i = 0; i < 3 && (theirs === '' || / \*/.test(theirs)); i++) {
          theirs = (await net.run(net.source, 'traceroute', ['-n', ...(family === 6 ? ['-6'] : []), ...(flag === '-I' ? ['-I'] : []), target(family)])).stdout;
        }
        expect(shape(mine.stdout)).toEqual(shape(theirs));
        expect(mine.code).toBe(0);
      }
    }
  });

  it('a silent hop (time-exceeded dropped) shows * * * and costs adaptive milliseconds, not the 5 s maximum', async () => {
    await net.dropIcmpTypes(net.routers[2]!, ['time-exceeded']);
    try {
      for (const family of [4, 6] as const) {
        for (const args of [['-U'], ['-I'], ['-T']]) {
          const doc = await json([...args, target(family)]);
          expect(doc.reached).toBe(true);
          expect(doc.hops[2]!.probes.map((p) => p.address)).toEqual([null, null, null]);
          expect(seen(doc).filter((_, i) => i !== 2)).toEqual(expected(family).filter((_, i) => i !== 2).map((a) => [a, a, a]));
          expect(doc.elapsed).toBeLessThan(5000);
        }
      }
    } finally {
      await net.resetRules(net.routers[2]);
    }
  });

  it('unreachable and prohibit routes on router 3: !H / !N and !X, trace ends there, exit 1', async () => {
    const r3 = net.routers[2]!;
    const cases: Array<{ type: 'unreachable' | 'prohibit'; family: 4 | 6; annotation: string }> = [
      { type: 'unreachable', family: 4, annotation: '!H' },
      { type: 'prohibit', family: 4, annotation: '!X' },
      { type: 'unreachable', family: 6, annotation: '!N' },
      { type: 'prohibit', family: 6, annotation: '!X' },
    ];
    for (const c of cases) {
      const prefix = c.family === 4 ? `${net.target.v4}/32` : `${net.target.v6}/128`;
      await net.addRoute(r3, c.type, prefix);
      try {
        // one probe per hop, one at a time: route-made errors have a host-wide limiter (burst 5)
        const r = await cli(['--json', '-n', '-q', '1', '-N', '1', '-I', target(c.family)]);
        const doc = JSON.parse(r.stdout) as Doc;
        expect(doc.hops.map((h) => h.probes[0]!.annotation)).toEqual([null, null, c.annotation]);
        expect(doc.hops[2]!.probes[0]!.address).toBe(c.family === 4 ? net.hops[2]!.v4 : net.hops[2]!.v6);
        expect(doc.reached).toBe(false);
        expect(r.code).toBe(1);
      } finally {
        await net.deleteRoute(r3, c.type, prefix);
      }
    }
  });

  it('nftables rejects (not rate-limited) give !H, !N, !P and !X with all three probes', async () => {
    const r3 = net.routers[2]!;
    const cases: Array<['host-unreachable' | 'net-unreachable' | 'prot-unreachable' | 'admin-prohibited', string]> = [
      ['host-unreachable', '!H'], ['net-unreachable', '!N'], ['prot-unreachable', '!P'], ['admin-prohibited', '!X'],
    ];
    for (const [kind, annotation] of cases) {
      await net.reject(r3, kind, { family: 'ipv4' });
      try {
        // router 3 forwards only probes with TTL 4 and more, so those are the ones it rejects
        const doc = await json(['-I', net.target.v4]);
        expect(doc.hops).toHaveLength(4);
        expect(doc.hops[3]!.probes.map((p) => `${p.address} ${p.annotation}`)).toEqual(Array(3).fill(`${net.hops[2]!.v4} ${annotation}`));
        expect(doc.reached).toBe(false);
      } finally {
        await net.resetRules(r3);
      }
    }
  });

  it('--mtu with a 1400-byte link after router 3: F=1500 at hop 1, F=1400 at hop 4 (UDP and ICMP, both families)', async () => {
    await net.setMtu(4, 1400);
    try {
      for (const family of [4, 6] as const) {
        for (const args of [['-U', '--mtu'], ['-I', '--mtu'], ['-U', '--mtu', '--socket', 'raw']]) {
          const doc = await json([...args, target(family)]);
          expect(doc.reached).toBe(true);
          expect(doc.hops.map((h) => h.probes[0]!.mtu)).toEqual([1500, null, null, 1400, null, null, null, null]);
          expect(seen(doc)).toEqual(expected(family).map((a) => [a, a, a]));
        }
        const text = await cli(['-n', '--mtu', target(family)]);
        expect(text.stdout).toMatch(/\n 1 {2}\S+ {2}\d+\.\d{3} ms F=1500 {2}/);
        expect(text.stdout).toMatch(/\n 4 {2}\S+ {2}\d+\.\d{3} ms F=1400 {2}/);
        expect(text.stdout.split('\n')[0]).toMatch(/, 65000 byte packets$/);
      }
    } finally {
      await net.reset();
    }
  });

  it('report mode: 8 hops, no loss, the destination reached, one probe per hop per cycle', async () => {
    for (const family of [4, 6] as const) {
      const doc = await json(['--report', '--cycles', '5', '--interval', '0.02', '-I', target(family)]);
      expect(doc.hops.map((h) => [h.ttl, h.stats!.sent, h.stats!.loss])).toEqual(expected(family).map((_, i) => [i + 1, 5, 0]));
      expect(doc.reached).toBe(true);
    }
  });

  it.runIf(hasTool('mtr'))('report text has mtr\'s columns', async () => {
    const mine = await cli(['-n', '--report', '--cycles', '2', '--interval', '0.02', net.target.v4]);
    expect(mine.stdout.split('\n')[1]).toMatch(/^HOST: \S+\s+Loss%\s+Snt\s+Last\s+Avg\s+Best\s+Wrst\s+StDev\s+Javg$/);
    expect(mine.stdout.split('\n').filter((l) => /^\s+\d+\.\|-- /.test(l))).toHaveLength(8);
  });
});
