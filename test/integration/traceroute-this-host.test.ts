// "This host" as a target (issue 10, item 9): the kernel sends to 0.0.0.0 as to 127.0.0.1 (or
// the bound source) and to :: as to ::1, so the reply's source is not the literal target.
// traceroute 0 / 0.0.0.0 / :: must reach at hop 1 as Linux traceroute does, and ping 0 prints
// as iputils does ("PING 0 (127.0.0.1)", replies from 127.0.0.1, no DIFFERENT ADDRESS).
// Runs in a namespace of its own with only loopback.
import { expect, it } from 'vitest';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useLoopbackNamespace, type ProcessResult } from '../helpers/topology.js';
import type { PingDocument } from '../../src/ping/types.js';
import type { TracerouteResult } from '../../src/traceroute/types.js';

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip'], '"this host" targets (0, 0.0.0.0, ::)', () => {
  const lo = useLoopbackNamespace({ prefix: 'ndth' });

  function cli(args: string[]): Promise<ProcessResult> {
    return lo.run(lo.ns, process.execPath, [cliPath(), ...args], { timeoutMs: 60_000 });
  }

  for (const [target, address] of [['0', '127.0.0.1'], ['0.0.0.0', '127.0.0.1'], ['::', '::1']] as const) {
    for (const method of ['-I', '-U', '-T', '--tcp-connect']) {
      it(`traceroute ${method} ${target} reaches ${address} at hop 1`, async () => {
        const r = await cli(['traceroute', '--json', '-n', '-q', '1', method, target]);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as TracerouteResult;
        expect(doc).toMatchObject({ target, address, reached: true });
        expect(doc.hops).toHaveLength(1);
        expect(doc.hops[0]!.probes[0]).toMatchObject({ address, status: 'reply', flags: [] });
      });
    }
  }

  it('traceroute 0 prints its header and hop like Linux traceroute, with the address sent to', async () => {
    const r = await cli(['traceroute', '-n', '-q', '1', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^traceroute to 0 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1  [0-9.]+ ms\n$/);
  });

  it('traceroute -s ADDR 0.0.0.0 goes to the bound source, as the kernel sends it', async () => {
    await lo.ip(lo.ns, ['addr', 'add', '127.0.0.9/8', 'dev', 'lo']);
    const r = await cli(['traceroute', '--json', '-n', '-q', '1', '-s', '127.0.0.9', '0.0.0.0']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ address: '127.0.0.9', reached: true });
  });

  it('ping 0 prints like iputils: PING 0 (127.0.0.1), replies from 127.0.0.1', async () => {
    const r = await cli(['ping', '-c', '2', '-i', '0.05', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PING 0 \(127\.0\.0\.1\) 56\(84\) bytes of data\.\n64 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=[0-9.]+ ms\n/);
    expect(r.stdout).not.toContain('DIFFERENT ADDRESS');
    expect(r.stdout).toContain('--- 0 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss');
  });

  for (const [target, address, family] of [['0.0.0.0', '127.0.0.1', []], ['::', '::1', ['-6']]] as const) {
    it(`ping --json ${target} reports ${address}, every reply from it`, async () => {
      const r = await cli(['ping', '--json', ...family, '-c', '2', '-i', '0.05', target]);
      expect(r.code, r.stderr).toBe(0);
      const t = (JSON.parse(r.stdout) as PingDocument).targets[0]!;
      expect(t).toMatchObject({ target, address, received: 2 });
      for (const p of t.probes) expect(p).toMatchObject({ from: address, flags: [] });
    });
  }
});
