// TCP ping on loopback (127.0.0.1 and ::1 only): both methods against an open port and a closed
// one (a port just released), the per-probe state and the statistics that count RSTs as
// answers, isReachable's host:port forms, and no descriptor left behind after thousands of
// connect probes. The listener for the 10,000 probes runs in another process: one in this
// process would accept only between the engine's time slices, and its full accept queue would
// drop SYNs that the test would then count against netdiag.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReachable, pingMany, pingStream } from '../../src/ping/api.js';
import type { PingEvent } from '../../src/ping/types.js';
import { describeWith } from '../helpers/requirements.js';

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.on('error', () => {}).destroy());
    s.once('error', reject);
    s.listen(0, host, () => resolve(s));
  });
}

function portOf(s: Server): number {
  return (s.address() as { port: number }).port;
}

/** A port nothing listens on: one the kernel just gave out and took back. */
async function closedPort(host: string): Promise<number> {
  const s = await listen(host);
  const port = portOf(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** A listener in a child process (accepting and closing at once); its port. */
function listenerProcess(): Promise<{ child: ChildProcess; port: number }> {
  const script = `const s = require('node:net').createServer((c) => c.on('error', () => {}).destroy());
s.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

const servers: Server[] = [];
const open: Record<string, number> = {};
const closed: Record<string, number> = {};

beforeAll(async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const s = await listen(host);
    servers.push(s);
    open[host] = portOf(s);
    closed[host] = await closedPort(host);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

function methodsWith(raw: boolean): Array<'syn' | 'connect'> {
  return raw ? ['syn', 'connect'] : ['connect'];
}

const haveRaw = process.getuid?.() === 0;

describe('TCP ping on loopback', () => {
  for (const tcpMethod of methodsWith(haveRaw)) {
    for (const host of ['127.0.0.1', '::1']) {
      it(`${tcpMethod} ${host}: an open port answers open, a closed one closed, with kernel-measured times`, async () => {
        const doc = await pingMany([host], { method: 'tcp', port: open[host], tcpMethod, count: 3, interval: 20, timeout: 1000 });
        expect(doc.method).toBe(`tcp-${tcpMethod}`);
        expect(doc.port).toBe(open[host]);
        expect(doc.socket).toBe(tcpMethod === 'syn' ? 'raw' : 'stream');
        const t = doc.targets[0]!;
        expect(t).toMatchObject({ transmitted: 3, received: 3, closed: 0, loss: 0 });
        expect(t.probes.map((p) => p.state)).toEqual(['open', 'open', 'open']);
        // microseconds on loopback, not an event loop's milliseconds
        for (const p of t.probes) expect(p.rtt).toBeLessThan(5);
        const c = await pingMany([host], { method: 'tcp', port: closed[host], tcpMethod, count: 2, interval: 20, timeout: 1000 });
        expect(c.targets[0]).toMatchObject({ transmitted: 2, received: 2, closed: 2, loss: 0 });
        expect(c.targets[0]!.probes.map((p) => p.state)).toEqual(['closed', 'closed']);
      });
    }
  }

  it('streams events that say the port state', async () => {
    const run = pingStream('127.0.0.1', { method: 'tcp', port: open['127.0.0.1'], tcpMethod: 'connect', count: 2, interval: 10 });
    const events: PingEvent[] = [];
    for await (const e of run) events.push(e);
    const replies = events.filter((e) => e.type === 'reply');
    expect(replies).toHaveLength(2);
    for (const r of replies) expect(r.type === 'reply' && r.reply.state).toBe('open');
  });

  it('isReachable: true only for an open port, in every spelling', async () => {
    expect(await isReachable(`127.0.0.1:${open['127.0.0.1']}`)).toBe(true);
    expect(await isReachable(`[::1]:${open['::1']}`)).toBe(true);
    expect(await isReachable('127.0.0.1', { port: open['127.0.0.1'], tcpMethod: 'connect' })).toBe(true);
    expect(await isReachable(`127.0.0.1:${closed['127.0.0.1']}`)).toBe(false);
    expect(await isReachable('::1', { port: closed['::1'] })).toBe(false);
  });

  it('connect: no descriptor is left behind after 10,000 probes', async () => {
    const { child, port } = await listenerProcess();
    try {
      const before = openFds();
      const doc = await pingMany(['127.0.0.1'], { method: 'tcp', port, tcpMethod: 'connect', count: 10_000, interval: 0, preload: 16, probes: false });
      expect(doc.targets[0]).toMatchObject({ transmitted: 10_000, received: 10_000, closed: 0 });
      expect(openFds()).toBeLessThanOrEqual(before);
    } finally {
      child.kill();
    }
  }, 60_000);
});

describeWith(['root'], 'TCP SYN ping on loopback (raw socket)', () => {
  it('many targets share one raw socket and one source port', async () => {
    const hosts = Array.from({ length: 50 }, (_, i) => `127.0.0.${i + 1}`);
    const doc = await pingMany(hosts, { method: 'tcp', port: closed['127.0.0.1'], tcpMethod: 'syn', timeout: 1000 });
    expect(doc.targets.every((t) => t.received === 1 && t.closed === 1)).toBe(true);
  });
});
