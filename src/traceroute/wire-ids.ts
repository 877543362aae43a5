// Maps the few bits a probe carries on the wire (ICMP sequence, UDP port or checksum, TCP
// sequence low bits) to session probe ids. Values are handed out round-robin in [first, last]
// and never reused while their probe is in flight, so a late answer cannot hit a newer probe
// until the whole range has gone round. What went out under a value (a checksum, port or
// payload length answers are checked against) is kept with it until its probe is released.
export class WireIds<Sent = never> {
  private next: number;
  private readonly byWire = new Map<number, number>();
  private readonly byProbe = new Map<number, number>();
  private readonly sentByWire = new Map<number, Sent>();

  constructor(private readonly first: number, private readonly last: number, start = first) {
    if (!Number.isInteger(first) || !Number.isInteger(last) || first > last) throw new RangeError(`bad wire id range ${first}-${last}`);
    this.next = Math.min(Math.max(start, first), last);
  }

  /** A free wire value for probe id; throws when every value is in flight. */
  allocate(probeId: number): number {
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const v = this.next;
      this.next = v === this.last ? this.first : v + 1;
      if (!this.byWire.has(v)) {
        this.byWire.set(v, probeId);
        this.byProbe.set(probeId, v);
        return v;
      }
    }
    throw new RangeError(`all ${size} wire identifiers are in flight`);
  }

  probeOf(wire: number): number | undefined {
    return this.byWire.get(wire);
  }

  wireOf(probeId: number): number | undefined {
    return this.byProbe.get(probeId);
  }

  /** Keeps what the probe under `wire` went out with, until release. */
  noteSent(wire: number, sent: Sent): void {
    this.sentByWire.set(wire, sent);
  }

  sentOn(wire: number): Sent | undefined {
    return this.sentByWire.get(wire);
  }

  release(probeId: number): void {
    const v = this.byProbe.get(probeId);
    if (v === undefined) return;
    this.byProbe.delete(probeId);
    this.byWire.delete(v);
    this.sentByWire.delete(v);
  }

  get inFlight(): number {
    return this.byWire.size;
  }
}
