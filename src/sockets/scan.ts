// scanSockets(): the streaming scan behind listSockets() and `netdiag sockets`. Validated
// options in, the matching sockets out batch by batch (as entries, or as columns for a
// printer that formats 100k rows without an object per socket), so a caller can print them
// without holding them all.
import { statSync } from 'node:fs';
import { throwIfAborted } from '../abort.js';
import { checkBoolean, checkNumber, checkObject, checkSignal, checkString } from '../validate.js';
import { AddressBook } from './address-book.js';
import { compileFilter, type SocketFilter } from './filters.js';
import { scanOwners } from './owners.js';
import { parseInetLines, type InetParseContext } from './proc-net-parser.js';
import { readTables } from './proc-tables-reader.js';
import { loadEphemeralRange, loadServices, portNames, type PortNames } from './services.js';
import { SocketRows, toEntries } from './socket-rows.js';
import { estimateTableLines, idleCoreAvailable } from './sockstat.js';
import type { ListSocketsOptions, SocketEntry, SocketOwner, SocketProtocol } from './types.js';
import { parseUnixLines } from './unix-parser.js';
import { loadUsers } from './users.js';

const PID_MAX_LIMIT = 4194304;
/**
 * Above this many expected lines a worker thread reads the tables while this thread
 * parses: a worker takes ~40 ms to start (this thread reads meanwhile), the kernel ~2 µs
 * to format a TCP line, so below ~40k lines this thread would be done first anyway.
 */
const OFFLOAD_LINES = 40_000;

/** The error when netnsPid names no running process. */
export class NoSuchProcessError extends Error {
  readonly code = 'ESRCH';
  constructor(readonly pid: number) {
    super(`netnsPid ${pid}: no such process (give the pid of a running process inside the network namespace)`);
    this.name = 'NoSuchProcessError';
  }
}

interface ScanPlan {
  filter: SocketFilter;
  wantOwners: boolean;
  procRoot: string;
  /** the net/ directory whose tables are read */
  netDir: string;
  users: ReadonlyMap<number, string>;
  names: PortNames;
  signal: AbortSignal | undefined;
}

/** Checks the options (TypeError/RangeError naming the option) and loads the name tables. */
function planScan(options: ListSocketsOptions): ScanPlan {
  const o = checkObject('options', options) as ListSocketsOptions;
  const signal = checkSignal('signal', o.signal);
  const filter = compileFilter(o);
  const wantOwners = checkBoolean('owners', o.owners, false) || filter.pids !== null || filter.commands !== null;
  const procRoot = o.procRoot === undefined ? '/proc' : checkString('procRoot', o.procRoot, { nonEmpty: true });
  const passwdFile = o.passwdFile === undefined ? '/etc/passwd' : checkString('passwdFile', o.passwdFile, { nonEmpty: true });
  const servicesFile = o.servicesFile === undefined ? '/etc/services' : checkString('servicesFile', o.servicesFile, { nonEmpty: true });
  const netnsPid = o.netnsPid === undefined ? undefined : checkNumber('netnsPid', o.netnsPid, 1, PID_MAX_LIMIT, { integer: true });
  throwIfAborted(signal); // before anything is read (src/abort.ts)

  let netDir = `${procRoot}/net`;
  if (netnsPid !== undefined) {
    netDir = `${procRoot}/${netnsPid}/net`;
    try {
      statSync(netDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NoSuchProcessError(netnsPid);
      throw e;
    }
  }
  return { filter, wantOwners, procRoot, netDir, users: loadUsers(passwdFile), names: portNames(loadServices(servicesFile), loadEphemeralRange(procRoot)), signal };
}

/** Typical bytes per line, to size the row columns of a chunk. */
const LINE_BYTES = 128;

/**
 * One scan of the socket tables, read as it is iterated (once): `for await (const batch of
 * scan)` gives the matching sockets as the contract's entries, in ss's order (unix, raw,
 * udp, udplite, tcp); rows() gives the same batches as columns instead.
 */
export class SocketScan implements AsyncIterable<SocketEntry[]> {
  /** the interned addresses the rows refer to */
  readonly addresses = new AddressBook();
  private byInode: ReadonlyMap<number, readonly SocketOwner[]> | null = null;
  private unreadable: number[] | null = null;
  private started = false;

  /** Use scanSockets(). */
  constructor(private readonly plan: ScanPlan) {}

  /** Whether the processes holding each socket are looked up (owners, pids or commands). */
  get withOwners(): boolean {
    return this.plan.wantOwners;
  }

  /** Socket inode -> the processes holding it, once the owners were scanned (before the first batch). */
  get owners(): ReadonlyMap<number, readonly SocketOwner[]> | null {
    return this.byInode;
  }

  /** Processes whose descriptors could not be read, once the owners were scanned. */
  get ownersUnreadable(): readonly number[] | null {
    return this.unreadable;
  }

  /** The service name of a port ('ssh'), null when it has none. */
  serviceName(protocol: SocketProtocol, port: number): string | null {
    return this.plan.names.of(protocol)[port] ?? null;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SocketEntry[]> {
    const { users, names } = this.plan;
    for await (const rows of this.rows()) {
      yield toEntries(rows, { addresses: this.addresses, users, services: names.of(rows.table.protocol), owners: this.byInode });
    }
  }

  /**
   * The matching sockets chunk by chunk as columns (for the ss-style printer: no object per
   * socket). Owners, when asked for, are in `owners` before the first chunk.
   */
  async *rows(): AsyncGenerator<SocketRows> {
    if (this.started) throw new Error('a socket scan can be iterated once: call scanSockets() again');
    this.started = true;
    const { filter, signal } = this.plan;
    const tables = filter.tables;
    if (tables.length === 0) return;
    const estimate = estimateTableLines(this.plan.netDir);
    const expectedLines = tables.reduce((n, t) => n + (estimate.get(t.file) ?? 0), 0);
    const offload = expectedLines >= OFFLOAD_LINES && idleCoreAvailable(this.plan.procRoot);
    // with owners this thread walks /proc/PID/fd first, so the worker takes every table at once
    const chunks = readTables(
      tables.map((t) => `${this.plan.netDir}/${t.file}`),
      { offload, handOverAtOnce: this.plan.wantOwners, signal },
    );
    try {
      if (this.plan.wantOwners) {
        const scan = await scanOwners({ procRoot: this.plan.procRoot, pids: filter.pids, commands: filter.commands, signal });
        this.byInode = scan.byInode;
        this.unreadable = scan.unreadable;
        if (filter.pids !== null || filter.commands !== null) {
          // those processes hold no socket: nothing in the tables can match
          if (scan.byInode.size === 0) return;
          filter.inodes = new Set(scan.byInode.keys());
        }
      }
      const contexts = tables.map((t): InetParseContext => ({ filter, addresses: this.addresses, v6: t.family === 'inet6' }));
      for await (const chunk of chunks) {
        const table = tables[chunk.table]!;
        const rows = new SocketRows(table, Math.ceil((chunk.end - chunk.start) / LINE_BYTES));
        if (table.family === 'unix') parseUnixLines(chunk.buf, chunk.start, chunk.end, filter, rows);
        else parseInetLines(chunk.buf, chunk.start, chunk.end, contexts[chunk.table]!, rows);
        if (rows.length > 0) yield rows;
      }
    } finally {
      await chunks.return(undefined);
    }
  }
}

/**
 * Starts a scan of this machine's sockets (or of another process's network namespace) from
 * /proc. Bad options throw here (TypeError/RangeError naming the option, NoSuchProcessError,
 * an AbortError when the signal is aborted already); the tables are read as the scan is
 * iterated.
 */
export function scanSockets(options: ListSocketsOptions = {}): SocketScan {
  return new SocketScan(planScan(options));
}
