// The namespace test network itself: an 8-router chain that ping and traceroute cross in both
// families, the nftables helpers with exact counters, route and MTU faults, teardown in every
// way a run can end. Traffic stays inside the namespaces these tests create.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describeWith } from '../helpers/requirements.js';
import { runChecked, runProcess, startProcess } from '../helpers/process.js';
import {
  createTopology,
  sweepStaleNamespaces,
  useLoopbackNamespace,
  useTopology,
  type Topology,
} from '../helpers/topology.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NOBODY = 65534;

/** `traceroute -n` output → per TTL, the first address that answered (null for `* * *`) and the whole line. */
function parseTraceroute(out: string): Array<{ ttl: number; address: string | null; line: string }> {
  return out
    .split('\n')
    .slice(1)
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ ttl: Number(m[1]), address: /^[\d.]+$|^[\da-f:]+$/i.exec(m[2].split(/\s+/)[0])?.[0] ?? null, line: m[0] }));
}

async function namespaceList(): Promise<string> {
  return runChecked('ip', ['netns', 'list']);
}

describeWith(['root', 'tool:ip', 'tool:nft', 'tool:ping', 'tool:traceroute', 'tool:setpriv'], 'topology: 8-router chain', () => {
  const net = useTopology({ routers: 8 });

  afterEach(async () => {
    await net.reset();
  });

  it('names and addresses follow the plan', () => {
    expect(net.routers).toHaveLength(8);
    expect(net.hops).toHaveLength(9);
    expect(net.namespaces).toEqual([net.source, ...net.routers, net.destination]);
    for (const ns of net.namespaces) expect(ns).toMatch(new RegExp(`^ndt-${process.pid}-${net.id}-(src|r\\d|dst)$`));
    for (const l of net.links) {
      expect(l.left.ifname.length).toBeLessThanOrEqual(15);
      expect(l.right.ifname.length).toBeLessThanOrEqual(15);
      expect(l.left.v4).toMatch(/^10\.\d+\.\d+\.1$/);
      expect(l.right.v6).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]+::2$/);
    }
    expect(net.hops[3]).toMatchObject({ ttl: 4, ns: net.routers[3], v4: net.links[3].right.v4 });
    expect(net.target).toEqual({ v4: net.hops[8].v4, v6: net.hops[8].v6 });
  });

  it('ping crosses the chain in IPv4 and IPv6 (8 routers: reply TTL 56)', async () => {
    for (const [flag, address] of [['-4', net.target.v4], ['-6', net.target.v6]]) {
      const r = await net.run(net.source, 'ping', [flag, '-c1', '-W1', address]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ttl=56/);
    }
  });

  it('traceroute -n shows every hop in order, IPv4 and IPv6', async () => {
    for (const family of ['v4', 'v6'] as const) {
      const r = await net.run(net.source, 'traceroute', ['-n', family === 'v4' ? '-4' : '-6', net.target[family]]);
      expect(r.code, r.stderr).toBe(0);
      expect(parseTraceroute(r.stdout).map((h) => h.address)).toEqual(net.hops.map((h) => h[family]));
    }
  });

  it('a 100 % loss rule drops every probe and its counter says exactly how many', async () => {
    const counter = await net.addLoss(net.routers[3], 100);
    const v4 = await net.run(net.source, 'ping', ['-c5', '-i0.05', '-W0.5', net.target.v4]);
    expect(v4.stdout).toMatch(/5 packets transmitted, 0 received, 100% packet loss/);
    expect(await net.counter(net.routers[3], counter)).toMatchObject({ packets: 5 });
    const v6 = await net.run(net.source, 'ping', ['-6', '-c3', '-i0.05', '-W0.5', net.target.v6]);
    expect(v6.stdout).toMatch(/3 packets transmitted, 0 received/);
    expect((await net.counter(net.routers[3], counter)).packets).toBe(8);
  });

  it('partial loss: packets lost = packets the rule dropped', async () => {
    const counter = await net.addLoss(net.routers[5], 30, { family: 'ipv4' });
    const r = await net.run(net.source, 'ping', ['-c200', '-i0.002', '-W0.5', net.target.v4]);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const lost = Number(m![1]) - Number(m![2]);
    // The rule sees the request and, if that passed, the reply: an exchange is lost with
    // 1 − 0.7² = 51 %, so 102 of 200 (σ ≈ 7); the bounds sit 7σ away, far from 0 and from 200.
    expect(lost).toBeGreaterThan(50);
    expect(lost).toBeLessThan(155);
    expect((await net.counter(net.routers[5], counter)).packets).toBe(lost);
  });

  it('dropIcmpTypes(time-exceeded) makes one hop silent; the others still answer', async () => {
    const counter = await net.dropIcmpTypes(net.routers[2], ['time-exceeded'], 'both');
    for (const family of ['v4', 'v6'] as const) {
      const r = await net.run(net.source, 'traceroute', ['-n', family === 'v4' ? '-4' : '-6', net.target[family]]);
      const hops = parseTraceroute(r.stdout);
      expect(hops.map((h) => h.address)).toEqual(net.hops.map((h, i) => (i === 2 ? null : h[family])));
      expect(hops[2].line).toMatch(/^\s*3\s+\* \* \*$/);
    }
    expect((await net.counter(net.routers[2], counter)).packets).toBeGreaterThanOrEqual(6);
  });

  it('an unreachable route on router 5 gives !H (IPv4) / !N (IPv6) from that router', async () => {
    await net.addRoute(net.routers[4], 'unreachable', `${net.target.v4}/32`);
    await net.addRoute(net.routers[4], 'unreachable', `${net.target.v6}/128`);
    // -N1 -q1: one probe at a time, within the IPv4 route-error burst (see addRoute)
    for (const [family, mark] of [['v4', '!H'], ['v6', '!N']] as const) {
      const r = await net.run(net.source, 'traceroute', ['-n', '-N1', '-q1', net.target[family]]);
      const hops = parseTraceroute(r.stdout);
      expect(hops).toHaveLength(5);
      expect(hops[4].address).toBe(net.hops[4][family]);
      expect(hops[4].line).toContain(mark);
    }
    const ping = await net.run(net.source, 'ping', ['-c1', '-W1', net.target.v4]);
    expect(ping.stdout).toMatch(new RegExp(`From ${net.hops[4].v4.replace(/\./g, '\\.')} .*Destination Host Unreachable`));
  });

  it('reject(host-prohibited) on router 2 gives !X and "Destination Host Prohibited"', async () => {
    const counter = await net.reject(net.routers[1], 'host-prohibited');
    const ping = await net.run(net.source, 'ping', ['-c1', '-W1', net.target.v4]);
    expect(ping.stdout).toContain(`From ${net.hops[1].v4} icmp_seq=1 Destination Host Prohibited`);
    const ping6 = await net.run(net.source, 'ping', ['-6', '-c1', '-W1', net.target.v6]);
    expect(ping6.stdout).toContain(`From ${net.hops[1].v6} icmp_seq=1 Destination unreachable: Administratively prohibited`);
    // the TTL-2 probe expires at router 2 before the forward hook; the TTL-3 one is rejected there
    const trace = await net.run(net.source, 'traceroute', ['-n', '-q1', net.target.v4]);
    const hops = parseTraceroute(trace.stdout);
    expect(hops.map((h) => h.address)).toEqual([net.hops[0].v4, net.hops[1].v4, net.hops[1].v4]);
    expect(hops[2].line).toContain('!X');
    expect((await net.counter(net.routers[1], counter)).packets).toBeGreaterThanOrEqual(3);
  });

  it('a smaller MTU mid-path: ping -M do -s 1472 gets frag needed, then message too long; reset() restores', async () => {
    await net.setMtu(5, 1400); // between router 4 and router 5
    const first = await net.run(net.source, 'ping', ['-c1', '-W0.5', '-M', 'do', '-s', '1472', net.target.v4]);
    expect(first.stdout).toContain(`From ${net.hops[3].v4} icmp_seq=1 Frag needed and DF set (mtu = 1400)`);
    const second = await net.run(net.source, 'ping', ['-c1', '-W0.5', '-M', 'do', '-s', '1472', net.target.v4]);
    expect(second.stderr).toContain('message too long, mtu=1400');
    const v6 = await net.run(net.source, 'ping', ['-6', '-c1', '-W0.5', '-M', 'do', '-s', '1452', net.target.v6]);
    expect(v6.stdout).toContain(`From ${net.hops[3].v6} icmp_seq=1 Packet too big: mtu=1400`);

    await net.reset();
    for (const [size, address] of [['1472', net.target.v4], ['1452', net.target.v6]]) {
      const r = await net.run(net.source, 'ping', ['-c1', '-W1', '-M', 'do', '-s', size, address]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  });

  it('runs programs as another user, with ambient capabilities when asked', async () => {
    const id = await net.run(net.source, 'id', ['-u'], { user: { uid: NOBODY } });
    expect(id.stdout.trim()).toBe(String(NOBODY));
    const caps = await net.run(net.source, 'grep', ['^Cap', '/proc/self/status'], { user: { uid: NOBODY } });
    expect(caps.stdout).toMatch(/CapEff:\s*0+\n/);
    const raw = await net.run(net.source, 'grep', ['^Cap', '/proc/self/status'], { user: { uid: NOBODY, ambientCaps: ['net_raw'] } });
    expect(raw.stdout).toMatch(/CapEff:\s*0+2000\n/);
    expect(raw.stdout).toMatch(/CapAmb:\s*0+2000\n/);
  });

  it('exec rejects with the stderr of a failing command; foreign namespaces are refused', async () => {
    await expect(net.exec(net.source, 'sh', ['-c', 'echo boom >&2; exit 3'])).rejects.toThrow(/exited with 3: boom/);
    await expect(net.exec('not-ours', 'true')).rejects.toThrow(/not a namespace of this instance/);
  });

  it('sysctl() and readSysctl() act inside the namespace only', async () => {
    await net.sysctl(net.routers[0], 'net.ipv4.icmp_echo_ignore_all', 1);
    expect(await net.readSysctl(net.routers[0], 'net.ipv4.icmp_echo_ignore_all')).toBe('1');
    expect(await net.readSysctl(net.routers[1], 'net.ipv4.icmp_echo_ignore_all')).toBe('0');
    const r = await net.run(net.source, 'ping', ['-c1', '-W0.5', net.hops[0].v4]);
    expect(r.code).not.toBe(0);
    await net.sysctl(net.routers[0], { 'net.ipv4.icmp_echo_ignore_all': 0 });
    for (const ns of net.routers) expect(await net.readSysctl(ns, 'net.ipv6.icmp.ratelimit')).toBe('0');
  });
});

describeWith(['root', 'tool:ip', 'tool:ping', 'tool:setpriv'], 'topology: loopback namespace', () => {
  const lo = useLoopbackNamespace();

  it('answers on 127.0.0.0/8 and on every address of its IPv6 AnyIP prefix', async () => {
    expect(lo.v6Prefix).toMatch(/^fd[0-9a-f]{2}::\/64$/);
    for (const address of ['127.0.0.1', '127.3.2.1', lo.v6Address(1), lo.v6Address(0x12345)]) {
      const r = await lo.run(lo.ns, 'ping', ['-c1', '-W1', address]);
      expect(r.code, `${address}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('ping sockets work for any group by default and stop when the range is narrowed', async () => {
    // no_new_privs: /usr/bin/ping's file capability would otherwise give it a raw socket
    const asNobody = { user: { uid: NOBODY, noNewPrivs: true } };
    expect(await lo.readSysctl(lo.ns, 'net.ipv4.ping_group_range')).toBe('0\t2147483647');
    expect((await lo.run(lo.ns, 'ping', ['-c1', '-W1', '127.0.0.1'], asNobody)).code).toBe(0);
    await lo.setPingGroupRange(lo.ns, 1, 0);
    const denied = await lo.run(lo.ns, 'ping', ['-c1', '-W1', '127.0.0.1'], asNobody);
    expect(denied.code).not.toBe(0);
    await lo.setPingGroupRange(lo.ns, NOBODY, NOBODY);
    expect((await lo.run(lo.ns, 'ping', ['-c1', '-W1', '127.0.0.1'], asNobody)).code).toBe(0);
  });
});

describeWith(['root', 'tool:ip'], 'topology: build time and teardown', () => {
  // the build time is printed, never asserted: these machines are shared and noisy
  it('builds an 8-router chain and destroy() leaves nothing behind', async () => {
    const t0 = performance.now();
    const topo = await createTopology({ routers: 8 });
    const built = performance.now() - t0;
    expect(topo.existingNamespaces()).toHaveLength(10);
    const t1 = performance.now();
    await topo.destroy();
    const destroyed = performance.now() - t1;
    process.stderr.write(`[topology] 8-router chain: build ${built.toFixed(0)} ms, destroy ${destroyed.toFixed(0)} ms\n`);
    expect(topo.existingNamespaces()).toEqual([]);
    expect(await namespaceList()).not.toContain(topo.id);
    await topo.destroy(); // idempotent
    await expect(topo.exec(topo.source, 'true')).rejects.toThrow(/destroyed/);
  });

  it('invalid options are refused before anything is made', async () => {
    await expect(createTopology({ routers: 2, mtu: 70 })).rejects.toThrow(RangeError);
    await expect(createTopology({ routers: 65 })).rejects.toThrow(RangeError);
    await expect(createTopology({ prefix: 'Bad-Prefix' })).rejects.toThrow(RangeError);
  });

  it('the stale sweep removes namespaces of dead processes only', async () => {
    const prefix = 'ndtsw'; // own prefix: other files' sweeps never see these names
    const exited = startProcess('true');
    await exited.done;
    const dead = `${prefix}-${exited.pid}-dead-src`;
    const alive = `${prefix}-1-live-src`; // pid 1 is always running
    await runChecked('ip', ['netns', 'add', dead]);
    await runChecked('ip', ['netns', 'add', alive]);
    try {
      const topo = await createTopology({ routers: 0, prefix });
      await topo.destroy();
      const list = await namespaceList();
      expect(list).not.toContain(dead);
      expect(list).toContain(alive);
    } finally {
      await runProcess('ip', ['netns', 'del', dead]);
      await runProcess('ip', ['netns', 'del', alive]);
    }
  });

  it('sweepStaleNamespaces never touches names without the pattern', () => {
    expect(sweepStaleNamespaces('ndtsw')).toEqual([]);
    expect(() => sweepStaleNamespaces('x-y')).toThrow(RangeError);
  });
});

describeWith(['root', 'tool:ip'], 'topology: cleanup when the process ends without destroy()', () => {
  // A child process imports the helpers (transpiled here; the repository has no TS loader for
  // plain node) and builds a chain, then ends in one of three ways.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-topology-'));
    // the namespace code is the public module netdiag/testing (src/testing)
    for (const f of readdirSync(join(repoRoot, 'src/testing')).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(join(repoRoot, 'src/testing', f), 'utf8');
      const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
      writeFileSync(join(dir, f.replace(/\.ts$/, '.js')), js.outputText);
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules')); // for its vitest import
    writeFileSync(
      join(dir, 'child.mjs'),
      `import { createTopology } from './chain.js';
       const topo = await createTopology({ routers: 1, prefix: 'ndtkl' });
       process.stdout.write(JSON.stringify(topo.namespaces) + '\\n');
       if (process.argv[2] === 'exit') process.exit(0);
       setInterval(() => {}, 1000);`,
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function childWithTopology(mode: string) {
    const child = startProcess(process.execPath, [join(dir, 'child.mjs'), mode], { timeoutMs: 20_000 });
    const names = await new Promise<string[]>((resolve, reject) => {
      let buf = '';
      child.child.stdout?.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]) as string[]);
      });
      void child.done.then((r) => reject(new Error(`child ended early: ${r.stderr}`)));
    });
    expect(names).toHaveLength(3);
    return { child, names };
  }

  const stillThere = async (names: string[]) => {
    const list = (await namespaceList()).split('\n').map((l) => l.split(' ')[0]);
    return names.filter((n) => list.includes(n));
  };

  it('process.exit() without destroy()', async () => {
    const { child, names } = await childWithTopology('exit');
    expect((await child.done).code).toBe(0);
    expect(await stillThere(names)).toEqual([]);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: cleans up, then dies of the signal`, async () => {
      const { child, names } = await childWithTopology('wait');
      expect(await stillThere(names)).toHaveLength(3);
      child.kill(signal);
      expect((await child.done).signal).toBe(signal);
      expect(await stillThere(names)).toEqual([]);
    });
  }

  it('SIGKILL leaves namespaces that the next creation sweeps', async () => {
    const { child, names } = await childWithTopology('wait');
    child.kill('SIGKILL');
    await child.done;
    expect(await stillThere(names)).toHaveLength(3);
    let topo: Topology | undefined;
    try {
      // the children's own prefix: a parallel file's creation (which sweeps the default prefix)
      // cannot sweep them before this looks
      topo = await createTopology({ routers: 0, prefix: 'ndtkl' });
      expect(await stillThere(names)).toEqual([]);
    } finally {
      await topo?.destroy();
      await runProcess('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join('') });
    }
  });
});
