// RawPairTransport.drainErrors: the raw ICMP socket a raw UDP or TCP SYN trace reads its answers
// from sends nothing, so a pending socket error on it (an ICMP error quoting an ICMP packet sets
// one, and it fails the next read) is never the trace's: read past it; a stream of them ends
// this look, not the trace (CI saw `recvmmsg failed with EHOSTUNREACH` end a trace whose
// simulated path answered with malformed ICMP, under Node 22 and again under Node 26).
import { describe, expect, it } from 'vitest';
import type { IcmpMessage, IcmpSocket } from '../../src/socket/icmp-socket.js';
import type { ProbeSocket } from '../../src/socket/probe-socket.js';
import { RawPairTransport } from '../../src/traceroute/transports/raw-pair-transport.js';
import type { TransportConfig } from '../../src/traceroute/transports/transport-config.js';

function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: recvmmsg`), { code, syscall: 'recvmmsg' });
}

/** An ICMP socket whose reads fail with `failures` (in order) before one read delivers `message`. */
function fakeSockets(failures: Error[]): { sender: ProbeSocket; errors: IcmpSocket; reads: () => number } {
  let reads = 0;
  const errors = {
    drain(errorQueue: boolean, onMessage: (m: IcmpMessage) => void): number {
      if (errorQueue) return 0;
      reads++;
      const next = failures.shift();
      if (next) throw next;
      onMessage({ length: 1 } as IcmpMessage);
      return 1;
    },
  };
  const sender = { drain: () => 0 };
  return { sender: sender as unknown as ProbeSocket, errors: errors as unknown as IcmpSocket, reads: () => reads };
}

class Pair extends RawPairTransport {
  protected startSockets(): void {}
  protected drainSockets(): void {}
  drain(onMessage: (m: IcmpMessage) => void): void {
    this.drainErrors(onMessage);
  }
}

const config = { family: 4, target: '127.0.0.1', source: '127.0.0.1', port: 33434, flow: 'paris', pmtu: 'dont', extensions: false } as unknown as TransportConfig;

describe('RawPairTransport.drainErrors', () => {
  it('reads past pending errors and delivers what follows them', () => {
    const { sender, errors, reads } = fakeSockets(Array.from({ length: 20 }, () => errnoError('EHOSTUNREACH')));
    const got: IcmpMessage[] = [];
    new Pair(sender, errors, 40000, config, () => {}).drain((m) => got.push(m));
    expect(got).toHaveLength(1);
    expect(reads()).toBe(21);
  });

  it('ends this look without throwing when pending errors keep coming', () => {
    const { sender, errors, reads } = fakeSockets(Array.from({ length: 500 }, () => errnoError('ECONNREFUSED')));
    const got: IcmpMessage[] = [];
    expect(() => new Pair(sender, errors, 40000, config, () => {}).drain((m) => got.push(m))).not.toThrow();
    expect(got).toHaveLength(0);
    expect(reads()).toBeLessThan(500);
  });

  it('throws an error that is not a pending one', () => {
    const { sender, errors } = fakeSockets([errnoError('EBADF')]);
    expect(() => new Pair(sender, errors, 40000, config, () => {}).drain(() => {})).toThrow(/EBADF/);
  });
});
