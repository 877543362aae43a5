// The scanning pipeline behind listSockets() and the CLI: validated options in, the matching
// sockets out chunk by chunk (as columns for the ss-style printer, as entries for the
// library), so a caller can print 100k sockets without holding them all.
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
import type { ListSocketsOptions, SocketEntry, SocketOwner } from './types.js';
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

export interface ScanPlan {
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
export async function planScan(options: ListSocketsOptions): Promise<ScanPlan> {
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

export interface ScanReport {
  /** the interned addresses the rows refer to */
  addresses: AddressBook;
  /** set once owners were scanned: socket inode -> its processes */
  owners: ReadonlyMap<number, readonly SocketOwner[]> | null;
  /** set once owners were scanned: processes whose descriptors could not be read */
  ownersUnreadable: number[] | null;
}

export function newScanReport(): ScanReport {
  return { addresses: new AddressBook(), owners: null, ownersUnreadable: null };
}

/** Typical bytes per line, to size the row columns of a chunk. */
const LINE_BYTES = 128;

/**
 * Yields the matching sockets chunk by chunk as columns, in ss's order (unix, raw, udp,
 * udplite, tcp). Owners, when asked for, are in report.owners before the first chunk.
 */
export async function* scanRows(plan: ScanPlan, report: ScanReport): AsyncGenerator<SocketRows> {
  const { filter, signal } = plan;
  const tables = filter.tables;
  if (tables.length === 0) return;
  const estimate = estimateTableLines(plan.netDir);
  const expectedLines = tables.reduce((n, t) => n + (estimate.get(t.file) ?? 0), 0);
  const offload = expectedLines >= OFFLOAD_LINES && idleCoreAvailable(plan.procRoot);
  // with owners this thread walks /proc/PID/fd first, so the worker takes every table at once
  const chunks = readTables(
    tables.map((t) => `${plan.netDir}/${t.file}`),
    { offload, handOverAtOnce: plan.wantOwners, signal },
  );
  try {
    if (plan.wantOwners) {
      const scan = await scanOwners({ procRoot: plan.procRoot, pids: filter.pids, commands: filter.commands, signal });
      report.owners = scan.byInode;
      report.ownersUnreadable = scan.unreadable;
      if (filter.pids !== null || filter.commands !== null) {
        // those processes hold no socket: nothing in the tables can match
        if (scan.byInode.size === 0) return;
        filter.inodes = new Set(scan.byInode.keys());
      }
    }
    const contexts = tables.map((t): InetParseContext => ({ filter, addresses: report.addresses, v6: t.family === 'inet6' }));
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

/** scanRows() as the contract's objects. */
export async function* scanSockets(plan: ScanPlan, report: ScanReport): AsyncGenerator<SocketEntry[]> {
  for await (const rows of scanRows(plan, report)) {
    yield toEntries(rows, { addresses: report.addresses, users: plan.users, services: plan.names.of(rows.table.protocol), owners: report.owners });
  }
}
