// Ping sockets for a user without privileges (uid 65534, no capabilities) inside a network
// namespace whose net.ipv4.ping_group_range admits every group; and the errors that name the
// missing knob when it does not, or when raw sockets are asked for.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { worldReadableRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useLoopbackNamespace } from '../helpers/topology.js';
import type { PingDocument } from '../../src/ping/types.js';

const NOBODY = { uid: 65534, noNewPrivs: true };

describeWith(['root', 'tool:ip', 'tool:setpriv'], 'ping as an unprivileged user (ping sockets)', () => {
  const open = useLoopbackNamespace();
  const closed = useLoopbackNamespace({ pingGroupRange: [1, 0] });

  function pingAs(ns: string, group: typeof open, args: string[]) {
    const cli = join(worldReadableRoot(), 'bin/netdiag.js');
    return group.run(ns, process.execPath, [cli, 'ping', ...args], { user: NOBODY, timeoutMs: 60_000 });
  }

  it('pings IPv4 and IPv6 loopback over ping sockets, matching on the kernel-chosen identifier', async () => {
    for (const address of ['127.0.0.1', '::1']) {
      const r = await pingAs(open.ns, open, ['--json', '-c', '3', '-i', '0.05', address]);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as PingDocument;
      expect(doc.socket).toBe('dgram');
      expect(doc.targets[0]).toMatchObject({ address, transmitted: 3, received: 3, loss: 0 });
      expect(doc.targets[0]!.probes.every((p) => p.ttl === 64 && p.flags.length === 0)).toBe(true);
    }
  });

  it('pings many AnyIP IPv6 targets at once over one ping socket', async () => {
    const targets = Array.from({ length: 500 }, (_, i) => open.v6Address(i + 1));
    const r = await pingAs(open.ns, open, ['--json', '-q', '-g', targets[0]!, targets.at(-1)!]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as PingDocument;
    expect(doc.targets.map((t) => t.address)).toEqual(targets);
    expect(doc.targets.every((t) => t.received === 1)).toBe(true);
  });

  it('prints iputils-style lines in ping-socket mode too', async () => {
    // iputils' time= keeps 3 decimals only under 1 ms (8.08, 12.3, 150 above), and a loaded run can be that slow
    const r = await pingAs(open.ns, open, ['-c', '2', '-i', '0.05', '127.0.0.1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\.\n64 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=\d+(?:\.\d{1,3})? ms\n/);
  });

  it('names the fix when neither raw nor ping sockets are allowed', async () => {
    const r = await pingAs(closed.ns, closed, ['-c', '1', '127.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^netdiag: cannot send ICMP: .*ping_group_range/);
    expect(r.stderr).toContain('sysctl -w net.ipv4.ping_group_range=');
  });

  it('names the fix when raw sockets are asked for without CAP_NET_RAW', async () => {
    const r = await pingAs(open.ns, open, ['--socket', 'raw', '-c', '1', '127.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^netdiag: raw ICMP sockets need CAP_NET_RAW.*setcap cap_net_raw\+ep/);
  });

  it('holds the user to iputils limits for flooding', async () => {
    const r = await pingAs(open.ns, open, ['-f', '-c', '10', '127.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/minimal interval allowed for user is 2ms/);
  });
});
