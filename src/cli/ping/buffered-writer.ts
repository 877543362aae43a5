// Coalesces ping's many small writes (a line per probe, a dot per flood probe) into few large
// ones: flushed when 64 KiB pile up, once the current burst of callbacks is over, or on demand.
//
// Backpressure: while stdout is backlogged (a slow or stalled pipe) nothing more is handed to
// it; text is held and goes out in one piece on 'drain'. Probes keep their schedule (the
// engine does not wait for the terminal, and its statistics count every probe), so what is
// held is capped at maxHeld: past it, probe output is left out and stderr says how much,
// instead of the process growing without bound. flush() hands everything over (end of run).
import { outputDrained, type Output } from '../output.js';

/** What the writer needs of an Output (tests pass a plain function sink). */
type Sink = Pick<Output, 'out'> & Partial<Pick<Output, 'err' | 'backlogged' | 'drained'>>;

export class BufferedWriter {
  private parts: string[] = [];
  private size = 0;
  private scheduled: NodeJS.Immediate | null = null;
  private waitingForDrain = false;
  private droppedBytes = 0;
  private readonly sink: Sink;

  constructor(
    sink: Sink | ((text: string) => void),
    private readonly limit = 64 * 1024,
    private readonly maxHeld = 4 * 1024 * 1024,
  ) {
    this.sink = typeof sink === 'function' ? { out: sink } : sink;
  }

  /** Bytes of probe output left out because stdout did not keep up. */
  get dropped(): number {
    return this.droppedBytes;
  }

  /** Probe output: left out (and counted) while stdout is backlogged and maxHeld is held. */
  write(text: string): void {
    if (this.size >= this.maxHeld && this.sink.backlogged === true) {
      this.droppedBytes += text.length;
      return;
    }
    this.writeResult(text);
  }

  /** The header and the statistics: held like the rest, never left out. */
  writeResult(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.waitingForDrain) return; // 'drain' writes it
    if (this.size >= this.limit) this.pump();
    else this.scheduled ??= setImmediate(() => {
      this.scheduled = null;
      this.pump();
    });
  }

  /** Hands everything held to stdout now, backlogged or not (before stderr lines, at the end). */
  flush(): void {
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    this.reportDropped();
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.sink.out(text);
  }

  /** flush(), unless stdout is backlogged: then hold on until it drains. */
  private pump(): void {
    if (this.sink.backlogged !== true) {
      this.flush();
      return;
    }
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    void outputDrained(this.sink as Output).then(() => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  private reportDropped(): void {
    if (this.droppedBytes === 0) return;
    const n = this.droppedBytes;
    this.droppedBytes = 0;
    this.sink.err?.(`netdiag: stdout did not keep up: ${n} bytes of probe output were left out (the statistics count every probe)\n`);
  }
}
