// Consecutive local TCP ports held for raw SYN probes: each port is a TCP socket bound to it and
// never listening, so the kernel gives it to no one else and answers a SYN-ACK to it with a RST.
// Consecutive, so one BPF range test (probe-filters.ts tcpToPorts) admits them all.
import { isSystemError } from '../errors.js';
import { native } from '../native.js';
import { IP_PROTOCOL } from '../packet/ip-protocol.js';
import { DatagramSocket } from './datagram-socket.js';

const ATTEMPTS = 32;

export class TcpPortRange {
  readonly first: number;
  readonly count: number;
  private readonly holders: DatagramSocket[];

  private constructor(holders: DatagramSocket[], first: number) {
    this.holders = holders;
    this.first = first;
    this.count = holders.length;
  }

  get last(): number {
    return this.first + this.count - 1;
  }

  /**
   * Reserves up to `count` consecutive ports on `address` (the wildcard address holds them on
   * every address): fewer when a busy host has no such run free (halving down to `min` ports).
   */
  static reserve(family: 4 | 6, address: string, count: number, min = 1): TcpPortRange {
    for (let n = count; ; n = Math.floor(n / 2)) {
      try {
        return TcpPortRange.reserveExactly(family, address, n);
      } catch (e) {
        if (n <= min) throw e;
      }
    }
  }

  /** Reserves exactly `count` consecutive ports on `address`, or throws. */
  static reserveExactly(family: 4 | 6, address: string, count: number): TcpPortRange {
    let lastError: unknown = null;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const held: DatagramSocket[] = [];
      try {
        const first = bound(family, address, 0);
        held.push(first);
        const base = native().getsockname(first.fd).port ?? 0;
        if (base + count - 1 > 0xffff) throw new Error('the range would pass port 65535');
        for (let p = base + 1; p < base + count; p++) held.push(bound(family, address, p));
        return new TcpPortRange(held, base);
      } catch (e) {
        lastError = e;
        for (const h of held) h.close();
      }
    }
    // bind's own error (EADDRINUSE) tells the user what ran out; the CLI explains it
    if (isSystemError(lastError)) throw lastError;
    throw new Error(`could not reserve ${count} consecutive TCP ports on ${address}: ${(lastError as Error)?.message ?? 'unknown'}`);
  }

  close(): void {
    for (const h of this.holders) h.close();
    this.holders.length = 0;
  }
}

function bound(family: 4 | 6, address: string, port: number): DatagramSocket {
  return new DatagramSocket({ family, type: 'stream', protocol: IP_PROTOCOL.TCP, source: address, sourcePort: port });
}
