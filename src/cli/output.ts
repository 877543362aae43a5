// Where the CLI writes. Commands receive an Output so tests can capture what they print.
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** true when stdout is a terminal and NO_COLOR is not set */
  readonly color: boolean;
  readonly isTTY: boolean;
}

export function processOutput(): Output {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY,
    color: isTTY && !('NO_COLOR' in process.env),
  };
}

/** Writes a JSON document followed by a newline. */
export function printJson(o: Output, doc: unknown): void {
  o.out(JSON.stringify(doc, null, 2) + '\n');
}
