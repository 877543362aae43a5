// Interned inet addresses: a listing of 100k sockets holds a handful of distinct addresses
// (127.0.0.1, 0.0.0.0, ::), so rows store a small id and every address is formatted once.
// One book per scan.
import { formatIPv4, formatIPv6, isV4Mapped } from './inet-address.js';

export interface AddressInfo {
  /** as Node prints it */
  text: string;
  v6: boolean;
  mapped: boolean;
}

export class AddressBook {
  readonly addresses: AddressInfo[] = [];
  private readonly v4 = new Map<number, number>();
  // IPv6: bucket by the last word, then compare the other three
  private readonly v6 = new Map<number, number[]>();

  idOfV4(a: number): number {
    let id = this.v4.get(a);
    if (id === undefined) {
      id = this.add({ text: formatIPv4(a), v6: false, mapped: false });
      this.v4.set(a, id);
    }
    return id;
  }

  idOfV6(w0: number, w1: number, w2: number, w3: number): number {
    let bucket = this.v6.get(w3);
    if (bucket === undefined) {
      bucket = [];
      this.v6.set(w3, bucket);
    }
    for (let i = 0; i < bucket.length; i += 4) {
      if (bucket[i] === w0 && bucket[i + 1] === w1 && bucket[i + 2] === w2) return bucket[i + 3]!;
    }
    const id = this.add({ text: formatIPv6(w0, w1, w2, w3), v6: true, mapped: isV4Mapped(w0, w1, w2) });
    bucket.push(w0, w1, w2, id);
    return id;
  }

  private add(info: AddressInfo): number {
    this.addresses.push(info);
    return this.addresses.length - 1;
  }
}
