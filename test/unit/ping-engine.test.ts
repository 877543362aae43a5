// The ping engine on a simulated network and clock: pacing (interval, preload, flood, rate),
// timeout vs deadline, late and duplicate replies, damaged and foreign replies, ICMP and
// local errors, partial sends, and many outstanding probes.
import { describe, expect, it } from 'vitest';
import { PingEngine, type EngineConfig } from '../../src/ping/engine.js';
import { FakeNetwork, echoResponder, type FakeAnswer, type Responder, type SentProbe } from '../helpers/ping-fake-network.js';
import { SocketPool } from '../../src/ping/socket-pool.js';
import type { IcmpSocketKind, PingEvent, PingTarget } from '../../src/ping/types.js';

const BASE: EngineConfig = {
  count: 1, interval: 1000, timeout: 1000, deadline: null, rate: null, preload: 1, size: 56, pattern: null, keepProbes: true,
};

function target(address: string): PingTarget {
  return { target: address, address, family: address.includes(':') ? 6 : 4 };
}

function setup(cfg: Partial<EngineConfig>, addresses: string[], responder: Responder = echoResponder(), mode: IcmpSocketKind = 'raw') {
  const net = new FakeNetwork(responder, mode);
  const pool = new SocketPool(net, { socket: mode });
  const targets = addresses.map(target);
  for (const t of targets) pool.socket(t.family);
  const events: PingEvent[] = [];
  const engine = new PingEngine(net.clock, pool.sockets, targets, { ...BASE, ...cfg }, (e) => events.push(e));
  let ended = false;
  void engine.done.then(() => (ended = true));
  return {
    net, engine, events,
    /** advances the clock and lets the engine's promise settle */
    async run(ms: number): Promise<boolean> {
      net.clock.advance(ms);
      await Promise.resolve();
      return ended;
    },
  };
}

const sentTimes = (probes: SentProbe[]): number[] => probes.map((p) => p.sentAt);
const types = (events: PingEvent[], ...which: PingEvent['type'][]): string[] =>
  events.filter((e) => which.includes(e.type)).map((e) => `${e.type}:${e.seq}`);

describe('pacing', () => {
  it('sends count probes one interval apart and ends when the last is answered', async () => {
    const s = setup({ count: 3, interval: 1000 }, ['10.0.0.1'], echoResponder(0.05));
    s.engine.start();
    expect(await s.run(2000.04)).toBe(false);
    expect(await s.run(0.02)).toBe(true);
    expect(sentTimes(s.net.sent)).toEqual([0, 1000, 2000]);
    const t = s.engine.document().targets[0]!;
    expect([t.transmitted, t.received, t.loss]).toEqual([3, 3, 0]);
    expect(t.probes.map((p) => p.rtt)).toEqual([0.05, 0.05, 0.05]);
    expect(s.engine.endReason).toBe('done');
  });

  it('sends the preload at once, then one per interval', async () => {
    const s = setup({ count: 5, interval: 1000, preload: 3 }, ['10.0.0.1']);
    s.engine.start();
    await s.run(5000);
    expect(sentTimes(s.net.sent)).toEqual([0, 0, 0, 1000, 2000]);
  });

  it('floods: the next probe on each reply', async () => {
    const s = setup({ count: 5, interval: 0 }, ['10.0.0.1'], echoResponder(0.25));
    s.engine.start();
    expect(await s.run(10)).toBe(true);
    expect(sentTimes(s.net.sent)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(s.engine.targets[0]!.pipe).toBe(1);
  });

  it('floods: every 10 ms while nothing comes back, keeping preload probes in flight', async () => {
    const s = setup({ count: 4, interval: 0, timeout: 100 }, ['10.0.0.1'], () => []);
    s.engine.start();
    await s.run(1000);
    expect(sentTimes(s.net.sent)).toEqual([0, 10, 20, 30]);
    const p = setup({ count: 4, interval: 0, preload: 2, timeout: 100 }, ['10.0.0.1'], () => []);
    p.engine.start();
    await p.run(1000);
    expect(sentTimes(p.net.sent)).toEqual([0, 0, 10, 20]);
  });

  it('keeps to a global rate across targets', async () => {
    const addresses = Array.from({ length: 5 }, (_, i) => `10.0.0.${i + 1}`);
    const s = setup({ count: 2, interval: 10, rate: 100 }, addresses);
    s.engine.start();
    await s.run(1000);
    const times = sentTimes(s.net.sent);
    expect(times).toHaveLength(10);
    expect(times).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(s.net.sent.map((p) => p.destination)).toEqual([...addresses, ...addresses]);
  });

  it('sends to every target at once without a rate', async () => {
    const addresses = Array.from({ length: 600 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const s = setup({}, addresses);
    s.engine.start();
    expect(await s.run(1)).toBe(true);
    expect(new Set(sentTimes(s.net.sent))).toEqual(new Set([0]));
    expect(s.engine.targets.every((t) => t.received === 1)).toBe(true);
  });

  it('retries what the kernel did not take (EAGAIN) a millisecond later', async () => {
    const addresses = Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    const s = setup({}, addresses);
    for (const sock of s.net.sockets) sock.acceptPerSend = 100;
    s.engine.start();
    expect(await s.run(10)).toBe(true);
    expect(s.net.sent).toHaveLength(300);
    expect([...new Set(sentTimes(s.net.sent))]).toEqual([0, 1, 2]);
  });
});

describe('timeouts, deadline, late replies', () => {
  it('books a probe lost when its timeout expires, and a later reply as late', async () => {
    const s = setup({ count: 1, timeout: 1000 }, ['10.0.0.1'], echoResponder(1500));
    s.engine.start();
    expect(await s.run(1000)).toBe(true);
    expect(types(s.events, 'timeout')).toEqual(['timeout:1']);
    const t = s.engine.document().targets[0]!;
    expect([t.transmitted, t.received, t.loss, t.late]).toEqual([1, 0, 100, 0]);
  });

  it('counts a late reply that comes while the run still goes on', async () => {
    const s = setup({ count: 2, interval: 1000, timeout: 500 }, ['10.0.0.1'], (p) => [{ kind: 'reply', after: p.wireSeq === 1 ? 700 : 1 }]);
    s.engine.start();
    expect(await s.run(1001)).toBe(true);
    expect(types(s.events, 'timeout', 'late', 'reply')).toEqual(['timeout:1', 'late:1', 'reply:2']);
    const t = s.engine.document().targets[0]!;
    expect([t.transmitted, t.received, t.late, t.loss]).toEqual([2, 1, 1, 50]);
    expect(t.probes[0]).toMatchObject({ status: 'late', rtt: 700 });
    expect(t.rtt!.max).toBe(1);
  });

  it('reads the socket before booking a timeout: a reply already queued is not lost', async () => {
    // the reply is in the queue at 999 ms but the poller has not said so when the timer fires
    const s = setup({ count: 1, timeout: 1000 }, ['10.0.0.1'], () => [{ kind: 'reply', after: 999, notify: false }]);
    s.engine.start();
    expect(await s.run(1000)).toBe(true);
    const t = s.engine.document().targets[0]!;
    expect([t.received, t.loss]).toEqual([1, 0]);
    expect(t.probes[0]!.rtt).toBe(999);
  });

  it('takes the RTT from kernel timestamps, not from when the event loop got round to it', async () => {
    const s = setup({ count: 1, timeout: 1000 }, ['10.0.0.1'], () => [{ kind: 'reply', after: 0.004 }]);
    s.engine.start();
    s.net.clock.jump(50); // a 50 ms blocking task: the reply waits in the queue
    expect(await s.run(0)).toBe(true);
    expect(s.engine.document().targets[0]!.probes[0]!.rtt).toBe(0.004);
  });

  it('books a reply whose kernel timestamp is past the timeout as late even if read before the timer', async () => {
    const s = setup({ count: 1, timeout: 1000 }, ['10.0.0.1'], () => [{ kind: 'reply', after: 1500, notify: false }]);
    s.engine.start();
    s.net.clock.jump(1600);
    expect(await s.run(0)).toBe(true);
    const t = s.engine.document().targets[0]!;
    expect([t.received, t.late, t.loss]).toEqual([0, 1, 100]);
    expect(types(s.events, 'late', 'timeout', 'reply')).toEqual(['late:1']);
  });

  it('ends the run at the deadline, booking what is still out as timed out', async () => {
    const s = setup({ count: Infinity, interval: 1000, timeout: 10_000, deadline: 3500 }, ['10.0.0.1'], (p) => (p.wireSeq % 2 ? [{ kind: 'reply', after: 1 }] : []));
    s.engine.start();
    expect(await s.run(3499)).toBe(false);
    expect(await s.run(1)).toBe(true);
    expect(s.engine.endReason).toBe('deadline');
    const t = s.engine.document().targets[0]!;
    expect(t.probes.map((p) => p.status)).toEqual(['reply', 'timeout', 'reply', 'timeout']);
    expect([t.transmitted, t.received, t.loss]).toEqual([4, 2, 50]);
  });

  it('with a deadline, count is the number of replies: it keeps sending until they came', async () => {
    const s = setup({ count: 2, interval: 1000, timeout: 10_000, deadline: 60_000 }, ['10.0.0.1'], (p) => (p.wireSeq <= 3 ? [] : [{ kind: 'reply', after: 1 }]));
    s.engine.start();
    expect(await s.run(4001)).toBe(true);
    expect(s.engine.endReason).toBe('done');
    const t = s.engine.document().targets[0]!;
    expect([t.transmitted, t.received]).toEqual([5, 2]);
    // the three unanswered ones stop waiting with the target
    expect(t.probes.map((p) => p.status)).toEqual(['timeout', 'timeout', 'timeout', 'reply', 'reply']);
  });

  it('stop() ends the run with what was measured', async () => {
    const s = setup({ count: Infinity, interval: 1000, timeout: 10_000, deadline: null }, ['10.0.0.1'], (p) => (p.wireSeq === 3 ? [] : [{ kind: 'reply', after: 2 }]));
    s.engine.start();
    await s.run(2500);
    s.engine.stop();
    expect(await s.run(0)).toBe(true);
    expect(s.engine.endReason).toBe('stopped');
    const t = s.engine.document().targets[0]!;
    expect([t.transmitted, t.received, t.loss]).toEqual([3, 2, 100 / 3].map((x) => Math.round(x * 1e4) / 1e4));
  });
});

describe('what comes back', () => {
  it('counts duplicates and flags them, without counting them as received', async () => {
    // (the run goes on to a second probe: it ends as soon as the last probe is answered)
    const s = setup({ count: 2, interval: 10 }, ['10.0.0.1'], (p) => (p.wireSeq === 1 ? [{ kind: 'reply', after: 1 }, { kind: 'reply', after: 2 }] : [{ kind: 'reply', after: 1 }]));
    s.engine.start();
    await s.run(20);
    const t = s.engine.document().targets[0]!;
    expect([t.received, t.duplicates]).toEqual([2, 1]);
    expect(t.probes.map((p) => p.flags)).toEqual([['dup'], []]);
    const replies = s.events.filter((e) => e.type === 'reply');
    expect(replies.map((e) => e.type === 'reply' && e.reply.flags)).toEqual([[], ['dup'], []]);
    // iputils counts a duplicate's time in the statistics
    expect(t.rtt!.max).toBe(2);
  });

  it('counts an IPv4 raw reply with a bad checksum as corrupted, and the probe keeps waiting', async () => {
    const s = setup({ count: 1 }, ['10.0.0.1'], () => [{ kind: 'reply', after: 1, corrupt: true }, { kind: 'reply', after: 3 }]);
    s.engine.start();
    await s.run(5);
    const t = s.engine.document().targets[0]!;
    expect([t.corrupted, t.received, t.duplicates]).toEqual([1, 1, 0]);
    expect(t.probes[0]).toMatchObject({ status: 'reply', rtt: 3, flags: ['corrupted'] });
  });

  it('flags a reply from another address and a payload that came back changed', async () => {
    const s = setup({ count: 2, interval: 10 }, ['10.0.0.1'], (p) =>
      p.wireSeq === 1 ? [{ kind: 'reply', after: 1, from: '10.9.9.9' }] : [{ kind: 'reply', after: 1, mutate: (b) => void (b[8 + 20] = 0xee) }],
    );
    s.engine.start();
    await s.run(20);
    const t = s.engine.document().targets[0]!;
    expect(t.probes.map((p) => p.flags)).toEqual([['different-address'], ['bad-payload']]);
    expect(t.probes[0]!.from).toBe('10.9.9.9');
    expect(t.received).toBe(2);
    const second = s.events.find((e) => e.type === 'reply' && e.seq === 2);
    expect(second?.type === 'reply' && second.reply.mismatch).toEqual({ offset: 20, expected: 20, actual: 0xee });
  });

  it('ignores replies with another cookie or identifier (another pinger on the host)', async () => {
    const s = setup({ count: 2, interval: 10, timeout: 100 }, ['10.0.0.1'], (p) =>
      p.wireSeq === 1 ? [{ kind: 'reply', after: 1, mutate: (b) => void (b[8 + 4]! ^= 0xff) }] : [{ kind: 'reply', after: 1, mutate: (b) => b.writeUInt16BE(b.readUInt16BE(4) ^ 1, 4) }],
    );
    s.engine.start();
    await s.run(200);
    const t = s.engine.document().targets[0]!;
    expect([t.received, t.corrupted, t.loss]).toEqual([0, 0, 100]);
  });

  for (const mode of ['raw', 'dgram'] as const) {
    it(`reports an ICMP error with the router's address and iputils' text (${mode}, IPv4 and IPv6)`, async () => {
      const answer = (p: SentProbe): FakeAnswer[] =>
        p.family === 4
          ? [{ kind: 'error', after: 0.5, router: '10.0.3.2', type: 3, code: 1 }]
          : [{ kind: 'error', after: 0.5, router: 'fd00:3::2', type: 1, code: 0 }];
      const s = setup({ count: 1 }, ['10.0.9.1', 'fd00:9::1'], answer, mode);
      s.engine.start();
      expect(await s.run(1)).toBe(true);
      const [v4, v6] = s.engine.document().targets;
      expect(v4!.probes[0]).toMatchObject({
        status: 'error', from: '10.0.3.2', rtt: 0.5, error: { type: 3, code: 1, message: 'Destination Host Unreachable', mtu: null },
      });
      expect(v6!.probes[0]).toMatchObject({ status: 'error', from: 'fd00:3::2', error: { type: 1, code: 0, message: 'Destination unreachable: No route' } });
      expect([v4!.errors, v4!.loss, v6!.errors, v6!.loss]).toEqual([1, 100, 1, 100]);
    });

    it(`reports the MTU of fragmentation needed / packet too big (${mode})`, async () => {
      const answer = (p: SentProbe): FakeAnswer[] =>
        p.family === 4
          ? [{ kind: 'error', after: 0.5, router: '10.0.2.2', type: 3, code: 4, mtu: 1400 }]
          : [{ kind: 'error', after: 0.5, router: 'fd00:2::2', type: 2, code: 0, mtu: 1400 }];
      const s = setup({ count: 1, size: 1472 }, ['10.0.9.1', 'fd00:9::1'], answer, mode);
      s.engine.start();
      await s.run(1);
      const [v4, v6] = s.engine.document().targets;
      expect(v4!.probes[0]!.error).toEqual({ type: 3, code: 4, message: 'Frag needed and DF set (mtu = 1400)', mtu: 1400 });
      expect(v6!.probes[0]!.error).toEqual({ type: 2, code: 0, message: 'Packet too big: mtu=1400', mtu: 1400 });
    });
  }

  it('reads the error queue when a read fails with the pending error an ICMP error leaves', async () => {
    const s = setup({ count: 2, interval: 10 }, ['10.0.9.1'], (p) =>
      p.wireSeq === 1 ? [{ kind: 'error', after: 1, router: '10.0.0.254', type: 3, code: 1, pendingError: 'EHOSTUNREACH' }] : [{ kind: 'reply', after: 1 }],
      'dgram',
    );
    s.engine.start();
    expect(await s.run(20)).toBe(true);
    const t = s.engine.document().targets[0]!;
    expect(t.probes.map((p) => p.status)).toEqual(['error', 'reply']);
  });

  it('an echo reply after the ICMP error that settled its probe is late, not a duplicate', async () => {
    // the second probe keeps the run going while the first one's reply comes in
    const s = setup({ count: 2, interval: 10, timeout: 50 }, ['10.0.9.1'], (p) =>
      p.wireSeq === 1
        ? [{ kind: 'error', after: 1, router: '10.0.0.254', type: 3, code: 1 }, { kind: 'reply', after: 2 }]
        : [{ kind: 'reply', after: 1 }],
    );
    s.engine.start();
    await s.run(100);
    const t = s.engine.document().targets[0]!;
    expect([t.received, t.duplicates, t.late, t.errors]).toEqual([1, 0, 1, 1]);
    expect(t.probes.map((p) => p.status)).toEqual(['error', 'reply']);
  });

  it('ignores an ICMP error quoting a probe to another destination', async () => {
    const s = setup({ count: 1, timeout: 50 }, ['10.0.9.1'], () => [{ kind: 'error', after: 1, router: '10.0.0.254', type: 3, code: 1 }]);
    // rewrite the quoted destination as a NAT that gets it wrong would
    const sock = s.net.sockets[0]!;
    const drain = sock.drain.bind(sock);
    sock.drain = (eq, on, budget) => drain(eq, (m) => {
      if (m.buf[0] === 3) m.buf.set([10, 0, 9, 2], 8 + 16);
      on(m);
    }, budget);
    s.engine.start();
    await s.run(100);
    expect(s.engine.document().targets[0]!.probes[0]!.status).toBe('timeout');
  });

  it('reports a send the kernel refused, with the MTU from the error queue', async () => {
    const s = setup({ count: 1, size: 2000 }, ['10.0.9.1', 'fd00:9::1'], () => [{ kind: 'send-error', errno: 90, mtu: 1400 }]);
    s.engine.start();
    expect(await s.run(0)).toBe(true);
    const [v4, v6] = s.engine.document().targets;
    expect(v4!.probes[0]).toMatchObject({ status: 'error', from: null, error: { type: null, code: null, message: 'local error: message too long, mtu=1400', mtu: 1400 } });
    expect(v6!.probes[0]!.error!.message).toBe('local error: message too long, mtu: 1400');
    expect([v4!.transmitted, v4!.errors, v4!.loss]).toEqual([1, 1, 100]);
    expect(types(s.events, 'sent')).toEqual([]);
  });

  it('says sendmsg failed when the error queue has nothing to add', async () => {
    const s = setup({ count: 1 }, ['10.0.9.1'], () => [{ kind: 'send-error', errno: 101 }]);
    s.engine.start();
    await s.run(0);
    expect(s.engine.document().targets[0]!.probes[0]!.error!.message).toBe('sendmsg: Network is unreachable');
  });
});

describe('a run that keeps no probes', () => {
  // such a run lets settled probes go and reuses the objects: duplicates, late replies and errors
  // about a probe it let go must be booked exactly as a run that keeps every probe books them
  const answers: Responder = (p) => {
    if (p.wireSeq % 7 === 0) return [{ kind: 'reply', after: 2 }, { kind: 'reply', after: 8 }];
    if (p.wireSeq % 5 === 0) return [{ kind: 'reply', after: 9 }, { kind: 'reply', after: 12 }];
    if (p.wireSeq % 11 === 0) return [{ kind: 'error', after: 1, router: '10.0.0.254', type: 3, code: 1 }, { kind: 'reply', after: 3 }];
    if (p.wireSeq % 13 === 0) return [];
    return [{ kind: 'reply', after: 0.5 }];
  };
  const run = async (cfg: Partial<EngineConfig>) => {
    const s = setup({ count: 40, interval: 1, timeout: 5, ...cfg }, ['10.0.0.1', '10.0.0.2', '10.0.0.3'], answers);
    s.engine.start();
    expect(await s.run(100)).toBe(true);
    const doc = s.engine.document(false);
    return { events: s.events, targets: doc.targets };
  };

  for (const size of [56, 2]) {
    it(`books duplicates, late replies and errors as a run that keeps them does (${size}-byte payload)`, async () => {
      const kept = await run({ size, keepProbes: true });
      const released = await run({ size, keepProbes: false });
      expect(released).toEqual(kept);
      const t = released.targets[0]!;
      // the scenario has each kind of message about a settled probe
      expect(t.duplicates).toBeGreaterThan(0);
      expect(t.late).toBeGreaterThan(0);
      expect(t.errors).toBeGreaterThan(0);
      expect(released.events.some((e) => e.type === 'late' && e.reply.flags.includes('dup'))).toBe(true);
    });
  }

  it('floods past the 16-bit sequence space with the same counts and times', async () => {
    const flood = async (keepProbes: boolean) => {
      const s = setup({ count: 70_000, interval: 0, timeout: 5, keepProbes }, ['10.0.0.1'], (p) =>
        p.wireSeq % 1000 === 0 ? [{ kind: 'reply', after: 0.01 }, { kind: 'reply', after: 0.02 }] : [{ kind: 'reply', after: 0.01 }],
      );
      s.engine.observe(null);
      s.engine.start();
      expect(await s.run(2000)).toBe(true);
      return s.engine.document(false).targets[0]!;
    };
    const released = await flood(false);
    expect(released).toEqual(await flood(true));
    expect([released.transmitted, released.received]).toEqual([70_000, 70_000]);
    expect(released.duplicates).toBeGreaterThan(0);
  });
});

describe('many targets, many probes', () => {
  it('pings IPv4 and IPv6 targets over one socket per family', async () => {
    const s = setup({ count: 2, interval: 100 }, ['10.0.0.1', 'fd00::1', '10.0.0.2', 'fd00::2']);
    s.engine.start();
    expect(await s.run(200)).toBe(true);
    expect(s.net.sockets.map((x) => x.family)).toEqual([4, 6]);
    expect(s.engine.targets.map((t) => t.received)).toEqual([2, 2, 2, 2]);
  });

  it('matches replies to ping-socket probes by the identifier the kernel chose', async () => {
    const s = setup({ count: 3, interval: 10 }, ['10.0.0.1', 'fd00::1'], echoResponder(), 'dgram');
    s.engine.start();
    expect(await s.run(30)).toBe(true);
    expect(s.net.sent.every((p) => p.identifier === s.net.sockets.find((x) => x.family === p.family)!.identifier)).toBe(true);
    expect(s.engine.targets.map((t) => t.received)).toEqual([3, 3]);
  });

  it('keeps 100,000 outstanding probes apart and books each one', async () => {
    // more probes in flight than the 16-bit wire sequence can tell apart: the payload's 32-bit one can
    const n = 100_000;
    const addresses = Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const s = setup({ count: 1, timeout: 5000, keepProbes: false }, addresses, (p) =>
      p.destination.endsWith('.7') ? [] : [{ kind: 'reply', after: 1000 + (p.wireSeq % 97), notify: false }],
    );
    s.engine.observe(null);
    s.engine.start();
    await s.run(999);
    expect(s.net.sent).toHaveLength(n);
    expect(await s.run(5001)).toBe(true);
    const doc = s.engine.document(false);
    const silent = addresses.filter((a) => a.endsWith('.7')).length;
    expect(doc.targets.filter((t) => t.received === 1)).toHaveLength(n - silent);
    expect(doc.targets.filter((t) => t.loss === 100)).toHaveLength(silent);
    expect(doc.targets.every((t, i) => t.received === 0 || t.rtt!.min === 1000 + ((i + 1) & 0xffff) % 97)).toBe(true);
  });
});
