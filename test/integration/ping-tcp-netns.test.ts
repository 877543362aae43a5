// TCP ping across a namespace chain (source — router — destination): SYN (raw socket, as root)
// and connect (also as uid 65534 without capabilities) against an open port, a closed one, and
// ports a firewall filters: nft drop (timeout at -W exactly), reject with tcp reset (closed), and
// reject with ICMP admin-prohibited (an error naming the router); IPv4 and IPv6; SYN cookies on
// the destination; SYNs dropped on the router by a random nft rule counted exactly.
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { cliPath, worldReadableRoot } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useTopology, type ProcessResult } from '../helpers/topology.js';
import type { PingDocument, PingTargetResult } from '../../src/ping/types.js';

const OPEN = 8080;
const CLOSED = 8081;
const NOBODY = { uid: 65534, noNewPrivs: true };
const LISTENER = `const s = require('node:net').createServer((c) => c.on('error', () => {}).destroy());
s.listen({ port: ${OPEN}, host: '::', backlog: 4096 }, () => console.log('ready'));`;

describeWith(['root', 'tool:ip', 'tool:nft', 'tool:setpriv'], 'TCP ping across a namespace chain', () => {
  const net = useTopology({ routers: 1 });
  const v = (family: 'v4' | 'v6') => net.target[family];
  const routerAddress = (family: 'v4' | 'v6') => net.hops[0]![family];

  beforeAll(async () => {
    const listener = net.start(net.destination, process.execPath, ['-e', LISTENER]);
    await new Promise<void>((resolve, reject) => {
      listener.child.stdout!.once('data', () => resolve());
      void listener.done.then((r) => reject(new Error(`the listener ended: ${r.stderr}`)));
    });
  });

  function pingIn(args: string[], user?: typeof NOBODY): Promise<ProcessResult> {
    const cli = user ? join(worldReadableRoot(), 'bin/netdiag.js') : cliPath();
    return net.run(net.source, process.execPath, [cli, 'ping', ...args], { timeoutMs: 60_000, user });
  }

  async function pingJson(args: string[], user?: typeof NOBODY): Promise<{ r: ProcessResult; doc: PingDocument; t: PingTargetResult }> {
    const r = await pingIn(['--json', ...args], user);
    expect(r.stdout, r.stderr).not.toBe('');
    const doc = JSON.parse(r.stdout) as PingDocument;
    return { r, doc, t: doc.targets[0]! };
  }

  for (const method of ['syn', 'connect'] as const) {
    for (const family of ['v4', 'v6'] as const) {
      it(`${method} ${family}: an open port is open, a closed one closed (the host answered)`, async () => {
        await net.reset();
        const open = await pingJson([`--tcp=${OPEN}`, '--tcp-method', method, '-c', '3', '-i', '0.05', '-W', '1', v(family)]);
        expect(open.r.code, open.r.stderr).toBe(0);
        expect(open.doc).toMatchObject({ method: `tcp-${method}`, port: OPEN, socket: method === 'syn' ? 'raw' : 'stream' });
        expect(open.t).toMatchObject({ transmitted: 3, received: 3, closed: 0, loss: 0 });
        expect(open.t.probes.map((p) => p.state)).toEqual(['open', 'open', 'open']);
        // SYN-ACKs come through the router: one hop off 64 (connect sockets see no TTL)
        expect(open.t.probes.map((p) => p.ttl)).toEqual(method === 'syn' ? [63, 63, 63] : [null, null, null]);
        const closed = await pingJson([`--tcp=${CLOSED}`, '--tcp-method', method, '-c', '2', '-i', '0.05', '-W', '1', v(family)]);
        expect(closed.r.code).toBe(0);
        expect(closed.t).toMatchObject({ transmitted: 2, received: 2, closed: 2, loss: 0 });
        expect(closed.t.probes.map((p) => p.state)).toEqual(['closed', 'closed']);
      });

      it(`${method} ${family}: nft drop makes the port filtered, each probe timing out at -W`, async () => {
        await net.reset();
        await net.addLoss(net.destination, 100, { hook: 'input', match: `tcp dport ${OPEN}`, family: family === 'v4' ? 'ipv4' : 'ipv6' });
        const { r, doc, t } = await pingJson([`--tcp=${OPEN}`, '--tcp-method', method, '-c', '1', '-W', '0.4', v(family)]);
        expect(r.code).toBe(1);
        expect(t).toMatchObject({ transmitted: 1, received: 0, loss: 100, probes: [{ status: 'timeout', state: 'filtered', rtt: null }] });
        // -W, not the kernel's connect timeout (its first SYN retransmission is a second away)
        expect(doc.elapsed).toBeGreaterThanOrEqual(400);
        expect(doc.elapsed).toBeLessThan(1000);
        const text = await pingIn([`--tcp=${OPEN}`, '--tcp-method', method, '-c', '1', '-W', '0.4', v(family)]);
        expect(text.stdout).toContain(`port ${OPEN} filtered: seq=1 no answer within 400 ms\n`);
        expect(text.stdout).toMatch(/1 packets transmitted, 0 received, 0 closed, 100% packet loss/);
      });

      it(`${method} ${family}: nft reject with tcp reset reads as closed`, async () => {
        await net.reset();
        await net.reject(net.routers[0]!, 'tcp-reset', { hook: 'forward', match: `tcp dport ${OPEN}`, family: family === 'v4' ? 'ipv4' : 'ipv6' });
        const { t } = await pingJson([`--tcp=${OPEN}`, '--tcp-method', method, '-c', '2', '-i', '0.05', '-W', '1', v(family)]);
        expect(t).toMatchObject({ transmitted: 2, received: 2, closed: 2 });
        expect(t.probes.map((p) => p.state)).toEqual(['closed', 'closed']);
      });

      it(`${method} ${family}: nft reject with admin-prohibited is an error from the router`, async () => {
        await net.reset();
        await net.reject(net.routers[0]!, 'admin-prohibited', { hook: 'forward', match: `tcp dport ${OPEN}`, family: family === 'v4' ? 'ipv4' : 'ipv6' });
        const { r, t } = await pingJson([`--tcp=${OPEN}`, '--tcp-method', method, '-c', '1', '-W', '1', v(family)]);
        expect(r.code).toBe(1);
        expect(t).toMatchObject({ transmitted: 1, received: 0, errors: 1 });
        expect(t.probes[0]).toMatchObject({
          status: 'error', state: 'filtered', from: routerAddress(family),
          error: family === 'v4' ? { type: 3, code: 13 } : { type: 1, code: 1 },
        });
        const text = await pingIn(['-n', `--tcp=${OPEN}`, '--tcp-method', method, '-c', '1', '-W', '1', v(family)]);
        expect(text.stdout).toContain(`port ${OPEN} filtered: seq=1 from ${routerAddress(family)}: `);
      });
    }
  }

  it('syn: SYN cookies on the destination still answer open', async () => {
    await net.reset();
    await net.sysctl(net.destination, 'net.ipv4.tcp_syncookies', 2);
    try {
      for (const family of ['v4', 'v6'] as const) {
        const { t } = await pingJson([`--tcp=${OPEN}`, '--tcp-method', 'syn', '-c', '3', '-i', '0.02', '-W', '1', v(family)]);
        expect(t).toMatchObject({ transmitted: 3, received: 3, closed: 0 });
      }
    } finally {
      await net.sysctl(net.destination, 'net.ipv4.tcp_syncookies', 1);
    }
  });

  for (const method of ['syn', 'connect'] as const) {
    it(`${method}: SYNs dropped on the router (nft numgen) are counted exactly`, async () => {
      await net.reset();
      for (const family of ['v4', 'v6'] as const) {
        // only SYNs: our RSTs after the SYN-ACKs (syn) and the handshakes' ACKs (connect) pass
        const counter = await net.addLoss(net.routers[0]!, 30, {
          family: family === 'v4' ? 'ipv4' : 'ipv6', match: `tcp dport ${OPEN} tcp flags & (syn | ack) == syn`,
        });
        const { t } = await pingJson([`--tcp=${OPEN}`, '--tcp-method', method, '-c', '150', '-i', '0.004', '-W', '0.5', v(family)]);
        const dropped = (await net.counter(net.routers[0]!, counter)).packets;
        expect(dropped).toBeGreaterThan(0);
        expect(t.transmitted).toBe(150);
        expect(t.transmitted - t.received).toBe(dropped);
        expect(t.probes.filter((p) => p.state === 'filtered')).toHaveLength(dropped);
        expect(t.loss).toBeCloseTo((dropped / 150) * 100, 4);
      }
    });
  }

  it('unprivileged (uid 65534, no capabilities): --tcp picks connect and works; syn names the fix', async () => {
    await net.reset();
    for (const family of ['v4', 'v6'] as const) {
      const { r, doc, t } = await pingJson([`--tcp=${OPEN}`, '-c', '2', '-i', '0.05', v(family)], NOBODY);
      expect(r.code, r.stderr).toBe(0);
      expect(doc.method).toBe('tcp-connect');
      expect(t).toMatchObject({ received: 2, closed: 0 });
      const closed = await pingJson([`--tcp=${CLOSED}`, '-c', '1', v(family)], NOBODY);
      expect(closed.t).toMatchObject({ received: 1, closed: 1 });
    }
    const syn = await pingIn([`--tcp=${OPEN}`, '--tcp-method', 'syn', '-c', '1', v('v4')], NOBODY);
    expect(syn.code).toBe(2);
    expect(syn.stdout).toBe('');
    expect(syn.stderr.trim().split('\n')).toHaveLength(1);
    expect(syn.stderr).toMatch(/^netdiag: TCP SYN probes need a raw socket: .*--tcp-method connect/);
  });
});
