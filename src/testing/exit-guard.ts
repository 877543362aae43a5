// The cleanup on process exit and SIGINT/SIGTERM/SIGHUP (namespace-group.ts) listens on
// `process`. Jest runs each test file with a copy of `process` whose 'exit' and signal events
// never fire, so there the namespaces of a test that never reached its afterAll would outlive
// the run. For such a `process`, a guard takes over: a small shell holding the read end of a
// pipe from this process, told each namespace as it is made and deleted, that deletes the ones
// still listed when the pipe closes, which is when this process ends, however it ends.
import { spawn } from 'node:child_process';

// One line per change: "add NAME" or "del NAME"; at end of input, delete what is left.
const GUARD_SCRIPT = `live=' '
while read -r op ns; do
  case "$op" in
    add) live="$live$ns " ;;
    del) next=' '; for n in $live; do [ "$n" = "$ns" ] || next="$next$n "; done; live=$next ;;
  esac
done
for ns in $live; do ip netns del "$ns" 2>/dev/null; done
`;

/**
 * Whether 'exit' and signal listeners on `process` run: Node's own process object carries
 * Node's listeners that start signal delivery ('newListener'); a copy made by a test runner
 * does not. A wrong "no" only costs a guard process.
 */
export function processEventsFire(): boolean {
  return process.listenerCount('newListener') > 0;
}

export interface ExitGuard {
  /** These namespaces are about to be made: delete them if this process ends first. */
  add(names: readonly string[]): void;
  /** These namespaces were deleted. */
  remove(names: readonly string[]): void;
}

let guard: ExitGuard | null | undefined;

/** The guard when `process` events do not fire here (started on first use), else null. */
export function exitGuard(): ExitGuard | null {
  if (guard !== undefined) return guard;
  guard = null;
  if (processEventsFire()) return guard;
  try {
    // its own session: a Ctrl-C that reaches this process group must leave it running to clean up
    const child = spawn('sh', ['-c', GUARD_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    const stdin = child.stdin!;
    child.on('error', () => {
      guard = null; // no sh: nothing more can be done than the sweep at the next creation
    });
    stdin.on('error', () => {});
    // neither the guard nor its pipe keeps this process alive
    child.unref();
    (stdin as unknown as { unref(): void }).unref();
    const send = (op: string, names: readonly string[]) => {
      if (names.length) stdin.write(names.map((n) => `${op} ${n}\n`).join(''));
    };
    guard = { add: (names) => send('add', names), remove: (names) => send('del', names) };
  } catch {
    guard = null;
  }
  return guard;
}
