// scanSockets(): the streaming scan behind listSockets() and `netdiag sockets`. Validated
// options in, the matching sockets out batch by batch (as entries, or as columns for a
// printer that formats 100k rows without an object per socket), so a caller can print them
// without holding them all.
import { statSync } from 'node:fs';
import { throwIfAborted } from '../abort.js';
import { checkBoolean, checkNumber, checkObject, checkOneOf, checkSignal, checkString } from '../validate.js';
import { AddressBook } from './address-book.js';
import { compileFilter, isNetlinkOnly, type ProcTable, type SocketFilter } from './filters.js';
import { optionRangeError } from '../errors.js';
import { scanOwners } from './owners.js';
import { parseInetLines, type InetParseContext } from './proc-net-parser.js';
import { readTables, type TableChunk } from './proc-tables-reader.js';
import { loadEphemeralRange, loadServices, portNames, type PortNames } from './services.js';
import { SocketRows, toEntries } from './socket-rows.js';
import { estimateTableLines, idleCoreAvailable } from './sockstat.js';
import { dumpTable, dumpTcpBothFamilies, isSockDiagUnavailable, SockDiagError, SockDiagSocket, type SockDiagReadOptions } from './netlink/sock-diag-reader.js';
import type { ListSocketsOptions, SocketEntry, SocketOwner, SocketProtocol, SocketsBackend } from './types.js';
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

/** Knobs of a scan that are not part of the public options (the CLI's -K, the filter tests). */
export interface ScanInternals {
  /** netlink: keep each inet socket's sockid so the sockets can be destroyed afterwards */
  keepIds?: boolean;
  /** netlink: send the port and address filters to the kernel as bytecode (default true) */
  kernelFilter?: boolean;
  /**
   * netlink: read only what an ss table shows (no tos, shutdown, cgroup: entries have them
   * null); for a printer without -e or --cgroup
   */
  tableOnly?: boolean;
}

interface ScanPlan {
  filter: SocketFilter;
  wantOwners: boolean;
  procRoot: string;
  /** the net/ directory whose tables are read */
  netDir: string;
  /** read on first use: a listing that prints no names (ss -n, no matches) never reads them */
  users: () => ReadonlyMap<number, string>;
  names: () => PortNames;
  signal: AbortSignal | undefined;
  backend: 'auto' | SocketsBackend;
  /** /proc/PID/ns/net for netnsPid */
  nsPath: string | undefined;
  tcpInfo: boolean;
  memory: boolean;
  internals: ScanInternals;
}

/** f's value, computed at the first call. */
function once<T>(f: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: f() }).v;
}

/** Checks the options (TypeError/RangeError naming the option); the name tables load when first used. */
function planScan(options: ListSocketsOptions, internals: ScanInternals): ScanPlan {
  const o = checkObject('options', options) as ListSocketsOptions;
  const signal = checkSignal('signal', o.signal);
  const filter = compileFilter(o);
  const wantOwners = checkBoolean('owners', o.owners, false) || filter.pids !== null || filter.commands !== null;
  const procRoot = o.procRoot === undefined ? '/proc' : checkString('procRoot', o.procRoot, { nonEmpty: true });
  const passwdFile = o.passwdFile === undefined ? '/etc/passwd' : checkString('passwdFile', o.passwdFile, { nonEmpty: true });
  const servicesFile = o.servicesFile === undefined ? '/etc/services' : checkString('servicesFile', o.servicesFile, { nonEmpty: true });
  const netnsPid = o.netnsPid === undefined ? undefined : checkNumber('netnsPid', o.netnsPid, 1, PID_MAX_LIMIT, { integer: true });
  let backend = checkOneOf('backend', o.backend, ['auto', 'netlink', 'proc'] as const, 'auto');
  const tcpInfo = checkBoolean('tcpInfo', o.tcpInfo, false);
  const memory = checkBoolean('memory', o.memory, false);
  // like ss: another procfs (a container's, test fixtures) is read as files
  if (backend === 'auto' && procRoot !== '/proc') backend = 'proc';
  if (backend === 'proc' && filter.tables.some(isNetlinkOnly)) {
    throw optionRangeError('protocols', "'packet' and 'netlink' only with backend 'netlink' or 'auto' (sock_diag lists them, /proc is not read for them)", o.protocols);
  }
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
  return {
    filter,
    wantOwners,
    procRoot,
    netDir,
    users: once(() => loadUsers(passwdFile)),
    names: once(() => portNames(loadServices(servicesFile), loadEphemeralRange(procRoot))),
    signal,
    backend,
    nsPath: netnsPid === undefined ? undefined : `${procRoot}/${netnsPid}/ns/net`,
    tcpInfo,
    memory,
    internals,
  };
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
  private answered: SocketsBackend | null = null;
  /** the netlink socket, kept open after the scan only when sockets are to be destroyed */
  private diag: SockDiagSocket | null = null;
  /** what the reader had to say (a dump that stayed inconsistent) */
  readonly warnings: string[] = [];
  /** netlink: the records the kernel sent (after its filter), over every table */
  recordsReceived = 0;

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

  /**
   * Which backend answered: 'netlink' when every table came from sock_diag, 'proc' when any
   * came from /proc; null before the scan has read anything.
   */
  get backend(): SocketsBackend | null {
    return this.answered;
  }

  /** The open sock_diag socket of a scan with keepIds, once iterating (the caller closes it with closeDiag()). */
  get diagSocket(): SockDiagSocket | null {
    return this.diag;
  }

  closeDiag(): void {
    this.diag?.close();
    this.diag = null;
  }

  /** The service name of a port ('ssh'), null when it has none. */
  serviceName(protocol: SocketProtocol, port: number): string | null {
    return this.plan.names().of(protocol)[port] ?? null;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SocketEntry[]> {
    for await (const rows of this.rows()) yield this.entriesOf(rows);
  }

  /** The contract's objects of rows from rows(). */
  entriesOf(rows: SocketRows): SocketEntry[] {
    return toEntries(rows, { addresses: this.addresses, users: this.plan.users(), services: this.plan.names().of(rows.table.protocol), owners: this.byInode });
  }

  /**
   * The matching sockets chunk by chunk as columns (for the ss-style printer: no object per
   * socket). Owners, when asked for, are in `owners` before the first chunk.
   */
  async *rows(): AsyncGenerator<SocketRows> {
    if (this.started) throw new Error('a socket scan can be iterated once: call scanSockets() again');
    this.started = true;
    const tables = this.plan.filter.tables;
    if (tables.length === 0) {
      this.answered = this.plan.backend === 'proc' ? 'proc' : 'netlink';
      return;
    }
    let diag: SockDiagSocket | null = null;
    if (this.plan.backend !== 'proc') {
      try {
        diag = new SockDiagSocket(this.plan.nsPath);
        if (this.plan.internals.keepIds) this.diag = diag;
      } catch (e) {
        // auto: no sock_diag here (seccomp, an old kernel): /proc, as ss does
        if (this.plan.backend === 'netlink' || !isSockDiagUnavailable(e)) throw this.netnsError(e);
      }
    }
    if (diag === null) {
      if (tables.some(isNetlinkOnly)) {
        // auto, and sock_diag refused: the packet and netlink tables have no fallback
        throw new SockDiagError('EPERM', 1, 'packet and netlink sockets are listed from sock_diag, which this process may not use', 'leave out -0 and --netlink');
      }
      this.answered = 'proc';
      yield* this.procRows(tables);
      return;
    }
    try {
      yield* this.netlinkRows(diag, tables);
    } finally {
      // with keepIds the caller destroys sockets through it, then calls closeDiag()
      if (!this.plan.internals.keepIds) diag.close();
    }
  }

  private netnsError(e: unknown): unknown {
    const code = (e as { code?: string }).code;
    const m = /\/(\d+)\/ns\/net$/.exec(this.plan.nsPath ?? '');
    if (m && code === 'ENOENT') return new NoSuchProcessError(Number(m[1]));
    return e;
  }

  /** Owners first when asked for (and the inode filter of pids/commands); false: nothing can match. */
  private async scanOwnersFirst(): Promise<boolean> {
    const { filter, signal } = this.plan;
    const scan = await scanOwners({ procRoot: this.plan.procRoot, pids: filter.pids, commands: filter.commands, signal });
    this.byInode = scan.byInode;
    this.unreadable = scan.unreadable;
    if (filter.pids !== null || filter.commands !== null) {
      // those processes hold no socket: nothing in the tables can match
      if (scan.byInode.size === 0) return false;
      filter.inodes = new Set(scan.byInode.keys());
    }
    return true;
  }

  private async *netlinkRows(diag: SockDiagSocket, tables: ProcTable[]): AsyncGenerator<SocketRows> {
    const { filter, signal } = this.plan;
    if (this.plan.wantOwners && !(await this.scanOwnersFirst())) {
      this.answered = 'netlink';
      return;
    }
    const options: SockDiagReadOptions = {
      filter,
      addresses: this.addresses,
      nsPath: this.plan.nsPath,
      tcpInfo: this.plan.tcpInfo,
      memory: this.plan.memory,
      keepIds: this.plan.internals.keepIds ?? false,
      bytecode: this.plan.internals.kernelFilter ?? true,
      attributes: !(this.plan.internals.tableOnly ?? false),
      signal,
      warn: (m: string) => this.warnings.push(m),
      counted: (n: number) => {
        this.recordsReceived += n;
      },
    };
    let fromProc = false;
    for (let t = 0; t < tables.length; t++) {
      const table = tables[t]!;
      const next = tables[t + 1];
      if (table.protocol === 'tcp' && table.family === 'inet' && next?.protocol === 'tcp' && next.family === 'inet6') {
        // both TCP tables in one walk of the kernel's hash tables, when the kernel takes it
        const both = await this.tryTcpBothFamilies(diag, table, next, options);
        if (both !== null) {
          for (const rows of both[0]) yield rows;
          await new Promise<void>((resolve) => setImmediate(resolve));
          for (const rows of both[1]) yield rows;
          t++;
          continue;
        }
      }
      let chunks: SocketRows[];
      try {
        chunks = await dumpTable(diag, table, options);
      } catch (e) {
        if (this.plan.backend === 'netlink' || !isSockDiagUnavailable(e) || isNetlinkOnly(table)) throw e;
        // e.g. a kernel without raw_diag or unix_diag: this table from /proc, as ss does
        fromProc = true;
        yield* this.procTableRows([table]);
        continue;
      }
      for (const rows of chunks) yield rows;
      // let the loop breathe between tables
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.answered = fromProc ? 'proc' : 'netlink';
  }

  /** The tcp and tcp6 rows from one TCPDIAG_GETSOCK dump; null when the kernel refuses it (each family is then dumped on its own). */
  private async tryTcpBothFamilies(diag: SockDiagSocket, tcp: ProcTable, tcp6: ProcTable, options: SockDiagReadOptions): Promise<[SocketRows[], SocketRows[]] | null> {
    try {
      return await dumpTcpBothFamilies(diag, tcp, tcp6, options);
    } catch (e) {
      if (e instanceof SockDiagError) return null;
      throw e;
    }
  }

  /** The /proc reader for a few tables (owners already scanned). */
  private async *procTableRows(tables: ProcTable[]): AsyncGenerator<SocketRows> {
    const chunks = readTables(tables.map((t) => `${this.plan.netDir}/${t.file}`), { signal: this.plan.signal });
    try {
      yield* this.parseChunks(chunks, tables);
    } finally {
      await chunks.return(undefined);
    }
  }

  private async *parseChunks(chunks: AsyncGenerator<TableChunk>, tables: ProcTable[]): AsyncGenerator<SocketRows> {
    const filter = this.plan.filter;
    const contexts = tables.map((t): InetParseContext => ({ filter, addresses: this.addresses, v6: t.family === 'inet6' }));
    for await (const chunk of chunks) {
      const table = tables[chunk.table]!;
      const rows = new SocketRows(table, Math.ceil((chunk.end - chunk.start) / LINE_BYTES));
      if (table.family === 'unix') parseUnixLines(chunk.buf, chunk.start, chunk.end, filter, rows);
      else parseInetLines(chunk.buf, chunk.start, chunk.end, contexts[chunk.table]!, rows);
      if (rows.length > 0) yield rows;
    }
  }

  private async *procRows(tables: ProcTable[]): AsyncGenerator<SocketRows> {
    const { signal } = this.plan;
    const estimate = estimateTableLines(this.plan.netDir);
    const expectedLines = tables.reduce((n, t) => n + (estimate.get(t.file) ?? 0), 0);
    const offload = expectedLines >= OFFLOAD_LINES && idleCoreAvailable(this.plan.procRoot);
    // with owners this thread walks /proc/PID/fd first, so the worker takes every table at once
    const chunks = readTables(
      tables.map((t) => `${this.plan.netDir}/${t.file}`),
      { offload, handOverAtOnce: this.plan.wantOwners, signal },
    );
    try {
      if (this.plan.wantOwners && !(await this.scanOwnersFirst())) return;
      yield* this.parseChunks(chunks, tables);
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
export function scanSockets(options: ListSocketsOptions = {}, internals: ScanInternals = {}): SocketScan {
  return new SocketScan(planScan(options, internals));
}
