// Page chunks used again: a 10,000-target page is tens of megabytes, and allocating it afresh
// on every scrape makes V8 collect for the external memory (measured: ~8% of the render).
// The HTTP writer hands a chunk back once the socket (or gzip) has taken it; the pool keeps
// a few, so what it holds between scrapes stays small.

export class ChunkPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    /** bytes of every chunk */
    readonly size: number,
    /** most chunks kept between uses */
    private readonly keep: number,
  ) {}

  /** A chunk of `size` bytes (contents undefined). */
  take(): Buffer {
    const ab = this.free.pop();
    // allocUnsafeSlow: a chunk owns its memory (never a slice of Node's shared pool)
    return ab ? Buffer.from(ab) : Buffer.allocUnsafeSlow(this.size);
  }

  /** Takes back a chunk from take() (or a view from its start) that nothing refers to any more. */
  give(chunk: Uint8Array): void {
    const ab = chunk.buffer;
    if (chunk.byteOffset !== 0 || ab.byteLength !== this.size || !(ab instanceof ArrayBuffer)) return;
    if (this.free.length < this.keep && !this.free.includes(ab)) this.free.push(ab);
  }
}
