// Route changes and ICMP rate limiting in `netdiag traceroute --report/--watch`, on a diamond of
// namespaces h1 — r1 — {r2, r3} — r4 — h2 (netdiag/testing's createNetwork), the compiled CLI
// run in h1: r1's route to h2 is pinned to r2 and moved to r3 while the report runs, and the
// change must be flagged at the cycle whose probes first took r3; an nft limit on r1's ICMP
// time-exceeded makes hop 1 lose probes that hops 2 and 3 answer, which must read as rate
// limiting, with exactly the probes nft dropped missing at hop 1.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createNetwork, type Network } from '../../src/testing/index.js';
import type { RunningProcess } from '../../src/testing/process.js';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';

interface ReportDoc {
  reached: boolean;
  cycles: number;
  hops: Array<{ ttl: number; probes: Array<{ address: string | null }>; stats: { sent: number; received: number; loss: number }; rateLimited: boolean }>;
  paths: Array<{ pathId: string; hops: Array<string | null>; firstCycle: number; lastCycle: number; cycles: number }>;
  routeChanges: Array<{ cycle: number; time: number; ttl: number; from: string; to: string; pathId: string }>;
}

const INTERVAL_S = 0.25;
/** ms a cycle's recorded start may precede its first send, and a timer may run late, on a busy machine */
const SLACK_MS = 100;

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip', 'tool:nft'], 'traceroute --report/--watch: route changes and ICMP rate limiting', () => {
  let net: Network;
  const ns = (node: string) => net.node(node).ns;

  beforeAll(async () => {
    net = await createNetwork({
      hosts: ['h1', 'h2'],
      routers: ['r1', 'r2', 'r3', 'r4'],
      links: [['h1', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r2', 'r4'], ['r3', 'r4'], ['r4', 'h2']],
      prefix: 'ndrc',
    });
    // resolve every neighbour once, so no probe waits for neighbour discovery
    for (const dst of [net.node('h2').v4, net.node('h2').v6]) await net.run(ns('h1'), 'ping', ['-c1', '-W2', dst]);
  }, 60_000);
  afterAll(async () => {
    await net?.destroy();
  });

  const family = (v: 4 | 6) => (v === 4 ? 'v4' : 'v6') as 'v4' | 'v6';
  /** r1's route to h2's subnet through one branch only, as a routing protocol would set it */
  async function routeVia(router: 'r2' | 'r3', v: 4 | 6): Promise<void> {
    const link = net.link(['r1', router]);
    const prefix = v === 4 ? net.link(['r4', 'h2']).v4Prefix : net.link(['r4', 'h2']).v6Prefix;
    const [mine, theirs] = link.a.node === 'r1' ? [link.a, link.b] : [link.b, link.a];
    await net.ip(ns('r1'), ['route', 'replace', prefix, 'via', theirs[family(v)], 'dev', mine.ifname]);
  }
  /** the address a router answers from on the given branch (its side of the link to r1) */
  function branchAddress(router: 'r2' | 'r3', v: 4 | 6): string {
    const link = net.link(['r1', router]);
    return (link.a.node === router ? link.a : link.b)[family(v)];
  }

  function startCli(args: string[]): RunningProcess {
    return net.start(ns('h1'), process.execPath, [cliPath(), 'traceroute', '-n', ...args], { timeoutMs: 60_000 });
  }
  function stdoutUntil(p: RunningProcess, done: (text: string) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let text = '';
      const onData = (d: Buffer) => {
        text += d.toString();
        if (done(text)) {
          p.child.stdout?.off('data', onData);
          resolve();
        }
      };
      p.child.stdout?.on('data', onData);
      void p.done.then((r) => reject(new Error(`netdiag exited ${r.code} before the mark: ${r.stderr}`)));
    });
  }
  function stderrLine(p: RunningProcess): Promise<void> {
    return new Promise((resolve, reject) => {
      p.child.stderr?.once('data', () => resolve());
      void p.done.then((r) => reject(new Error(`netdiag exited ${r.code} before starting: ${r.stderr}`)));
    });
  }

  it('--report --json: the route moved from r2 to r3 mid-run is flagged at the cycle it happens (IPv4)', async () => {
    await routeVia('r2', 4);
    const p = startCli(['-v', '--json', '-I', '--report', '--cycles', '16', '--interval', String(INTERVAL_S), net.node('h2').v4]);
    // -v says on stderr that the sockets are open: the report starts now; let three cycles go
    await stderrLine(p);
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_S * 1000));
    const before = Date.now();
    await routeVia('r3', 4);
    const after = Date.now();
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as ReportDoc;
    expect(doc.cycles).toBe(16);
    expect(doc.routeChanges).toHaveLength(1);
    const change = doc.routeChanges[0]!;
    expect(change).toMatchObject({ ttl: 2, from: branchAddress('r2', 4), to: branchAddress('r3', 4) });
    // the flagged cycle went out once the route was moving, and the one before it before the move ended
    expect(change.time).toBeGreaterThanOrEqual(before - SLACK_MS);
    expect(change.time).toBeLessThanOrEqual(after + INTERVAL_S * 1000 + SLACK_MS);
    expect(change.cycle).toBeGreaterThan(1);
    const [oldPath, newPath] = doc.paths;
    expect(doc.paths).toHaveLength(2);
    expect(oldPath).toMatchObject({ firstCycle: 1, lastCycle: change.cycle - 1, cycles: change.cycle - 1 });
    expect(newPath).toMatchObject({ pathId: change.pathId, firstCycle: change.cycle, lastCycle: 16, cycles: 17 - change.cycle });
    expect(oldPath!.hops[1]).toBe(branchAddress('r2', 4));
    expect(newPath!.hops[1]).toBe(branchAddress('r3', 4));
    expect(newPath!.hops[3]).toBe(net.node('h2').v4);
    // the statistics show both routers at hop 2, and nothing was lost
    expect(new Set(doc.hops[1]!.probes.map((x) => x.address))).toEqual(new Set([branchAddress('r2', 4), branchAddress('r3', 4)]));
    expect(doc.hops.every((h) => h.stats.loss === 0 && !h.rateLimited)).toBe(true);
  });

  it('--watch text: the route change line and the two paths appear from the cycle it happens on (IPv6)', async () => {
    await routeVia('r2', 6);
    const p = startCli(['-I', '--watch', '--cycles', '12', '--interval', String(INTERVAL_S), net.node('h2').v6]);
    let tables = 0;
    // a watched report prints a table after every cycle: move the route once three are out
    await stdoutUntil(p, (text) => (tables = text.split('Start: ').length - 1) >= 3);
    const seenBefore = tables;
    const before = Date.now();
    await routeVia('r3', 6);
    const after = Date.now();
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const lastTable = r.stdout.slice(r.stdout.lastIndexOf('Start: '));
    const lines = lastTable.split('\n').filter((l) => l.startsWith('Route changed at cycle'));
    expect(lines).toHaveLength(1);
    const m = /^Route changed at cycle (\d+) \((\S+)\): hop 2 (\S+) -> (\S+), now path ([0-9a-f]{16})$/.exec(lines[0]!);
    expect(m, lines[0]).not.toBeNull();
    const [, cycle, stamp, from, to] = m!;
    expect([from, to]).toEqual([branchAddress('r2', 6), branchAddress('r3', 6)]);
    // three cycles were complete before the move: the change is a later one's
    expect(Number(cycle)).toBeGreaterThan(seenBefore);
    const time = Date.parse(stamp!.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    expect(time).toBeGreaterThanOrEqual(before - SLACK_MS);
    expect(time).toBeLessThanOrEqual(after + INTERVAL_S * 1000 + SLACK_MS);
    expect(lastTable).toMatch(new RegExp(`^Paths: [0-9a-f]{16} cycles 1-${Number(cycle) - 1} \\(${Number(cycle) - 1}\\), [0-9a-f]{16} cycles ${cycle}-12 \\(${13 - Number(cycle)}\\)$`, 'm'));
    // tables before the move say nothing about routes
    const firstTable = r.stdout.slice(0, r.stdout.indexOf('Start: ', 1));
    expect(firstTable).not.toMatch(/Route changed|Paths:/);
  });

  for (const v of [4, 6] as const) {
    it(`an nft limit on r1's time-exceeded is rate limiting at hop 1, not loss: later hops answer every probe (IPv${v})`, async () => {
      const counter = await net.dropIcmpTypes(ns('r1'), ['time-exceeded'], { family: v === 4 ? 'ipv4' : 'ipv6', match: 'limit rate over 1/second' });
      try {
        const dst = v === 4 ? net.node('h2').v4 : net.node('h2').v6;
        // 20 cycles in about a second: r1 answers its burst and about one a second after it
        const r = await net.run(ns('h1'), process.execPath, [cliPath(), 'traceroute', '-n', '--json', '-I', '--report', '--cycles', '20', '--interval', '0.05', dst], { timeoutMs: 60_000 });
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as ReportDoc;
        const dropped = (await net.counter(ns('r1'), counter)).packets;
        expect(dropped).toBeGreaterThan(0);
        const [hop1, ...later] = doc.hops;
        // exactly the answers nft dropped are missing at hop 1
        expect(hop1!.stats.sent - hop1!.stats.received).toBe(dropped);
        expect(hop1!.rateLimited).toBe(true);
        expect(later.map((h) => [h.stats.loss, h.rateLimited])).toEqual([[0, false], [0, false], [0, false]]);
        // lost answers are not a route change
        expect(doc.routeChanges).toEqual([]);
        expect(doc.paths).toHaveLength(1);

        // the run above emptied the limiter's bucket: this one lasts long enough for a token or two
        const text = await net.run(ns('h1'), process.execPath, [cliPath(), 'traceroute', '-n', '-I', '--report', '--cycles', '30', '--interval', '0.05', dst], { timeoutMs: 60_000 });
        expect(text.code, text.stderr).toBe(0);
        expect(text.stdout).toMatch(/^ {2}1\.\|-- \S+ \[RL\] +\d+\.\d%/m);
        expect(text.stdout).toMatch(/^\[RL\] hop 1: likely ICMP rate limiting, not packet loss/m);
        expect(text.stdout).not.toMatch(/^ {2}[234]\.\|-- \S+ \[RL\]/m);
      } finally {
        await net.resetRules(ns('r1'));
      }
    });
  }
});
