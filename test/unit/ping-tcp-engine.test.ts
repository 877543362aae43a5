// TCP ping in the engine, on the simulated network: SYN-ACK open, RST closed (counted as
// answered, and as closed), nothing filtered; what must not match a SYN probe (another port,
// another address, another acknowledgment, a RST for another connection); ICMP errors quoting
// the SYN with the router's address; the IPv4 checksum written for the kernel's source address
// and the IPv6 one left to the kernel; many targets on one socket; connect outcomes, and
// connect probes given up at their timeout (their sockets closed).
import { describe, expect, it } from 'vitest';
import { PingEngine, type EngineConfig } from '../../src/ping/engine.js';
import { SocketPool } from '../../src/ping/socket-pool.js';
import type { PingEvent, PingTarget, TcpMethodRequest } from '../../src/ping/types.js';
import { FakeNetwork, FakeTcpSocket, type TcpResponder } from '../helpers/ping-fake-network.js';

const BASE: EngineConfig = {
  count: 1, interval: 1000, timeout: 1000, deadline: null, rate: null, preload: 1, size: 0, pattern: null, keepProbes: true,
};

function target(address: string): PingTarget {
  return { target: address, address, family: address.includes(':') ? 6 : 4 };
}

function setup(cfg: Partial<EngineConfig>, addresses: string[], responder: TcpResponder, tcpMethod: TcpMethodRequest = 'syn', port = 443) {
  const net = new FakeNetwork();
  net.tcpResponder = responder;
  const pool = new SocketPool(net, { socket: 'auto', method: 'tcp', port, tcpMethod });
  const targets = addresses.map(target);
  for (const t of targets) pool.socket(t.family);
  const events: PingEvent[] = [];
  const engine = new PingEngine(net.clock, pool.sockets, targets, { ...BASE, ...cfg }, (e) => events.push(e));
  let ended = false;
  void engine.done.then(() => (ended = true));
  return {
    net, engine, events,
    socket: (family: 4 | 6) => pool.sockets.get(family) as FakeTcpSocket,
    async run(ms: number): Promise<boolean> {
      net.clock.advance(ms);
      await Promise.resolve();
      return ended;
    },
  };
}

describe('TCP SYN probes', () => {
  it('books SYN-ACK as open and RST as closed, both answered; the document says method, port and states', async () => {
    let n = 0;
    const s = setup({ count: 3, interval: 100 }, ['10.0.0.1'], () => [{ kind: n++ === 1 ? 'closed' : 'open', after: 0.04 }]);
    s.engine.start();
    expect(await s.run(300)).toBe(true);
    const doc = s.engine.document();
    expect(doc).toMatchObject({ method: 'tcp-syn', port: 443, socket: 'raw' });
    const t = doc.targets[0]!;
    expect(t).toMatchObject({ transmitted: 3, received: 3, closed: 1, loss: 0 });
    expect(t.probes.map((p) => [p.status, p.state, p.rtt, p.bytes])).toEqual([['reply', 'open', 0.04, 20], ['reply', 'closed', 0.04, 20], ['reply', 'open', 0.04, 20]]);
    const states = s.events.flatMap((e) => (e.type === 'reply' ? [e.reply.state] : []));
    expect(states).toEqual(['open', 'closed', 'open']);
  });

  it('a probe with no answer is filtered, and lost', async () => {
    const s = setup({ count: 2, interval: 100, timeout: 500 }, ['10.0.0.1'], () => []);
    s.engine.start();
    expect(await s.run(700)).toBe(true);
    const t = s.engine.document().targets[0]!;
    expect(t).toMatchObject({ transmitted: 2, received: 0, closed: 0, loss: 100 });
    expect(t.probes.map((p) => [p.status, p.state])).toEqual([['timeout', 'filtered'], ['timeout', 'filtered']]);
  });

  it('matches only the 4-tuple and the acknowledged sequence: strays leave the probe waiting', async () => {
    const strays: TcpResponder = (p) => [
      { kind: 'open', after: 0.005, dstPort: p.syn!.readUInt16BE(0) ^ 1 }, // another of our ports
      { kind: 'open', after: 0.01, srcPort: 444 }, // another remote port
      { kind: 'open', after: 0.02, dstPort: 1234 }, // another local port (a connection of someone else)
      { kind: 'closed', after: 0.03, from: '10.0.0.99' }, // another host
      { kind: 'open', after: 0.04, ackDelta: 1 }, // acknowledges something else
      { kind: 'closed', after: 0.05, ackDelta: 0x10000 }, // right low bits, wrong sequence number
    ];
    const s = setup({ timeout: 100 }, ['10.0.0.1'], strays);
    s.engine.start();
    expect(await s.run(200)).toBe(true);
    expect(s.engine.document().targets[0]).toMatchObject({ received: 0, closed: 0, duplicates: 0, probes: [{ status: 'timeout', state: 'filtered' }] });
  });

  it('a repeated SYN-ACK (the peer retransmits) is a duplicate, not a second answer', async () => {
    const s = setup({ count: 2, interval: 1000 }, ['10.0.0.1'], () => [{ kind: 'open', after: 0.03 }, { kind: 'open', after: 0.5 }]);
    s.engine.start();
    await s.run(2);
    expect(s.engine.document().targets[0]).toMatchObject({ transmitted: 1, received: 1, duplicates: 1 });
  });

  it('an ICMP error quoting the SYN is an error from the router, and the port filtered', async () => {
    const s = setup({}, ['10.0.0.1', 'fd00::1'], (p) => [{ kind: 'error', after: 0.2, router: p.family === 4 ? '10.9.9.9' : 'fd09::9', type: p.family === 4 ? 3 : 1, code: p.family === 4 ? 13 : 1 }]);
    s.engine.start();
    expect(await s.run(5)).toBe(true);
    const [v4, v6] = s.engine.document().targets;
    expect(v4!.probes[0]).toMatchObject({ status: 'error', state: 'filtered', from: '10.9.9.9', error: { type: 3, code: 13, message: 'Packet filtered' } });
    expect(v6!.probes[0]).toMatchObject({ status: 'error', state: 'filtered', from: 'fd09::9', error: { type: 1, code: 1 } });
    expect(v4).toMatchObject({ errors: 1, received: 0, loss: 100 });
  });

  it('writes IPv4 checksums for the source the kernel picks, leaves IPv6 ones to the kernel, and numbers SYNs apart', async () => {
    const hosts = Array.from({ length: 40 }, (_, i) => (i % 2 ? `10.0.${i}.1` : `fd00::${i + 1}`));
    const s = setup({ count: 2, interval: 10 }, hosts, () => [{ kind: 'closed', after: 0.02 }]);
    s.engine.start();
    expect(await s.run(50)).toBe(true);
    const sent = [...s.socket(4).tcpSent, ...s.socket(6).tcpSent];
    expect(sent).toHaveLength(80);
    expect(sent.every((p) => p.checksumOk)).toBe(true);
    // the socket's few local ports, in turn, shared by every target; each SYN its own sequence number
    const ports = s.socket(4).tcpSent.map((p) => p.syn!.readUInt16BE(0));
    const first = s.socket(4).localPort!;
    expect(ports).toEqual(ports.map((_, i) => first + ((i + 1) % 4)));
    expect(new Set(sent.map((p) => p.seq)).size).toBe(80);
    expect(sent.every((p) => p.syn!.length === 20 && p.syn![13] === 0x02)).toBe(true);
    expect(s.engine.document().targets.every((t) => t.received === 2 && t.closed === 2)).toBe(true);
  });

  it('with a deadline, a closed port answers too: count answers end the target', async () => {
    const s = setup({ count: 1, deadline: 1000, interval: 300, timeout: 1000 }, ['10.0.0.1'], () => [{ kind: 'closed', after: 0.02 }]);
    s.engine.start();
    expect(await s.run(1)).toBe(true);
    expect(s.engine.document().targets[0]).toMatchObject({ transmitted: 1, received: 1, closed: 1 });
  });
});

describe('TCP connect probes', () => {
  it('books connected as open and refused as closed; the document says tcp-connect over stream sockets', async () => {
    let n = 0;
    const s = setup({ count: 2, interval: 100 }, ['10.0.0.1'], () => [{ kind: n++ === 0 ? 'open' : 'closed', after: 0.07 }], 'connect', 5432);
    s.engine.start();
    expect(await s.run(200)).toBe(true);
    const doc = s.engine.document();
    expect(doc).toMatchObject({ method: 'tcp-connect', port: 5432, socket: 'stream' });
    expect(doc.targets[0]).toMatchObject({ transmitted: 2, received: 2, closed: 1 });
    expect(doc.targets[0]!.probes.map((p) => [p.state, p.rtt, p.bytes])).toEqual([['open', 0.07, null], ['closed', 0.07, null]]);
  });

  it('an aborted handshake is an error: with the ICMP error and router, or with the errno', async () => {
    let n = 0;
    const s = setup({ count: 2, interval: 100 }, ['10.0.0.1'], () => [
      n++ === 0 ? { kind: 'error', after: 0.3, router: '10.0.0.254', type: 3, code: 1 } : { kind: 'connect-error', after: 0.3, errno: 113 },
    ], 'connect');
    s.engine.start();
    expect(await s.run(200)).toBe(true);
    const [a, b] = s.engine.document().targets[0]!.probes;
    expect(a).toMatchObject({ status: 'error', state: 'filtered', from: '10.0.0.254', error: { type: 3, code: 1, message: 'Destination Host Unreachable' } });
    expect(b).toMatchObject({ status: 'error', state: 'filtered', from: null, error: { type: null, code: null, message: 'connect: No route to host' } });
  });

  it('gives a probe up at its timeout exactly, and has its socket closed (forget)', async () => {
    const s = setup({ count: 3, interval: 100, timeout: 250 }, ['10.0.0.1'], () => [], 'connect');
    s.engine.start();
    await s.run(249.999);
    expect(s.socket(4).forgotten).toEqual([]);
    await s.run(0.001);
    expect(s.socket(4).forgotten).toHaveLength(1);
    expect(await s.run(1000)).toBe(true);
    const sent = s.socket(4).tcpSent.map((p) => p.seq32);
    expect(s.socket(4).forgotten).toEqual(sent);
    expect(s.events.filter((e) => e.type === 'timeout').length).toBe(3);
  });

  it('the end of a run (deadline) closes what is still waiting', async () => {
    const s = setup({ count: Infinity, interval: 100, timeout: 1000, deadline: 350 }, ['10.0.0.1'], () => [], 'connect');
    s.engine.start();
    expect(await s.run(400)).toBe(true);
    expect(s.socket(4).forgotten.sort()).toEqual(s.socket(4).tcpSent.map((p) => p.seq32).sort());
  });
});

describe('choosing the TCP method', () => {
  it('auto is syn where raw sockets are allowed, else connect', () => {
    for (const [mode, method] of [['raw', 'tcp-syn'], ['dgram', 'tcp-connect']] as const) {
      const net = new FakeNetwork(undefined, mode);
      expect(new SocketPool(net, { socket: 'auto', method: 'tcp', port: 80, tcpMethod: 'auto' }).method).toBe(method);
    }
  });
});
