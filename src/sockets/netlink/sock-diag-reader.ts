// Reads socket tables over NETLINK_SOCK_DIAG: one dump per table (family and protocol), or
// one for TCP of both families (one walk of the kernel's TCP hash instead of two), the
// states in the request, ports and addresses as kernel bytecode, the records parsed straight
// into SocketRows one receive buffer at a time. A dump the kernel marks NLM_F_DUMP_INTR (the
// table changed while it was read) is read again, and the caller is told if that keeps
// happening.
import { native } from '../../native.js';
import { throwIfAborted } from '../../abort.js';
import type { AddressBook } from '../address-book.js';
import type { ProcTable, SocketFilter } from '../filters.js';
import { SocketRows } from '../socket-rows.js';
import { compileInetBytecode } from './inet-diag-bytecode.js';
import {
  AF_INET,
  AF_INET6,
  destroyRequest,
  extBit,
  INET_DIAG_CONG,
  INET_DIAG_INFO,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_TCLASS,
  INET_DIAG_TOS,
  INET_DIAG_VEGASINFO,
  inetDumpRequest,
  INET_DIAG_MSG_LEN,
  IPPROTO_RAW,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  UDIAG_SHOW_MEMINFO,
  UDIAG_SHOW_NAME,
  UDIAG_SHOW_PEER,
  UDIAG_SHOW_RQLEN,
  UDIAG_SHOW_UID,
  unixDumpRequest,
  netlinkDumpRequest,
  packetDumpRequest,
  PACKET_SHOW_INFO,
  PACKET_SHOW_MEMINFO,
  tcpBothFamiliesDumpRequest,
  type InetSocketId,
} from './sock-diag-messages.js';
import { endsDump, newDumpStatus, parseInetRecord, parseNetlinkRecord, parsePacketRecord, parseUnixRecord, walkReplies, type DumpStatus, type InetRecordContext, type RecordSink } from './sock-diag-records.js';

/** A receive buffer: room for some 30 datagrams of a dump (each at most 32 KiB). */
const RECEIVE_BUFFER = 1024 * 1024;
/** Reads of one dump when the kernel keeps saying the table changed under it. */
export const DUMP_ATTEMPTS = 3;
/** Typical bytes per record, to size the rows of a receive buffer. */
const RECORD_BYTES = 96;
const TCP_INFO_RECORD_BYTES = 360;

const PROTOCOL_NUMBERS: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, udplite: IPPROTO_UDPLITE, raw: IPPROTO_RAW };

/** A system error of the netlink socket, with the errno name as `code`. */
export class SockDiagError extends Error {
  constructor(
    readonly code: string,
    readonly errno: number,
    /** what failed, and how to get around it */
    readonly problem: string,
    readonly fix: string = 'use backend auto or proc',
  ) {
    super(`${problem} (${fix})`);
    this.name = 'SockDiagError';
  }
}

/** errno values that mean "sock_diag cannot answer this here", as opposed to a failure. */
const UNAVAILABLE = new Set(['ENOENT', 'EOPNOTSUPP', 'EPROTONOSUPPORT', 'EAFNOSUPPORT', 'EPERM', 'EACCES', 'EINVAL', 'ENOSYS']);
const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 22: 'EINVAL', 38: 'ENOSYS', 74: 'EBADMSG', 93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 16: 'EBUSY' };

/** Does this error say sock_diag is unavailable (module missing, seccomp, no permission)? */
export function isSockDiagUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.has(code);
}

function errnoError(errno: number, what: string): SockDiagError {
  const code = ERRNO_NAMES[errno] ?? `E${errno}`;
  const why = code === 'ENOENT' ? ': this kernel has no sock_diag handler for them (its *_diag module is missing)' : '';
  return new SockDiagError(code, errno, `sock_diag ${what} failed with ${code}${why}`);
}

export interface SockDiagReadOptions {
  filter: SocketFilter;
  addresses: AddressBook;
  /** /proc/PID/ns/net of the namespace to read, or undefined for this one */
  nsPath?: string;
  tcpInfo: boolean;
  memory: boolean;
  /** keep each inet row's sockid (to destroy them afterwards) */
  keepIds: boolean;
  /** send the port and address filters as bytecode (false: user space alone filters) */
  bytecode: boolean;
  /** read tos, shutdown, cgroup (false: what an ss table without -e shows) */
  attributes: boolean;
  signal?: AbortSignal;
  /** told about dumps that stayed inconsistent */
  warn: (message: string) => void;
  /** counts the records the kernel sent (what its filter let through) */
  counted?: (records: number) => void;
}

/** One open NETLINK_SOCK_DIAG socket and its receive buffer. */
export class SockDiagSocket {
  private readonly fd: number;
  /** two receive buffers: the kernel fills one while JS parses the other */
  private readonly buffers = [Buffer.allocUnsafe(RECEIVE_BUFFER), Buffer.allocUnsafe(RECEIVE_BUFFER)];
  private seq = Math.floor(Math.random() * 0x7fffffff);

  /** Throws a SockDiagError (isSockDiagUnavailable tells whether falling back makes sense). */
  constructor(nsPath?: string) {
    try {
      this.fd = native().netlinkOpen(4, nsPath); // NETLINK_SOCK_DIAG
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (typeof code === 'string') throw new SockDiagError(code, (e as { errno?: number }).errno ?? 0, `cannot open a sock_diag socket (${code})`);
      throw e;
    }
  }

  close(): void {
    native().close(this.fd);
  }

  /**
   * Runs one dump: sends `request(seq)` and hands every record to `sink`, buffer by buffer
   * (`begin` with its size before each). Two buffers take turns: the kernel fills the next one
   * (walking its tables on a pool thread) while this one is parsed. Fills in `status`; throws
   * a SockDiagError when the kernel refused the dump.
   */
  async dump(request: (seq: number) => Buffer, sink: RecordSink, begin: (bytes: number) => void, what: string, status: DumpStatus, signal?: AbortSignal): Promise<void> {
    const seq = (this.seq = (this.seq + 1) & 0x7fffffff);
    const b = native();
    b.netlinkSend(this.fd, request(seq));
    let turn = 0;
    let receiving: Promise<number> | null = b.netlinkReceiveAsync(this.fd, this.buffers[turn]!);
    while (receiving !== null) {
      const n: number = await receiving;
      const buf = this.buffers[turn]!;
      if (n === 0) throw errnoError(74, what);
      throwIfAborted(signal);
      turn ^= 1;
      receiving = endsDump(buf, n, seq) ? null : b.netlinkReceiveAsync(this.fd, this.buffers[turn]!);
      try {
        begin(n);
        walkReplies(buf, n, seq, status, sink);
      } catch (e) {
        // the other buffer is the kernel's until its receive is over
        await receiving?.catch(() => {});
        throw e;
      }
    }
    if (status.errno !== 0) throw errnoError(status.errno, what);
  }

  /** SOCK_DESTROY of one socket: 0 when closed, else the errno the kernel answered. */
  destroy(socket: InetSocketId): number {
    const seq = (this.seq = (this.seq + 1) & 0x7fffffff);
    const b = native();
    b.netlinkSend(this.fd, destroyRequest(socket, seq));
    const status = newDumpStatus();
    while (!status.done) {
      const n = b.netlinkReceive(this.fd, this.buffers[0]!);
      if (n === 0) return 74;
      walkReplies(this.buffers[0]!, n, seq, status, () => {});
    }
    return status.errno;
  }
}

/**
 * The idiag_ext bits of an inet dump: what the options print (tcp_info only for TCP). TCLASS
 * always: with it the kernel says which IPv6 listeners are v6only (ss prints their unspecified
 * address as [::], not *); IPv4 records get nothing more.
 */
function inetExtensions(options: SockDiagReadOptions, tcp: boolean): number {
  let extensions = extBit(INET_DIAG_TCLASS) | (options.attributes ? extBit(INET_DIAG_TOS) : 0);
  if (options.tcpInfo && tcp) extensions |= extBit(INET_DIAG_INFO) | extBit(INET_DIAG_CONG) | extBit(INET_DIAG_VEGASINFO);
  if (options.memory) extensions |= extBit(INET_DIAG_SKMEMINFO);
  return extensions;
}

/** The request of one table. */
function requestOf(table: ProcTable, options: SockDiagReadOptions, bytecode: Buffer | null): (seq: number) => Buffer {
  const states = options.filter.stateMask;
  if (table.family === 'packet') return (seq) => packetDumpRequest(PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO, seq);
  if (table.family === 'netlink') return (seq) => netlinkDumpRequest(seq);
  if (table.family === 'unix') {
    const show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID | (options.memory ? UDIAG_SHOW_MEMINFO : 0);
    return (seq) => unixDumpRequest(states, show, seq);
  }
  const extensions = inetExtensions(options, table.protocol === 'tcp');
  const family = table.family === 'inet' ? AF_INET : AF_INET6;
  const protocol = PROTOCOL_NUMBERS[table.protocol]!;
  return (seq) => inetDumpRequest({ family, protocol, states, extensions, bytecode, seq });
}

/**
 * The rows of one table, one SocketRows per receive buffer, made at its first record and
 * sized by the buffer's bytes: room for every inet record it can hold, so the columns rarely
 * grow (growing swaps typed arrays under optimized code); records with tcp_info are some 400
 * bytes; unix records are smaller but rarer.
 */
class TableRows {
  readonly chunks: SocketRows[] = [];
  private rows: SocketRows | null = null;
  private bytes = 0;

  constructor(
    private readonly table: ProcTable,
    private readonly tcpInfo: boolean,
  ) {}

  /** A receive buffer of `bytes` is next. */
  begin(bytes: number): void {
    this.bytes = bytes;
    this.rows = null;
  }

  /** The rows of this buffer's records. */
  current(): SocketRows {
    if (this.rows === null) {
      const inet = this.table.family === 'inet' || this.table.family === 'inet6';
      const size = !inet ? RECORD_BYTES : this.tcpInfo ? TCP_INFO_RECORD_BYTES : INET_DIAG_MSG_LEN;
      this.rows = new SocketRows(this.table, Math.ceil(this.bytes / size));
      this.rows.withNetlink();
      this.chunks.push(this.rows);
    }
    return this.rows;
  }

  /** The chunks that got rows. */
  result(): SocketRows[] {
    return this.chunks.filter((rows) => rows.length > 0);
  }
}

/**
 * Runs a dump (again while the kernel says the tables changed under it, up to DUMP_ATTEMPTS),
 * handing each record to the sink that `start` makes for each attempt. Throws a SockDiagError
 * when the kernel cannot dump it.
 */
async function dumpWithRetries(socket: SockDiagSocket, request: (seq: number) => Buffer, what: string, options: SockDiagReadOptions, start: (status: DumpStatus) => { sink: RecordSink; begin: (bytes: number) => void }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const status = newDumpStatus();
    const { sink, begin } = start(status);
    let records = 0;
    const counting: RecordSink = (buf, from, end) => {
      records++;
      sink(buf, from, end);
    };
    await socket.dump(request, counting, begin, what, status, options.signal);
    options.counted?.(records);
    if (!status.interrupted) return;
    if (attempt === DUMP_ATTEMPTS) {
      options.warn(`the ${what} was interrupted by changes ${DUMP_ATTEMPTS} times in a row (NLM_F_DUMP_INTR): the last one is shown and may miss or repeat sockets`);
      return;
    }
  }
}

/** The parser of a table's records, into `rows`. */
function recordSink(table: ProcTable, options: SockDiagReadOptions, rows: TableRows, status: DumpStatus): RecordSink {
  if (table.family === 'unix') {
    const ctx = { filter: options.filter, rows: null as unknown as SocketRows, status, memory: options.memory };
    return (buf, start, end) => {
      ctx.rows = rows.current();
      parseUnixRecord(buf, start, end, ctx);
    };
  }
  if (table.family === 'packet' || table.family === 'netlink') {
    // interface names are this namespace's: inside another one, the index is shown
    const interfaceName = options.nsPath === undefined ? (index: number) => native().interfaceName(index) : () => null;
    const ctx = { filter: options.filter, rows: null as unknown as SocketRows, status, memory: options.memory, interfaceName };
    const parse = table.family === 'packet' ? parsePacketRecord : parseNetlinkRecord;
    return (buf, start, end) => {
      ctx.rows = rows.current();
      parse(buf, start, end, ctx);
    };
  }
  const ctx = inetContext(options, status);
  return (buf, start, end) => {
    ctx.rows = rows.current();
    parseInetRecord(buf, start, end, ctx);
  };
}

function inetContext(options: SockDiagReadOptions, status: DumpStatus): InetRecordContext {
  const attributes = options.attributes || options.tcpInfo || options.memory;
  return { filter: options.filter, addresses: options.addresses, rows: null as unknown as SocketRows, status, tcpInfo: options.tcpInfo, memory: options.memory, keepIds: options.keepIds, attributes };
}

/**
 * Dumps one table; returns its rows, one SocketRows per receive buffer. Throws a
 * SockDiagError when the kernel cannot dump it.
 */
export async function dumpTable(socket: SockDiagSocket, table: ProcTable, options: SockDiagReadOptions): Promise<SocketRows[]> {
  const bytecode = options.bytecode && table.family !== 'unix' ? compileInetBytecode(options.filter) : null;
  const request = requestOf(table, options, bytecode);
  const what = `dump of ${table.protocol}${table.family === 'inet6' ? '6' : ''} sockets`;
  let rows = new TableRows(table, options.tcpInfo);
  await dumpWithRetries(socket, request, what, options, (status) => {
    rows = new TableRows(table, options.tcpInfo);
    return { sink: recordSink(table, options, rows, status), begin: (bytes) => rows.begin(bytes) };
  });
  return rows.result();
}

/**
 * Dumps the TCP tables of both families in one walk of the kernel's hash tables (a
 * TCPDIAG_GETSOCK request, see tcpBothFamiliesDumpRequest); returns the IPv4 rows and the
 * IPv6 rows, each as dumpTable would. Throws a SockDiagError when the kernel refuses it (then
 * dumpTable of each family still works).
 */
export async function dumpTcpBothFamilies(socket: SockDiagSocket, tcp: ProcTable, tcp6: ProcTable, options: SockDiagReadOptions): Promise<[SocketRows[], SocketRows[]]> {
  const bytecode = options.bytecode ? compileInetBytecode(options.filter) : null;
  const extensions = inetExtensions(options, true);
  const request = (seq: number): Buffer => tcpBothFamiliesDumpRequest({ states: options.filter.stateMask, extensions, bytecode, seq });
  let v4 = new TableRows(tcp, options.tcpInfo);
  let v6 = new TableRows(tcp6, options.tcpInfo);
  await dumpWithRetries(socket, request, 'dump of tcp and tcp6 sockets', options, (status) => {
    v4 = new TableRows(tcp, options.tcpInfo);
    v6 = new TableRows(tcp6, options.tcpInfo);
    const ctx = inetContext(options, status);
    const sink: RecordSink = (buf, start, end) => {
      // the family byte leads the record (a record too short for it is rejected by the parser)
      ctx.rows = (buf[start] === AF_INET6 ? v6 : v4).current();
      parseInetRecord(buf, start, end, ctx);
    };
    return {
      sink,
      begin: (bytes) => {
        v4.begin(bytes);
        v6.begin(bytes);
      },
    };
  });
  return [v4.result(), v6.result()];
}
