// What the ping engine relies on from a PingBackend (src/ping/backend.ts), as one suite run
// against the real backend on loopback (test/integration/contract-ping.test.ts) and against
// the simulated network (test/unit/contract-ping.test.ts), so the fake cannot drift from the
// kernel. Only 127.0.0.1 and ::1 are ever addressed.
import { describe, expect, it } from 'vitest';

import type { PingBackend, PingSocket } from '../../src/ping/backend.js';
import type { IcmpSocketKind } from '../../src/ping/types.js';
import { internetChecksum } from '../../src/packet/checksum.js';
import { echoReplyType, parseEcho, writeEcho } from '../../src/packet/icmp.js';
import { writeAddress } from '../../src/socket/address-bytes.js';
import { SendBatch } from '../../src/socket/send-batch.js';
import { describeResolveTargetContract } from './resolve-target.js';
import { PayloadLayout } from '../../src/ping/payload.js';
import { probeKindFor } from '../../src/ping/probe-kind.js';
import { newMatchResult, PORT_CLOSED, PORT_OPEN, type MatchResult } from '../../src/ping/reply-matcher.js';
import { TargetState } from '../../src/ping/target-state.js';

export interface PingContractEnv {
  /** the socket kinds to check (each must be openable where the suite runs) */
  modes: readonly IcmpSocketKind[];
  /** the families to check on loopback */
  families: readonly (4 | 6)[];
  /** lets p settle: a real clock runs by itself, a fake one is moved on until it does */
  run<T>(p: Promise<T>): Promise<T>;
}

const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;
const SLOT = 128;
const PAYLOAD = 24;

/** A received echo reply, copied out of the socket's buffer. */
interface Reply {
  type: number;
  id: number;
  seq: number;
  payload: Buffer;
  from: string;
  ttl: number | null;
  rx: bigint;
}

const ns = (sec: number, nsec: number): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nsec);

/** One echo request for `socket` to loopback in a fresh batch: the identifier is the socket's, the payload 0..PAYLOAD-1. */
function echoBatch(socket: PingSocket, seq: number): SendBatch {
  const batch = new SendBatch(1, SLOT);
  const payload = Buffer.from(Array.from({ length: PAYLOAD }, (_, i) => i));
  const length = writeEcho(batch.data, batch.nextOffset(), { family: socket.family, id: socket.identifier, seq, payload });
  const dest = Buffer.alloc(16);
  writeAddress(LOOPBACK[socket.family], dest, 0);
  batch.push(length, socket.family, dest);
  return batch;
}

/**
 * Reads the way the engine does (read(), the reused message, copied during the callback): on
 * every poll event, and when asked (sendAndReceive may already have read the reply, which then
 * comes with no event: the engine reads after each send). `arrived` resolves on the first message.
 */
class ReplyReader {
  readonly replies: Reply[] = [];
  readonly unexpected: string[] = [];
  readonly arrived: Promise<void>;
  private resolve!: () => void;

  constructor(private readonly socket: PingSocket) {
    this.arrived = new Promise((r) => (this.resolve = r));
    socket.start((readable, errorQueue) => {
      if (errorQueue) this.readErrorQueue();
      if (readable) this.readNow();
    });
  }

  readNow(): void {
    const family = this.socket.family;
    this.socket.read(false, (m) => {
      const echo = parseEcho(m.buf, m.offset, m.length, family);
      if (echo === null) {
        this.unexpected.push(`a non-echo message of type ${m.buf[m.offset]} from ${m.from}`);
        return;
      }
      this.replies.push({
        type: echo.type, id: echo.id, seq: echo.seq, from: m.from, ttl: m.ttl,
        payload: Buffer.from(m.buf.subarray(echo.payloadOffset, echo.payloadOffset + echo.payloadLength)),
        rx: ns(m.rxSec, m.rxNsec),
      });
    });
    if (this.replies.length + this.unexpected.length > 0) this.resolve();
  }

  private readErrorQueue(): void {
    this.socket.read(true, (m) => this.unexpected.push(`error queue entry from ${m.from}: ${JSON.stringify(m.queued)}`));
    if (this.unexpected.length > 0) this.resolve();
  }
}

export function describePingBackendContract(name: string, makeBackend: () => PingBackend, env: PingContractEnv): void {
  describe(`PingBackend contract: ${name}`, () => {
    describeResolveTargetContract(makeBackend);

    describe('chooseMode', () => {
      it('gives each kind asked for and a concrete kind for auto', () => {
        const b = makeBackend();
        for (const mode of env.modes) expect(b.chooseMode(mode)).toBe(mode);
        expect(['raw', 'dgram']).toContain(b.chooseMode('auto'));
      });
    });

    for (const mode of env.modes) {
      for (const family of env.families) {
        describe(`a ${mode} IPv${family} socket`, () => {
          it('has the family and kind asked for and a 16-bit identifier', () => {
            const b = makeBackend();
            const s = b.openSocket({ family, mode });
            try {
              expect(s.family).toBe(family);
              expect(s.mode).toBe(mode);
              expect(Number.isInteger(s.identifier)).toBe(true);
              expect(s.identifier).toBeGreaterThanOrEqual(0);
              expect(s.identifier).toBeLessThanOrEqual(0xffff);
            } finally {
              s.close();
            }
          });

          it(`gets the echo to ${LOOPBACK[family]} answered with its identifier and sequence, stamped after the send`, async () => {
            const b = makeBackend();
            const s = b.openSocket({ family, mode });
            try {
              // the kernel stamps arrivals once this resolves (before, a reply may be stamped late or not at all)
              await env.run(b.timestampsReady?.() ?? Promise.resolve());
              const before = ns(...b.clock.realtime());
              const batch = echoBatch(s, 0x1234);
              const reader = new ReplyReader(s);
              expect(s.sendAndReceive(batch)).toBe(1);
              expect(batch.errno(0)).toBe(0);
              const sent = ns(batch.sentSec(0), batch.sentNsec(0));
              reader.readNow();
              await env.run(reader.arrived);
              const { replies, unexpected } = reader;
              const after = ns(...b.clock.realtime());
              expect(unexpected).toEqual([]);
              expect(replies).toHaveLength(1);
              const r = replies[0]!;
              expect(r).toMatchObject({ type: echoReplyType(family), id: s.identifier, seq: 0x1234, from: LOOPBACK[family] });
              // the engine prints the reply's TTL / hop limit: the kernel gives it on both kinds
              expect(Number.isInteger(r.ttl) && r.ttl! >= 1 && r.ttl! <= 255).toBe(true);
              expect([...r.payload]).toEqual(Array.from({ length: PAYLOAD }, (_, i) => i));
              // kernel order: stamped before sendmsg, the reply stamped on arrival, all on CLOCK_REALTIME
              expect(before <= sent).toBe(true);
              expect(sent <= r.rx).toBe(true);
              expect(r.rx <= after).toBe(true);
              // nothing else is queued: one echo, one reply, no error-queue entry
              expect(s.drain(false, () => {})).toBe(0);
              expect(s.drain(true, () => {})).toBe(0);
            } finally {
              s.close();
            }
          });

          if (mode === 'dgram') {
            it('has the identifier the kernel chose written into every echo, whatever the echo carried', async () => {
              const b = makeBackend();
              const s = b.openSocket({ family, mode });
              try {
                const batch = echoBatch(s, 77);
                // another identifier in the echo as built: a ping socket's "port" replaces it on the wire
                batch.data.writeUInt16BE(s.identifier ^ 0x5a5a, batch.desc[0]! + 4);
                if (family === 4) {
                  batch.data.writeUInt16BE(0, batch.desc[0]! + 2);
                  batch.data.writeUInt16BE(internetChecksum(batch.data, batch.desc[0]!, batch.desc[1]!), batch.desc[0]! + 2);
                }
                const reader = new ReplyReader(s);
                expect(s.send(batch)).toBe(1);
                reader.readNow();
                await env.run(reader.arrived);
                expect(reader.unexpected).toEqual([]);
                expect(reader.replies.map((r) => [r.id, r.seq])).toEqual([[s.identifier, 77]]);
              } finally {
                s.close();
              }
            });
          }

          it('refuses to send once closed, with the error the engine sees', () => {
            const b = makeBackend();
            const s = b.openSocket({ family, mode });
            s.close();
            const batch = echoBatch(s, 1);
            expect(() => s.send(batch)).toThrowError(new Error('the socket is closed'));
            expect(() => s.sendAndReceive(batch)).toThrowError(new Error('the socket is closed'));
            // closing twice is harmless (run teardown and a prepared backend may both close)
            expect(() => s.close()).not.toThrow();
          });
        });
      }
    }

    describe('clock', () => {
      it('fires timers in the order they are due, not set, and never a cleared one', async () => {
        const { clock } = makeBackend();
        const fired: string[] = [];
        const start = clock.now();
        const firedAt = new Map<string, number>();
        const done = new Promise<void>((resolve) => {
          const mark = (what: string) => () => {
            fired.push(what);
            firedAt.set(what, clock.now());
            if (what === 'last') resolve();
          };
          // 40 ms apart: setting five real timers may take milliseconds on a loaded (or
          // sanitized) run, and the order asserted is that of the due times
          clock.setTimer(mark('last'), 160);
          clock.setTimer(mark('first'), 40);
          clock.clearTimer(clock.setTimer(mark('cleared'), 80));
          clock.setTimer(mark('second'), 120);
          clock.setTimer(mark('negative'), -5);
        });
        await env.run(done);
        expect(fired).toEqual(['negative', 'first', 'second', 'last']);
        // now() moved on at least the delay (a real timer's loop time has 1 ms granularity)
        expect(firedAt.get('last')! - start).toBeGreaterThanOrEqual(159);
        expect(firedAt.get('second')! - start).toBeGreaterThanOrEqual(119);
      });

      it('runs deferred callbacks unless cancelled, and reads CLOCK_REALTIME as [sec, nsec]', async () => {
        const { clock } = makeBackend();
        const ran: string[] = [];
        const done = new Promise<void>((resolve) => {
          clock.cancelDeferred(clock.defer(() => ran.push('cancelled')));
          clock.defer(() => {
            ran.push('deferred');
            resolve();
          });
        });
        await env.run(done);
        expect(ran).toEqual(['deferred']);
        const [sec, nsec] = clock.realtime();
        expect(Number.isInteger(sec) && Number.isInteger(nsec)).toBe(true);
        expect(nsec).toBeGreaterThanOrEqual(0);
        expect(nsec).toBeLessThan(1e9);
        // a plausible wall clock (after 2020), as kernel stamps are
        expect(sec).toBeGreaterThan(1_577_836_800);
      });
    });

    it('timestampsReady resolves once sockets are open', async () => {
      const b = makeBackend();
      const s = b.openSocket({ family: env.families[0]!, mode: env.modes[0]! });
      try {
        // optional in the interface, but both backends here stamp arrivals and must say when
        expect(b.timestampsReady).toBeTypeOf('function');
        await expect(env.run(b.timestampsReady!())).resolves.toBeUndefined();
      } finally {
        s.close();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// TCP sockets (TCP ping): what the probe kinds (src/ping/probe-kind.ts) need of a socket opened
// with method tcp-syn or tcp-connect, checked through the kinds themselves, so the fake's
// messages read as the real sockets' do.

export interface TcpPingContractEnv {
  methods: readonly ('tcp-syn' | 'tcp-connect')[];
  families: readonly (4 | 6)[];
  /** a port that accepts on both loopback addresses, and one where nothing listens */
  ports: () => { open: number; closed: number };
  run<T>(p: Promise<T>): Promise<T>;
}

/** Sends probe seq32 of `kind` to loopback on `socket`; resolves with the first message the kind reads as about it. */
async function tcpProbe(socket: PingSocket, seq32: number, env: TcpPingContractEnv): Promise<{ result: MatchResult; rx: bigint; sent: bigint; from: string; others: string[] }> {
  const kind = probeKindFor(socket, new PayloadLayout(0, null));
  const target = new TargetState(0, { target: LOOPBACK[socket.family], address: LOOPBACK[socket.family], family: socket.family }, false);
  const batch = new SendBatch(1, kind.slotSize);
  kind.prefill(batch.data, kind.slotSize, 1);
  batch.push(kind.write(batch.data, 0, seq32, target), socket.family, target.dest, target.destOffset, 0, -1, -1, target.scopeId);
  const others: string[] = [];
  let found: { result: MatchResult; rx: bigint; from: string } | null = null;
  let resolve!: () => void;
  const arrived = new Promise<void>((r) => (resolve = r));
  const read = (errorQueue: boolean): void => {
    socket.read(errorQueue, (m) => {
      const r = kind.classify(m, newMatchResult());
      if (r.kind !== 'ignore' && r.seq32 === seq32 && found === null) found = { result: { ...r }, rx: ns(m.rxSec, m.rxNsec), from: m.from };
      else others.push(`${r.kind}: ${r.reason}`);
    });
    if (found !== null) resolve();
  };
  socket.start((readable, errorQueue) => {
    if (errorQueue) read(true);
    if (readable) read(false);
  });
  expect(socket.sendAndReceive(batch)).toBe(1);
  expect(batch.errno(0)).toBe(0);
  read(false);
  await env.run(arrived);
  const f = found!;
  return { ...f, sent: ns(batch.sentSec(0), batch.sentNsec(0)), others };
}

export function describeTcpPingBackendContract(name: string, makeBackend: () => PingBackend, env: TcpPingContractEnv): void {
  describe(`PingBackend TCP contract: ${name}`, () => {
    for (const method of env.methods) {
      for (const family of env.families) {
        describe(`a ${method} IPv${family} socket`, () => {
          it('says what it sends and where to', () => {
            const s = makeBackend().openSocket({ family, mode: method === 'tcp-syn' ? 'raw' : 'dgram', method, port: env.ports().open });
            try {
              expect([s.family, s.method, s.port]).toEqual([family, method, env.ports().open]);
              if (method === 'tcp-syn') {
                expect(s.localPort).toBeGreaterThan(0);
                expect(s.localPorts ?? 1).toBeGreaterThanOrEqual(1);
                if (family === 4) expect(s.sourceAddressToward!(LOOPBACK[4])).toBe('127.0.0.1');
              } else {
                expect(typeof s.forget).toBe('function');
              }
            } finally {
              s.close();
            }
          });

          for (const state of ['open', 'closed'] as const) {
            it(`gets a probe to a ${state} port on ${LOOPBACK[family]} answered as ${state}, stamped after the send`, async () => {
              const b = makeBackend();
              const port = env.ports()[state];
              const s = b.openSocket({ family, mode: method === 'tcp-syn' ? 'raw' : 'dgram', method, port });
              try {
                await env.run(b.timestampsReady?.() ?? Promise.resolve());
                const seq32 = 0x12345 + (state === 'open' ? 0 : 7);
                const { result, rx, sent, from } = await tcpProbe(s, seq32, env);
                expect(result.kind).toBe('reply');
                expect(result.state).toBe(state === 'open' ? PORT_OPEN : PORT_CLOSED);
                expect(from).toBe(LOOPBACK[family]);
                expect(rx).toBeGreaterThanOrEqual(sent);
                // loopback: well under a second
                expect(rx - sent).toBeLessThan(1_000_000_000n);
              } finally {
                s.close();
              }
            });
          }
        });
      }
    }
  });
}
