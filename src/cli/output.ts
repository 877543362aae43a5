// Where the CLI writes. Commands receive an Output so tests can capture what they print.
// stdout on a pipe is asynchronous in Node: write() queues without limit while the reader is
// slow, so whatever produces output for as long as it likes waits for drained() between
// chunks (sockets listings, ipc listen) or holds and bounds what it keeps (ping-writer.ts).
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface Output {
  out(text: string): void;
  /**
   * UTF-8 bytes for stdout, handed over: the caller never writes into them again (big tables
   * skip a string and its encoding). Outputs without it take the decoded text through out().
   */
  outBytes?(bytes: Uint8Array): void;
  err(text: string): void;
  /** true when stdout is a terminal and NO_COLOR is not set */
  readonly color: boolean;
  readonly isTTY: boolean;
  /** true while stdout has more queued than its high-water mark (wait for drained()) */
  readonly backlogged?: boolean;
  /** resolves once stdout is below its high-water mark again (at once when it is) */
  drained?(): Promise<void>;
}

export function processOutput(): Output {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    out: (t) => void process.stdout.write(t),
    outBytes: (b) => void process.stdout.write(b),
    err: (t) => void process.stderr.write(t),
    isTTY,
    color: isTTY && !('NO_COLOR' in process.env),
    get backlogged() {
      return process.stdout.writableNeedDrain;
    },
    drained: () => streamDrained(process.stdout),
  };
}

/** Resolves on 'drain', or when the stream closes or fails (then nothing more gets written). */
export async function streamDrained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return;
  const ac = new AbortController();
  try {
    await Promise.race([once(stream, 'drain', { signal: ac.signal }), once(stream, 'close', { signal: ac.signal })]);
  } catch {
    // 'error' (EPIPE: main.ts ends the process) rejects once(): the wait is over either way
  } finally {
    ac.abort();
  }
}

/** Waits until o's stdout can take more: outputs without flow control take everything at once. */
export function outputDrained(o: Output): Promise<void> {
  return o.backlogged === true && o.drained !== undefined ? o.drained() : Promise.resolve();
}

/** Writes UTF-8 bytes the caller hands over (see Output.outBytes). */
export function printBytes(o: Output, bytes: Uint8Array): void {
  if (o.outBytes) o.outBytes(bytes);
  else o.out(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** Writes a JSON document followed by a newline. */
export function printJson(o: Output, doc: unknown): void {
  o.out(JSON.stringify(doc, null, 2) + '\n');
}
