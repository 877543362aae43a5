// Link-local IPv6 targets with a %zone (issue 10, item 8), in a two-namespace topology (source —
// destination on one veth link with fe80::1 / fe80::2): ping and traceroute reach the peer by
// interface name or index, print and report the address as Node spells it (with %ifname),
// count the replies as the target's, use the -I / -i interface for a target without a zone, and
// refuse an unknown interface, a missing zone and a zone on a global address before sending.
// Every probe stays inside the namespaces this test creates.
import { beforeAll, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useTopology, type ProcessResult } from '../helpers/topology.js';
import type { PingDocument } from '../../src/ping/types.js';
import type { TracerouteResult } from '../../src/traceroute/types.js';

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip'], 'link-local targets with a %zone', () => {
  const net = useTopology({ routers: 0, prefix: 'ndsc' });
  let ifname = '';
  let ifindex = '';
  const peer = 'fe80::2';

  beforeAll(async () => {
    ifname = net.links[0]!.left.ifname;
    ifindex = (await net.exec(net.source, 'cat', [`/sys/class/net/${ifname}/ifindex`])).trim();
    await net.setPingGroupRange(net.source, 0, 2147483647);
  });

  function cli(args: string[]): Promise<ProcessResult> {
    return net.run(net.source, process.execPath, [cliPath(), ...args], { timeoutMs: 60_000 });
  }

  /** The stdout, stderr and code of a script run with node in the source namespace (the library, not the CLI). */
  function library(script: string): Promise<ProcessResult> {
    const prelude = `import * as netdiag from ${JSON.stringify(`${repoRoot}/dist/index.js`)};\n`;
    return net.run(net.source, process.execPath, ['--input-type=module', '-e', prelude + script], { timeoutMs: 60_000 });
  }

  for (const socket of ['raw', 'dgram'] as const) {
    it(`${socket}: ping fe80::2%ifname answers from the peer, spelled with its %ifname`, async () => {
      const r = await cli(['ping', '--json', '--socket', socket, '-c', '2', '-i', '0.05', `${peer}%${ifname}`]);
      expect(r.code, r.stderr).toBe(0);
      const t = (JSON.parse(r.stdout) as PingDocument).targets[0]!;
      expect(t).toMatchObject({ target: `${peer}%${ifname}`, address: `${peer}%${ifname}`, family: 6, transmitted: 2, received: 2 });
      for (const p of t.probes) expect(p).toMatchObject({ status: 'reply', from: `${peer}%${ifname}`, flags: [] });
    });
  }

  it('ping by interface index prints like iputils, the zone as the interface name', async () => {
    const r = await cli(['ping', '-c', '1', `${peer}%${ifindex}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`PING ${peer}%${ifindex}(${peer}%${ifname}) 56 data bytes\n`);
    expect(r.stdout).toMatch(new RegExp(`64 bytes from ${peer}%${ifname}: icmp_seq=1 ttl=64 time=`));
    expect(r.stdout).not.toContain('DIFFERENT ADDRESS');
  });

  it('ping -I ifname fe80::2 uses the -I interface as the zone', async () => {
    const r = await cli(['ping', '--json', '-c', '1', '-I', ifname, peer]);
    expect(r.code, r.stderr).toBe(0);
    const t = (JSON.parse(r.stdout) as PingDocument).targets[0]!;
    expect(t).toMatchObject({ address: `${peer}%${ifname}`, received: 1 });
  });

  it('ping refuses an unknown interface, a missing zone, a conflicting -I and a zone on a global address', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[`${peer}%nosuchif0`], /^netdiag: fe80::2%nosuchif0: no network interface is named "nosuchif0" \(.*\)\n$/],
      [[`${peer}%999999`], /^netdiag: fe80::2%999999: no network interface has index 999999 \(.*\)\n$/],
      [[peer], /^netdiag: fe80::2 is a link-local address, .* \(add its interface, as in fe80::2%eth0, .*\)\n$/],
      [['-I', 'lo', `${peer}%${ifname}`], new RegExp(`^netdiag: fe80::2%${ifname} is on interface ${ifname}, but the probes are bound to lo \\(.*\\)\\n$`)],
      [[`${net.target.v6}%${ifname}`], /^netdiag: .*: a %zone only applies to link-local IPv6 addresses .*\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['ping', '-c', '1', '-W', '1', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    // among many targets the others still run, and the run ends with 2
    const many = await cli(['ping', '-c', '1', `${peer}%${ifname}`, `${peer}%nosuchif0`]);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('no network interface is named "nosuchif0"');
    expect(many.stdout).toContain(`${peer}%${ifname} : xmt/rcv/%loss = 1/1/0%`);
  });

  it('the library rejects an unknown interface with a RangeError naming the target', async () => {
    const r = await library(`
      for (const call of [() => netdiag.ping('fe80::2%nosuchif0', { count: 1 }), () => netdiag.traceroute('fe80::2%nosuchif0')]) {
        try { await call(); console.log('resolved'); } catch (e) { console.log(e instanceof RangeError, e.code, e.message); }
      }`);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^true ERR_OUT_OF_RANGE fe80::2%nosuchif0: no network interface is named "nosuchif0"/);
  });

  for (const method of [['-I'], ['-I', '--socket', 'dgram'], ['-U'], ['-U', '--socket', 'dgram'], ['-T'], ['--tcp-connect']]) {
    it(`traceroute ${method.join(' ')} fe80::2%ifname reaches the peer at hop 1`, async () => {
      const r = await cli(['traceroute', '--json', '-n', '-q', '1', ...method, `${peer}%${ifname}`]);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as TracerouteResult;
      expect(doc).toMatchObject({ target: `${peer}%${ifname}`, address: `${peer}%${ifname}`, family: 6, reached: true });
      expect(doc.hops).toHaveLength(1);
      expect(doc.hops[0]!.probes[0]).toMatchObject({ address: `${peer}%${ifname}`, status: 'reply', flags: [] });
    });
  }

  it('traceroute -i ifname fe80::2 takes the interface as the zone; text like Linux traceroute', async () => {
    const r = await cli(['traceroute', '-n', '-q', '1', '-i', ifname, peer]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^traceroute to ${peer} \\(${peer}%${ifname}\\), 30 hops max, 80 byte packets\\n 1  ${peer}%${ifname}  [0-9.]+ ms\\n$`));
  });

  it('traceroute refuses an unknown interface and a missing zone', async () => {
    const unknown = await cli(['traceroute', `${peer}%nosuchif0`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^netdiag: fe80::2%nosuchif0: no network interface is named "nosuchif0" \([^()]*\)\n$/);
    const bare = await cli(['traceroute', peer]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^netdiag: fe80::2 is a link-local address/);
  });
});
