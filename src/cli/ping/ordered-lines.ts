// Reverse lookups for ping's output without reordering it: lines wait in order until the
// names of the addresses they print are known, each wait bounded by the shared reverse-DNS
// cache (src/runtime/reverse-dns.ts: each address is looked up once; a name that does not come
// in time leaves the address bare).

import type { ReverseDnsCache } from '../../runtime/reverse-dns.js';

/**
 * Writes lines in the order they were produced; a line whose addresses still need a name
 * waits (and so does everything after it) until the lookups finish or time out.
 */
export class OrderedLines {
  private chain: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly names: ReverseDnsCache | null,
    private readonly write: (text: string) => void,
  ) {}

  push(addresses: readonly string[], render: () => string): void {
    const missing = this.names === null ? [] : addresses.filter((a) => this.names!.peek(a) === undefined);
    if (missing.length === 0 && this.waiting === 0) {
      const text = render();
      if (text) this.write(text);
      return;
    }
    this.waiting++;
    const lookups = Promise.all(missing.map((a) => this.names!.wait(a)));
    this.chain = this.chain.then(() => lookups).then(() => {
      this.waiting--;
      const text = render();
      if (text) this.write(text);
    });
  }

  /** Settles when every line has been written. */
  flushed(): Promise<void> {
    return this.chain;
  }
}
