// Reverse lookups for ping's output without reordering it: lines wait in order until the
// names of the addresses they print are known (each address is looked up once).

import { reverseLookup } from '../ping/resolve.js';

export class NameCache {
  private readonly names = new Map<string, string | null>();
  private readonly lookups = new Map<string, Promise<void>>();

  /** The name of address: a string, null when it has none, undefined when not looked up yet. */
  get(address: string): string | null | undefined {
    return this.names.get(address);
  }

  lookup(address: string): Promise<void> {
    let p = this.lookups.get(address);
    if (p === undefined) {
      p = reverseLookup(address).then((name) => void this.names.set(address, name));
      this.lookups.set(address, p);
    }
    return p;
  }
}

/**
 * Writes lines in the order they were produced; a line whose addresses still need a name
 * waits (and so does everything after it) until the lookups finish.
 */
export class OrderedLines {
  private chain: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly names: NameCache | null,
    private readonly write: (text: string) => void,
  ) {}

  push(addresses: readonly string[], render: () => string): void {
    const missing = this.names === null ? [] : addresses.filter((a) => this.names!.get(a) === undefined);
    if (missing.length === 0 && this.waiting === 0) {
      const text = render();
      if (text) this.write(text);
      return;
    }
    this.waiting++;
    const lookups = Promise.all(missing.map((a) => this.names!.lookup(a)));
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
