// What the traceroute engine relies on from a TracerouteBackend (src/traceroute/backend.ts)
// and the transports it opens, as one suite run against the real backend on loopback
// (test/integration/contract-traceroute.test.ts) and against the simulated path
// (test/unit/contract-traceroute.test.ts), so the fake cannot drift from the kernel. Only
// 127.0.0.1 and ::1 are ever addressed.
import { describe, expect, it } from 'vitest';

import type { TracerouteBackend, TransportRequest } from '../../src/traceroute/backend.js';
import type { ProbeReply, ProbeTransport, SendOutcome } from '../../src/traceroute/transport.js';
import type { TracerouteMethod, TracerouteSocketRequest } from '../../src/traceroute/types.js';
import { describeResolveTargetContract } from './resolve-target.js';

export interface TracerouteContractEnv {
  /** the probe methods (and socket kinds) to check */
  methods: readonly { method: TracerouteMethod; socket: TracerouteSocketRequest }[];
  /** the families to check on loopback */
  families: readonly (4 | 6)[];
  /** lets p settle: a real clock runs by itself, a fake one is moved on until it does */
  run<T>(p: Promise<T>): Promise<T>;
}

const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;
/** the port probes go to: nothing listens there on loopback (traceroute's default base) */
const PORT = 33434;

/** The ICMP type and code a reached destination answers with, per method (null: not ICMP). */
function reachedIcmp(method: TracerouteMethod, family: 4 | 6): { type: number; code: number } | null {
  if (method === 'icmp') return family === 4 ? { type: 0, code: 0 } : { type: 129, code: 0 };
  if (method === 'udp') return family === 4 ? { type: 3, code: 3 } : { type: 1, code: 4 };
  return null;
}

function requestFor(method: TracerouteMethod, socket: TracerouteSocketRequest, family: 4 | 6): TransportRequest {
  return { method, socket, family, target: LOOPBACK[family], port: PORT, flow: 'paris', pmtu: 'dont', extensions: false };
}

/** Starts a transport, collecting replies; `next(id)` resolves with the reply for that probe. */
class Replies {
  readonly all: ProbeReply[] = [];
  readonly failures: Error[] = [];
  private waiting = new Map<number, (r: ProbeReply) => void>();

  constructor(transport: ProbeTransport) {
    transport.start(
      (reply) => {
        this.all.push(reply);
        this.waiting.get(reply.id)?.(reply);
      },
      (error) => this.failures.push(error),
    );
  }

  next(id: number): Promise<ProbeReply> {
    const seen = this.all.find((r) => r.id === id);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
}

function sentStamp(outcome: SendOutcome | undefined): number {
  expect(outcome?.kind).toBe('sent');
  return (outcome as { stamp: number }).stamp;
}

export function describeTracerouteBackendContract(name: string, makeBackend: () => TracerouteBackend, env: TracerouteContractEnv): void {
  describe(`TracerouteBackend contract: ${name}`, () => {
    describeResolveTargetContract(makeBackend);

    for (const { method, socket } of env.methods) {
      for (const family of env.families) {
        describe(`${method} over ${socket} sockets, IPv${family}`, () => {
          it('opens a transport of the method and family asked for', () => {
            const t = makeBackend().openTransport(requestFor(method, socket, family));
            try {
              expect(t.method).toBe(method);
              expect(t.family).toBe(family);
              if (socket !== 'auto') expect(t.socket).toBe(socket);
              expect(['raw', 'dgram', 'stream']).toContain(t.socket);
              // the IP header (20 / 40 bytes) and at least an 8-byte ICMP or UDP header
              expect(Number.isInteger(t.minLength) && t.minLength >= (family === 4 ? 28 : 48)).toBe(true);
            } finally {
              t.close();
            }
          });

          it(`answers a probe to ${LOOPBACK[family]} with the fields the scheduler reads`, async () => {
            const b = makeBackend();
            await env.run(b.timestampsReady());
            const t = b.openTransport(requestFor(method, socket, family));
            try {
              const replies = new Replies(t);
              const length = Math.max(t.minLength, 64);
              const sent = sentStamp(t.send([{ id: 7, ttl: 64, length }])[0]);
              t.poll();
              const r = await env.run(replies.next(7));
              const after = b.clock.realtimeStamp();
              expect(replies.failures).toEqual([]);
              expect(r).toMatchObject({
                id: 7, from: LOOPBACK[family], icmp: reachedIcmp(method, family), annotation: null,
                final: true, reached: true, mtu: null, mpls: [], extensions: null, flags: [],
              });
              expect(r.replyTtl === null || (Number.isInteger(r.replyTtl) && r.replyTtl >= 1 && r.replyTtl <= 255)).toBe(true);
              // RTT = reply stamp - send stamp, both on the clock's stamp base
              expect(r.stamp).toBeGreaterThanOrEqual(sent);
              expect(r.stamp).toBeLessThanOrEqual(after);
              t.release(7);
            } finally {
              t.close();
            }
          });

          it('ignores the answer to a probe released before it was read', async () => {
            const b = makeBackend();
            const t = b.openTransport(requestFor(method, socket, family));
            try {
              const length = Math.max(t.minLength, 64);
              // released at once: whatever comes back for 1 is not the engine's business any more
              sentStamp(t.send([{ id: 1, ttl: 64, length }])[0]);
              t.release(1);
              const replies = new Replies(t);
              sentStamp(t.send([{ id: 2, ttl: 64, length }])[0]);
              t.poll();
              await env.run(replies.next(2));
              t.poll();
              expect(replies.all.map((r) => r.id)).toEqual([2]);
            } finally {
              t.close();
            }
          });
        });
      }
    }

    describe('clock', () => {
      it('is monotonic and fires timers in the order they are due', async () => {
        const { clock } = makeBackend();
        const seen: { what: string; now: number; stamp: number }[] = [];
        const start = { now: clock.now(), stamp: clock.realtimeStamp() };
        await env.run(new Promise<void>((resolve) => {
          const mark = (what: string) => () => {
            seen.push({ what, now: clock.now(), stamp: clock.realtimeStamp() });
            if (what === 'last') resolve();
          };
          // tens of ms apart: setting real timers may take milliseconds on a loaded run
          clock.setTimer(mark('last'), 160);
          clock.clearTimer(clock.setTimer(mark('cleared'), 40));
          clock.setTimer(mark('first'), 20);
          clock.setTimer(mark('second'), 80);
        }));
        expect(seen.map((s) => s.what)).toEqual(['first', 'second', 'last']);
        let prev = start;
        for (const s of seen) {
          expect(s.now).toBeGreaterThanOrEqual(prev.now);
          expect(s.stamp).toBeGreaterThanOrEqual(prev.stamp);
          prev = s;
        }
        expect(seen[2]!.now - start.now).toBeGreaterThanOrEqual(159);
      });

      it('turns a kernel timestamp into milliseconds on its own base', () => {
        const { clock } = makeBackend();
        // RTTs are differences of stamps: 1.5 ms apart in (sec, nsec) is 1.5 ms apart in stamps
        const a = clock.stamp(1_800_000_000, 999_000_000);
        const b = clock.stamp(1_800_000_001, 500_000);
        expect(b - a).toBeCloseTo(1.5, 6);
      });
    });

    it('timestampsReady resolves', async () => {
      await expect(env.run(makeBackend().timestampsReady())).resolves.toBeUndefined();
    });
  });
}
