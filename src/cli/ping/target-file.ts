// Targets from a file or stdin, one per line as fping -f reads them: blank lines and lines
// starting with # are skipped, and only the first word of a line counts. The input is read as a
// stream and bounded on every axis (README "Limits"): line length, line count, target count,
// and an abort signal (Ctrl-C, SIGTERM) stops the read between chunks — an endless stdin or
// /dev/zero ends with an error, never with the memory of the machine.

import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { addAbortSignal, type Readable } from 'node:stream';
import { InputError, InterruptedError } from '../../errors.js';
import { isDottedQuad } from '../../ping/dotted-quad.js';
import { hostProblem } from '../../target/host-text.js';
import { MAX_TARGETS, MAX_TARGET_FILE_LINES, MAX_TARGET_LINE_BYTES } from '../../target/limits.js';

const NEWLINE = 0x0a;
const SPLIT_HINT = `netdiag takes at most ${MAX_TARGETS} targets per run: split the list`;

/** Splits chunks into lines and keeps the first word of each, checking every cap as it goes. */
export class TargetListParser {
  readonly targets: string[] = [];
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private lines = 0;

  /** The caps are the documented ones; tests may pass smaller ones. */
  constructor(
    private readonly caps = { targets: MAX_TARGETS, lines: MAX_TARGET_FILE_LINES, lineBytes: MAX_TARGET_LINE_BYTES },
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    // a line begun in an earlier chunk ends the general way
    if (this.partial.length > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl >= 0) {
        this.grow(nl);
        this.partial.push(chunk.subarray(0, nl));
        this.line();
        start = nl + 1;
      }
    }
    // the complete lines after it: ASCII (nearly every target list) is decoded once and cut into
    // lines as text, anything else line by line
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start && isAscii(chunk.subarray(start, last))) {
      this.asciiLines(chunk.toString('latin1', start, last + 1));
      start = last + 1;
    }
    for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      this.grow(nl - start);
      this.partial.push(chunk.subarray(start, nl));
      this.line();
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.grow(chunk.length - start);
      // a copy: the reader may reuse its buffers
      this.partial.push(Buffer.from(chunk.subarray(start)));
    }
  }

  /** The targets, once the input has ended (a last line without a newline counts). */
  end(): string[] {
    if (this.partialBytes > 0 || this.partial.length > 0) this.line();
    return this.targets;
  }

  private grow(bytes: number): void {
    this.partialBytes += bytes;
    if (this.partialBytes > this.caps.lineBytes) {
      throw new InputError(`line ${this.lines + 1} is longer than ${this.caps.lineBytes} bytes`, 'give one host per line; is this a target list?');
    }
  }

  private line(): void {
    const text = (this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial)).toString('utf8');
    this.partial = [];
    this.partialBytes = 0;
    this.lines++;
    if (this.lines > this.caps.lines) throw new InputError(`more than ${this.caps.lines} lines`, SPLIT_HINT);
    this.word(text.trim().split(/\s+/)[0]);
  }

  /** Newline-terminated ASCII lines (one byte per character, so lengths are byte counts). */
  private asciiLines(text: string): void {
    for (let at = 0, nl = text.indexOf('\n'); nl >= 0; at = nl + 1, nl = text.indexOf('\n', at)) {
      if (nl - at > this.caps.lineBytes) {
        throw new InputError(`line ${this.lines + 1} is longer than ${this.caps.lineBytes} bytes`, 'give one host per line; is this a target list?');
      }
      this.lines++;
      if (this.lines > this.caps.lines) throw new InputError(`more than ${this.caps.lines} lines`, SPLIT_HINT);
      // the first word: what trim() and split(/\s+/) give, for ASCII white space (tab to CR, space)
      let from = at;
      while (from < nl && isSpace(text.charCodeAt(from))) from++;
      let to = from;
      while (to < nl && !isSpace(text.charCodeAt(to))) to++;
      this.word(from < to ? text.slice(from, to) : undefined);
    }
  }

  /** The first word of a line (undefined: the line had none). */
  private word(word: string | undefined): void {
    if (!word || word.startsWith('#')) return;
    // a plain dotted quad (most of a sweep) is a host as it stands
    const problem = isDottedQuad(word) ? null : hostProblem(word);
    if (problem !== null) throw new InputError(`line ${this.lines}: the host ${problem.problem}`, `${problem.fix}, one per line`);
    if (this.targets.length === this.caps.targets) throw new InputError(`more than ${this.caps.targets} targets`, SPLIT_HINT);
    this.targets.push(word);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export function parseTargetList(text: string): string[] {
  const p = new TargetListParser();
  p.push(Buffer.from(text, 'utf8'));
  return p.end();
}

/**
 * Reads the targets of `path`, or of `stdin` for '-'. Throws InputError past a cap,
 * InterruptedError when `signal` aborts, and the system error when the file cannot be read.
 */
export async function readTargetFile(path: string, stdin?: NodeJS.ReadableStream, signal?: AbortSignal): Promise<string[]> {
  if (signal?.aborted) throw new InterruptedError('interrupted before the targets were read');
  // process.stdin is touched only for '-': touching it opens a stream, a cost no other run pays
  const stream = (path === '-' ? (stdin ?? process.stdin) : createReadStream(path, { highWaterMark: 64 * 1024 })) as Readable;
  if (signal) addAbortSignal(signal, stream);
  const parser = new TargetListParser();
  try {
    // leaving the loop early (a cap, an abort) destroys the stream: nothing more is read
    for await (const chunk of stream) parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  } catch (e) {
    if (signal?.aborted) throw new InterruptedError('interrupted while reading the targets');
    throw e;
  }
  return parser.end();
}
