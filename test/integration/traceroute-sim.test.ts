// The real engine (the compiled CLI, in a child inside a namespace) against the TUN simulator:
// what kernels in namespaces cannot produce — delays, loss, reordering, duplicates, late
// answers, MPLS extensions in both RFC 4884 forms, NAT-rewritten quotes, malformed packets,
// 8-byte quotes, every unreachable code — for each probe method and both families, with and
// without privilege.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requirements.js';
import { createSimNetwork, type SimNetwork, type TraceDoc } from '../sim/sim-network.js';

const NOBODY = { uid: 65534, gid: 65534 };
const LABELS = [{ label: 24001, exp: 0, s: 0, ttl: 1 }, { label: 300, exp: 7, s: 1, ttl: 255 }];

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip', 'tool:setpriv'], 'traceroute against the TUN path simulator', () => {
  let sim: SimNetwork;
  beforeAll(async () => {
    sim = await createSimNetwork();
  });
  afterAll(async () => {
    await sim?.destroy();
  });

  async function trace(args: string[], user?: typeof NOBODY): Promise<TraceDoc> {
    const { result, doc } = await sim.trace(args, user);
    if (!doc) throw new Error(`no JSON from netdiag traceroute ${args.join(' ')} (exit ${result.code}): ${result.stderr}`);
    return doc;
  }
  const addresses = (doc: TraceDoc) => doc.hops.map((h) => [...new Set(h.probes.map((p) => p.address))].join(','));
  const target = (family: 4 | 6) => (family === 4 ? sim.destination.v4 : sim.destination.v6);
  const hopAddr = (family: 4 | 6, k: number) => (family === 4 ? sim.hop(k).v4 : sim.hop(k).v6);

  const methods: Array<{ name: string; args: string[]; user?: typeof NOBODY; socket: string }> = [
    { name: 'ICMP raw', args: ['-I', '--socket', 'raw'], socket: 'raw' },
    { name: 'ICMP ping socket (unprivileged)', args: ['-I'], user: NOBODY, socket: 'dgram' },
    { name: 'UDP raw', args: ['-U', '--socket', 'raw'], socket: 'raw' },
    { name: 'UDP error queue (unprivileged)', args: ['-U'], user: NOBODY, socket: 'dgram' },
    { name: 'TCP SYN', args: ['-T', '-p', '443'], socket: 'raw' },
    { name: 'TCP connect (unprivileged)', args: ['--tcp-connect', '-p', '443'], user: NOBODY, socket: 'stream' },
  ];

  for (const m of methods) {
    for (const family of [4, 6] as const) {
      it(`${m.name}, IPv${family}: 6 hops with 5 ms per hop, every answer matched`, async () => {
        sim.responder.setScenario(sim.scenario(6, Object.fromEntries([1, 2, 3, 4, 5, 6].map((k) => [k, { delayMs: 5 }]))));
        const doc = await trace([...m.args, target(family)], m.user);
        expect(doc.socket).toBe(m.socket);
        expect(doc.reached).toBe(true);
        expect(addresses(doc)).toEqual([1, 2, 3, 4, 5, 6].map((k) => hopAddr(family, k)).concat(target(family)));
        // the 5 ms the responder holds each answer shows in every RTT (a loopback-fast path is ~0.05 ms;
        // Node timers may fire up to a millisecond early, hence the margin)
        for (const h of doc.hops.slice(0, 6)) for (const p of h.probes) expect(p.rtt!).toBeGreaterThan(3);
      });
    }
  }

  for (const family of [4, 6] as const) {
    it(`IPv${family}: loss, reordering, duplicates and late answers`, async () => {
      sim.responder.setScenario(sim.scenario(5, {
        2: { answers: (n) => n === 0 },
        3: { extraDelay: (n) => [150, 80, 10][n] ?? 0 },
        4: { duplicate: true },
        5: { delayMs: 800 },
      }));
      const doc = await trace(['-I', '-w', '0.6,30,30', target(family)]);
      expect(doc.hops[1]!.probes.map((p) => p.status)).toEqual(['reply', 'timeout', 'timeout']);
      const reordered = doc.hops[2]!.probes;
      expect(reordered.map((p) => p.address)).toEqual([hopAddr(family, 3), hopAddr(family, 3), hopAddr(family, 3)]);
      // answers came back last-sent first (150, 80, 10 ms late): each RTT is its own probe's
      expect(reordered[0]!.rtt!).toBeGreaterThan(reordered[1]!.rtt!);
      expect(reordered[1]!.rtt!).toBeGreaterThan(reordered[2]!.rtt!);
      expect(doc.hops[3]!.probes).toHaveLength(3);
      expect(doc.hops[3]!.probes.every((p) => p.address === hopAddr(family, 4))).toBe(true);
      expect(doc.hops[4]!.probes.map((p) => p.status)).toEqual(['timeout', 'timeout', 'timeout']); // later than -w 0.6
      expect(doc.reached).toBe(true);
    });

    for (const [name, args, user] of [
      ['raw ICMP', ['-I', '--socket', 'raw'], undefined],
      ['unprivileged UDP (error queue)', ['-U'], NOBODY],
      ['raw UDP', ['-U', '--socket', 'raw'], undefined],
    ] as const) {
      it(`IPv${family}, ${name}: -e shows MPLS label stacks in the compliant and the non-compliant RFC 4884 form`, async () => {
        sim.responder.setScenario(sim.scenario(4, { 2: { mpls: LABELS, extensionForm: 'compliant' }, 3: { mpls: [LABELS[1]!], extensionForm: 'non-compliant' } }));
        const doc = await trace(['-e', ...args, target(family)], user);
        expect(doc.hops[1]!.probes[0]!.mpls).toEqual(LABELS);
        expect(doc.hops[1]!.probes[0]!.extensions).toBe('MPLS:L=24001,E=0,S=0,T=1/L=300,E=7,S=1,T=255');
        expect(doc.hops[2]!.probes[0]!.mpls).toEqual([LABELS[1]]);
        expect(doc.hops[0]!.probes[0]!.mpls).toEqual([]);
        // without -e nothing is decoded
        const plain = await trace([...args, target(family)], user);
        expect(plain.hops[1]!.probes[0]!.mpls).toEqual([]);
      });
    }

    it(`IPv${family}: a quote rewritten by a NAT is flagged, the probe still matched`, async () => {
      sim.responder.setScenario(sim.scenario(4, { 2: { nat: 'checksum' }, 3: { nat: 'source' } }));
      for (const args of [['-U', '--socket', 'raw'], ['-I', '--socket', 'raw']]) {
        const doc = await trace([...args, target(family)]);
        expect(addresses(doc).slice(0, 3)).toEqual([1, 2, 3].map((k) => hopAddr(family, k)));
        expect(doc.hops.map((h) => h.probes[0]!.flags)).toEqual([[], ['nat'], ['nat'], [], []]);
      }
    });

    it(`IPv${family}: malformed answers (bad checksum, cut quote, lying RFC 4884 length, junk) do not derail matching`, async () => {
      sim.responder.setScenario(sim.scenario(3, { 2: { malformed: true } }));
      for (const args of [['-I', '--socket', 'raw'], ['-U', '--socket', 'raw'], ['-T']]) {
        const doc = await trace([...args, target(family)]);
        expect(addresses(doc)).toEqual([hopAddr(family, 1), hopAddr(family, 2), hopAddr(family, 3), target(family)]);
      }
    });

    it(`IPv${family}: routers quoting only 8 bytes — raw Paris UDP and ICMP still match, unprivileged Paris cannot, classic can`, async () => {
      sim.responder.setScenario(sim.scenario(3, { 2: { shortQuote: true } }));
      for (const args of [['-U', '--socket', 'raw'], ['-I', '--socket', 'raw'], ['-U', '--classic']]) {
        const doc = await trace([...args, target(family)], args.includes('--classic') ? NOBODY : undefined);
        expect(doc.hops[1]!.probes.every((p) => p.address === hopAddr(family, 2)), args.join(' ')).toBe(true);
      }
      const paris = await trace(['-U', '-w', '0.5', target(family)], NOBODY);
      expect(paris.hops[1]!.probes.map((p) => p.status)).toEqual(['timeout', 'timeout', 'timeout']);
      expect(paris.reached).toBe(true);
    });
  }

  for (const family of [4, 6] as const) {
    it(`IPv${family}: Paris keeps the flow identifier (ports, ICMP type/code/checksum) constant on the wire; classic changes it`, async () => {
      sim.responder.setScenario(sim.scenario(3));
      const cases: Array<[string[], typeof NOBODY | undefined]> = [
        [['-I', '--socket', 'raw'], undefined], [['-I'], NOBODY], [['-U', '--socket', 'raw'], undefined], [['-U'], NOBODY], [['-T'], undefined],
      ];
      for (const [args, user] of cases) {
        for (const flow of ['--paris', '--classic'] as const) {
          sim.responder.setScenario(sim.scenario(3));
          await trace([...args, flow, target(family)], user);
          const flows = new Set(sim.responder.seen.map((s) => s.flow));
          expect(sim.responder.seen.length, args.join(' ')).toBeGreaterThanOrEqual(12);
          if (flow === '--paris') expect([...flows], `${args.join(' ')} ${flow}`).toHaveLength(1);
          else expect(flows.size, `${args.join(' ')} ${flow}`).toBeGreaterThan(3);
        }
      }
    });
  }

  it('--watch redraws the table after every cycle (without a terminal: one table per cycle)', async () => {
    sim.responder.setScenario(sim.scenario(2));
    const result = await sim.ns.run(sim.ns.ns, process.execPath, [(await import('../helpers/built-package.js')).cliPath(), 'traceroute', '-n', '--watch', '--cycles', '3', '--interval', '0.02', '-I', sim.destination.v4]);
    expect(result.stdout.match(/^HOST: /gm)).toHaveLength(3);
    expect(result.stdout.match(/^ {2}3\.\|-- /gm)).toHaveLength(3);
    expect(result.code).toBe(0);
  });

  it('every destination-unreachable code becomes traceroute\'s annotation and ends the trace (IPv4 and IPv6)', async () => {
    const v4: Array<[number, string]> = [[0, '!N'], [1, '!H'], [2, '!P'], [5, '!S'], [9, '!X'], [10, '!X'], [13, '!X'], [14, '!V'], [15, '!C'], [12, '!H'], [11, '!N']];
    for (const [code, annotation] of v4) {
      sim.responder.setScenario(sim.scenario(3, { 2: { unreachableCode: code } }));
      const { result, doc } = await sim.trace(['-I', '-q', '1', sim.destination.v4]);
      if (!doc) throw new Error(`code ${code}: exit ${result.code} ${result.stderr}`);
      expect([code, doc!.hops.length, doc!.hops[1]!.probes[0]!.annotation, doc!.reached]).toEqual([code, 2, annotation, false]);
      expect(result.code).toBe(1);
    }
    const v6: Array<[number, string]> = [[0, '!N'], [1, '!X'], [2, '!H'], [3, '!H'], [5, '!<5>'], [6, '!<6>']];
    for (const [code, annotation] of v6) {
      sim.responder.setScenario(sim.scenario(3, { 2: { unreachableCode: code } }));
      const doc = await trace(['-U', '-q', '1', sim.destination.v6], NOBODY);
      expect([code, doc.hops[1]!.probes[0]!.annotation, doc.hops[1]!.probes[0]!.icmp]).toEqual([code, annotation, { type: 1, code }]);
    }
  });

  it('text output: traceroute\'s layout with annotations and -e extensions', async () => {
    sim.responder.setScenario(sim.scenario(3, { 1: { mpls: [LABELS[1]!] }, 3: { unreachableCode: 10 } }));
    const result = await sim.ns.run(sim.ns.ns, process.execPath, [(await import('../helpers/built-package.js')).cliPath(), 'traceroute', '-n', '-e', '-I', '-q', '2', sim.destination.v4]);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^traceroute to ${sim.destination.v4.replace(/\./g, '\\.')} \\(${sim.destination.v4.replace(/\./g, '\\.')}\\), 30 hops max, 60 byte packets$`));
    expect(lines[1]).toMatch(new RegExp(`^ 1  ${sim.hop(1).v4.replace(/\./g, '\\.')} <MPLS:L=300,E=7,S=1,T=255>  \\d+\\.\\d{3} ms  \\d+\\.\\d{3} ms$`));
    expect(lines[3]).toMatch(new RegExp(`^ 3  ${sim.hop(3).v4.replace(/\./g, '\\.')}  \\d+\\.\\d{3} ms !X  \\d+\\.\\d{3} ms !X$`));
    expect(lines).toHaveLength(4);
    expect(result.code).toBe(1);
  });

  it('report mode: per-hop loss from a lossy hop, the note on intermediate loss, cycles paced', async () => {
    sim.responder.setScenario(sim.scenario(3, { 2: { answers: (n) => n % 2 === 0 } }));
    const doc = await trace(['--report', '--cycles', '6', '--interval', '0.05', '-I', sim.destination.v4]);
    expect(doc.hops.map((h) => [h.ttl, h.stats!.sent, h.stats!.received])).toEqual([[1, 6, 6], [2, 6, 3], [3, 6, 6], [4, 6, 6]]);
    expect(doc.hops[1]!.stats!.loss).toBe(50);
    const probesAtOne = sim.responder.seen.filter((s) => s.ttl === 1).length;
    expect(probesAtOne).toBe(6);
    const result = await sim.ns.run(sim.ns.ns, process.execPath, [(await import('../helpers/built-package.js')).cliPath(), 'traceroute', '-n', '--report', '--cycles', '4', '--interval', '0.02', '-I', sim.destination.v4]);
    expect(result.stdout).toMatch(/Loss%\s+Snt\s+Last\s+Avg\s+Best\s+Wrst\s+StDev\s+Javg/);
    expect(result.stdout).toMatch(/Note: loss at hop 2 but none at the destination/);
    expect(result.code).toBe(0);
  });
});
