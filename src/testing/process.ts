// Spawn a program and collect what it did: stdout, stderr, exit code or signal, wall time.
// No shell is involved; arguments go to the program as given.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface ProcessOptions {
  /** Written to the program's stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Environment; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed with SIGKILL after this long (default 60 s); the result then has `timedOut: true`. */
  timeoutMs?: number;
}

export interface ProcessResult {
  /** The command line as run, for error messages. */
  command: string;
  stdout: string;
  stderr: string;
  /** Exit code, or null when a signal ended the program. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
}

export interface RunningProcess {
  child: ChildProcess;
  pid: number | undefined;
  /** Settles (never rejects) once the program has exited and its output is drained. */
  done: Promise<ProcessResult>;
  /** Sends a signal (default SIGTERM) if it is still running. */
  kill(signal?: NodeJS.Signals): void;
}

export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Starts a program; `done` resolves with everything it wrote and how it ended. */
export function startProcess(cmd: string, args: readonly string[] = [], opts: ProcessOptions = {}): RunningProcess {
  const command = formatCommand(cmd, args);
  const started = performance.now();
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  if (opts.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {}); // EPIPE when the program exits without reading: not our failure
    child.stdin.end(opts.input);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const done = new Promise<ProcessResult>((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e)); // ENOENT etc.: reported as code 127 with the message
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (spawnError ? `${spawnError.message}\n` : '');
      resolve({
        command,
        stdout: Buffer.concat(out).toString(),
        stderr,
        code: spawnError && code === null && signal === null ? 127 : code,
        signal,
        timedOut,
        durationMs: performance.now() - started,
      });
    });
  });
  return {
    child,
    pid: child.pid,
    done,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs a program to the end and returns what it did; never rejects because of its exit code. */
export function runProcess(cmd: string, args: readonly string[] = [], opts: ProcessOptions = {}): Promise<ProcessResult> {
  return startProcess(cmd, args, opts).done;
}

export class ProcessError extends Error {
  constructor(readonly result: ProcessResult) {
    const how = result.timedOut
      ? 'timed out'
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with ${result.code}`;
    super(`${result.command} ${how}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`);
    this.name = 'ProcessError';
  }
}

/** Runs a program and returns its stdout; rejects with ProcessError unless it exits 0. */
export async function runChecked(cmd: string, args: readonly string[] = [], opts: ProcessOptions = {}): Promise<string> {
  const result = await runProcess(cmd, args, opts);
  if (result.code !== 0) throw new ProcessError(result);
  return result.stdout;
}

/** Synchronous variant for exit handlers, where nothing asynchronous runs any more. */
export function runProcessSync(cmd: string, args: readonly string[] = [], opts: ProcessOptions = {}): ProcessResult {
  const started = performance.now();
  const r = spawnSync(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  return {
    command: formatCommand(cmd, args),
    stdout: r.stdout?.toString() ?? '',
    stderr: (r.stderr?.toString() ?? '') + (r.error ? `${r.error.message}\n` : ''),
    code: r.error && r.status === null && r.signal === null ? 127 : r.status,
    signal: r.signal,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    durationMs: performance.now() - started,
  };
}
