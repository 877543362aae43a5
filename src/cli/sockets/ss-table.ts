// Renders sockets the way ss prints them: columns Netid State Recv-Q Send-Q
// "Local Address:" Port "Peer Address:" Port Process and a last column for -o/-e details,
// each as wide as its widest field (render_calc_width in misc/ss.c), spread over the screen
// on a terminal. Rows are rendered in blocks straight into bytes, so 100k sockets stream
// out without one giant string and without a string per field.
import type { AddressBook } from '../../sockets/address-book.js';
import { timerOf, type SocketRows } from '../../sockets/socket-rows.js';
import { ssStateName, stateName } from '../../sockets/states.js';
import type { SocketOwner, SocketProtocol, SocketTimer } from '../../sockets/types.js';

export interface SsTableOptions {
  /** -n: port numbers instead of service names */
  numeric: boolean;
  /** -p: users:(("cmd",pid=N,fd=N)) */
  processes: boolean;
  /** -e: uid and inode */
  extended: boolean;
  /** -o: timer:(kind,time,retransmits) */
  timers: boolean;
  /** false for -H */
  header: boolean;
  /** ss hides Netid when one kind of socket is listed and State when one state is */
  showNetid: boolean;
  showState: boolean;
  /** terminal width: spread columns over it; null (not a terminal) prints them compact */
  screenWidth: number | null;
  /** the service name of a port, for non-numeric output */
  serviceName?: (protocol: SocketProtocol, port: number) => string | null;
}

const enum Col {
  Netid,
  State,
  RecvQ,
  SendQ,
  LocalAddr,
  LocalPort,
  PeerAddr,
  PeerPort,
  Process,
  Ext,
  Count,
}

const HEADERS = ['Netid', 'State', 'Recv-Q', 'Send-Q', 'Local Address:', 'Port', 'Peer Address:', 'Port', 'Process', ''];
// Local and Peer Address are right-aligned; the delimiter before a column is one space,
// none before the ports, Process and the last column
const LEFT_DELIMITER = ['', ' ', ' ', ' ', ' ', '', ' ', '', '', ''];
/** rows per rendered block (ss renders every few MB of buffered fields) */
export const BLOCK_ROWS = 4096;

/** ss's print_ms_timer: 7.5sec, 119min, 200ms ... */
export function formatMsTimer(ms: number): string {
  const t = Math.abs(Math.round(ms));
  const minutes = Math.floor(t / 60_000);
  let secs = Math.floor(t / 1000) % 60;
  let msecs = t % 1000;
  let out = ms < 0 ? '-' : '';
  if (minutes) {
    msecs = 0;
    out += `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    out += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) out += `${String(msecs).padStart(3, '0')}${secs ? 'sec' : 'ms'}`;
  return out;
}

/** ' timer:(keepalive,119min,0)' as ss -o prints it (retransmits only for the "on" timer). */
export function formatTimer(timer: SocketTimer): string {
  const count = timer.kind === 'on' ? timer.retransmits : timer.probes;
  return ` timer:(${timer.kind},${formatMsTimer(timer.expires)},${count})`;
}

/** What the rows refer to: the scan's addresses and, with -p, the owners (a SocketScan). */
export interface RowSources {
  addresses: AddressBook;
  owners: ReadonlyMap<number, readonly SocketOwner[]> | null;
}

const STATE_BYTES: Buffer[] = Array.from({ length: 13 }, (_, code) => Buffer.from(code === 0 ? 'UNKNOWN' : ssStateName(stateName(code, false)!)));
const UNIX_NETIDS = ['u_str', 'u_dgr', 'u_seq'].map((s) => Buffer.from(s));
const INET_NETIDS: Record<string, Buffer> = { tcp: Buffer.from('tcp'), udp: Buffer.from('udp'), udplite: Buffer.from('udplite'), raw: Buffer.from('raw') };
const PROTOCOL_INDEX: Record<string, number> = { tcp: 0, udp: 1, udplite: 2, raw: 3 };

/** Streams ss-style rows to `write` in blocks. */
export class SsTableWriter {
  private pending: SocketRows[] = [];
  private pendingRows = 0;
  private headerPending: boolean;
  private readonly enabled: boolean[];
  // a field is bytes, or null for a decimal number kept in `numbers` (ports, inodes)
  private fields: (Buffer | null)[] = [];
  private numbers = new Float64Array(0);
  /** -p: the owners of each row, written straight into the output by render() */
  private owners: (readonly SocketOwner[] | null)[] = [];
  private readonly maxLen = new Array<number>(10).fill(0);
  private out = Buffer.alloc(0);
  /** false once a field holds a non-ASCII byte */
  private ascii = true;
  // display bytes shared between rows
  private readonly addressBytes: (Buffer | undefined)[] = [];
  private readonly portBytes: (Buffer | undefined)[][] = [[], [], [], []];
  private readonly queueBytes: (Buffer | undefined)[] = [];
  private readonly ownerBytes = new Map<number, Buffer>();

  constructor(
    private readonly options: SsTableOptions,
    private readonly sources: RowSources,
    private readonly write: (text: string) => void,
  ) {
    this.headerPending = options.header;
    this.enabled = HEADERS.map((_, c) => {
      if (c === Col.Netid) return options.showNetid;
      if (c === Col.State) return options.showState;
      if (c === Col.Process) return options.processes;
      return true;
    });
  }

  add(rows: SocketRows): void {
    this.pending.push(rows);
    this.pendingRows += rows.length;
    if (this.pendingRows >= BLOCK_ROWS) this.flush();
  }

  /** Renders what is buffered (and the header if nothing was printed yet). */
  end(): void {
    this.flush();
  }

  private flush(): void {
    if (this.pendingRows === 0 && !this.headerPending) return;
    const n = this.pendingRows + (this.headerPending ? 1 : 0);
    if (this.fields.length < n * Col.Count) {
      this.fields = new Array<Buffer | null>(n * Col.Count);
      this.numbers = new Float64Array(n * Col.Count);
      this.owners = new Array<readonly SocketOwner[] | null>(n).fill(null);
    }
    const fields = this.fields;
    let o = 0;
    if (this.headerPending) {
      for (let c = 0; c < Col.Count; c++) fields[c] = Buffer.from(HEADERS[c]!);
      this.owners[0] = null;
      o = Col.Count;
      this.headerPending = false;
    }
    for (const rows of this.pending) {
      for (let i = 0; i < rows.length; i++) {
        this.fieldsOf(rows, i, fields, o);
        o += Col.Count;
      }
    }
    this.pending = [];
    this.pendingRows = 0;
    this.render(fields, this.numbers, n);
  }

  private fieldsOf(rows: SocketRows, i: number, f: (Buffer | null)[], o: number): void {
    const nums = this.numbers;
    const table = rows.table;
    const ino = rows.inode[i]!;
    f[o + Col.State] = STATE_BYTES[rows.state[i]!]!;
    f[o + Col.RecvQ] = this.queue(rows.recvQueue[i]!);
    f[o + Col.SendQ] = this.queue(rows.sendQueue[i]!);
    if (table.family === 'unix') {
      f[o + Col.Netid] = UNIX_NETIDS[rows.unixType[i]!]!;
      // sock_addr_print(name ?: "*", " ", inode): the inode is the unix "port"
      f[o + Col.LocalAddr] = this.bytes(`${rows.path[i] ?? '*'} `);
      f[o + Col.LocalPort] = null;
      nums[o + Col.LocalPort] = ino;
      // /proc/net/unix does not name the peer
      f[o + Col.PeerAddr] = UNIX_NO_PEER;
      f[o + Col.PeerPort] = STAR;
    } else {
      const protocol = PROTOCOL_INDEX[table.protocol]!;
      f[o + Col.Netid] = INET_NETIDS[table.protocol]!;
      f[o + Col.LocalAddr] = this.address(rows.localAddress[i]!);
      const localPort = rows.localPort[i]!;
      f[o + Col.LocalPort] = this.portName(table.protocol, protocol, localPort);
      nums[o + Col.LocalPort] = localPort;
      f[o + Col.PeerAddr] = this.address(rows.remoteAddress[i]!);
      const remotePort = rows.remotePort[i]!;
      f[o + Col.PeerPort] = this.portName(table.protocol, protocol, remotePort);
      nums[o + Col.PeerPort] = remotePort;
    }
    const owners = this.options.processes && ino !== 0 ? this.sources.owners?.get(ino) : undefined;
    if (owners !== undefined && owners.length > 0) {
      // ' users:(("cmd",pid=N,fd=N),...)': render() writes it from the owners
      f[o + Col.Process] = null;
      nums[o + Col.Process] = this.usersLength(owners);
      this.owners[o / Col.Count] = owners;
    } else {
      f[o + Col.Process] = EMPTY;
    }
    if (this.options.timers || this.options.extended) {
      let ext = '';
      if (this.options.timers) {
        const timer = timerOf(rows, i);
        if (timer) ext += formatTimer(timer);
      }
      if (this.options.extended && ino !== 0) {
        const uid = rows.uid[i]!;
        ext += `${uid > 0 ? ` uid:${uid}` : ''} ino:${ino}`;
      }
      f[o + Col.Ext] = ext === '' ? EMPTY : Buffer.from(ext);
    } else {
      f[o + Col.Ext] = EMPTY;
    }
  }

  /** UTF-8 bytes of a string that may not be ASCII */
  private bytes(s: string): Buffer {
    if (this.ascii && /[^\x00-\x7f]/.test(s)) this.ascii = false;
    return Buffer.from(s);
  }

  /** ss prints %-6d: at least six characters; unknown (unix from /proc) as 0 like ss */
  private queue(v: number): Buffer {
    if (v < 0) v = 0;
    if (v < 4096) {
      let b = this.queueBytes[v];
      if (b === undefined) {
        b = Buffer.from(String(v).padEnd(6));
        this.queueBytes[v] = b;
      }
      return b;
    }
    return Buffer.from(String(v).padEnd(6));
  }

  private address(id: number): Buffer {
    let b = this.addressBytes[id];
    if (b === undefined) {
      const a = this.sources.addresses.addresses[id]!;
      // brackets around IPv6; ss prints the IPv6 wildcard as '*'
      b = Buffer.from(`${a.v6 ? (a.text === '::' ? '*' : `[${a.text}]`) : a.text}:`);
      this.addressBytes[id] = b;
    }
    return b;
  }

  /** '*' for port 0, the service name unless -n, else null: the number is printed */
  private portName(protocol: SocketProtocol, index: number, port: number): Buffer | null {
    if (port === 0) return STAR;
    if (this.options.numeric) return null;
    const table = this.portBytes[index]!;
    let b = table[port];
    if (b === undefined) {
      const name = this.options.serviceName?.(protocol, port) ?? null;
      b = name === null ? NUMERIC : this.bytes(name);
      table[port] = b;
    }
    return b === NUMERIC ? null : b;
  }

  /** '("cmd",pid=N,fd=' of a process, once per process */
  private ownerPrefix(o: SocketOwner): Buffer {
    let prefix = this.ownerBytes.get(o.pid);
    if (prefix === undefined) {
      prefix = this.bytes(`("${o.command}",pid=${o.pid},fd=`);
      this.ownerBytes.set(o.pid, prefix);
    }
    return prefix;
  }

  private usersLength(owners: readonly SocketOwner[]): number {
    let len = USERS_OPEN.length + 1 + (owners.length - 1);
    for (const o of owners) len += this.ownerPrefix(o).length + decimalLength(o.fd) + 1;
    return len;
  }

  private writeUsers(out: Buffer, p: number, owners: readonly SocketOwner[]): number {
    p += USERS_OPEN.copy(out, p);
    for (let i = 0; i < owners.length; i++) {
      const o = owners[i]!;
      if (i > 0) out[p++] = 44; // ,
      p += this.ownerPrefix(o).copy(out, p);
      const len = decimalLength(o.fd);
      p = writeDecimal(out, p, o.fd, len);
      out[p++] = 41; // )
    }
    out[p++] = 41;
    return p;
  }

  /** render_calc_width() and render() of misc/ss.c over one block. */
  private render(fields: (Buffer | null)[], numbers: Float64Array, n: number): void {
    const enabled = this.enabled;
    // widths never shrink from one block to the next, so blocks stay aligned with the header
    const maxLen = this.maxLen;
    let size = 0;
    for (let r = 0; r < n; r++) {
      const o = r * Col.Count;
      for (let c = 0; c < Col.Count; c++) {
        const field = fields[o + c];
        const len = field ? field.length : c === Col.Process ? numbers[o + c]! : decimalLength(numbers[o + c]!);
        size += len;
        if (len > maxLen[c]!) maxLen[c] = len;
      }
    }
    const width = new Array<number>(Col.Count).fill(0);
    let first = true;
    for (let c = 0; c < Col.Count; c++) {
      if (!enabled[c]) continue;
      width[c] = !first && maxLen[c]! > 0 ? maxLen[c]! + LEFT_DELIMITER[c]!.length : maxLen[c]!;
      if (width[c]! > 0) first = false;
    }
    const screen = this.options.screenWidth;
    if (screen !== null) spreadOverScreen(width, screen);
    // no padding after the last column that has anything in it
    let lastVisible = -1;
    for (let c = 0; c < Col.Count; c++) if (enabled[c] && width[c]! > 0) lastVisible = c;
    const compact = screen === null;

    let lineWidth = 1;
    for (let c = 0; c < Col.Count; c++) lineWidth += width[c]! + 1;
    // one output buffer for every block: its text is copied out by toString
    if (this.out.length < size + n * lineWidth) this.out = Buffer.allocUnsafe(size + n * lineWidth);
    const out = this.out;
    let p = 0;
    for (let r = 0; r < n; r++) {
      const o = r * Col.Count;
      const rowStart = p;
      let started = false;
      for (let c = 0; c < Col.Count; c++) {
        if (!enabled[c]) continue;
        const field = fields[o + c];
        const len = field ? field.length : c === Col.Process ? numbers[o + c]! : decimalLength(numbers[o + c]!);
        let printed = 0;
        if (started && c !== Col.LocalPort && c !== Col.PeerPort && c !== Col.Process && c !== Col.Ext) {
          out[p++] = 32;
          printed = 1;
        }
        started = true;
        if (c === Col.LocalAddr || c === Col.PeerAddr) {
          for (let s = width[c]! - len - printed; s > 0; s--) out[p++] = 32;
        }
        if (field === null) {
          p = c === Col.Process ? this.writeUsers(out, p, this.owners[r]!) : writeDecimal(out, p, numbers[o + c]!, len);
        } else if (len < 64) {
          // fields are short: a plain loop beats a native copy call
          for (let i = 0; i < len; i++) out[p++] = field[i]!;
        } else {
          p += field.copy(out, p);
        }
        printed += len;
        if (c !== Col.LocalAddr && c !== Col.PeerAddr && !(compact && c === lastVisible)) {
          for (let s = width[c]! - printed; s > 0; s--) out[p++] = 32;
        }
      }
      // padding of columns left empty on this row would only trail
      while (p > rowStart && out[p - 1] === 32) p--;
      out[p++] = 10;
    }
    // one-byte strings are copied, not decoded; names and paths may bring UTF-8
    this.write(out.toString(this.ascii ? 'latin1' : 'utf8', 0, p));
  }
}

function decimalLength(v: number): number {
  if (v < 10) return 1;
  if (v < 100) return 2;
  if (v < 1000) return 3;
  if (v < 10000) return 4;
  if (v < 100000) return 5;
  let len = 6;
  for (let x = Math.floor(v / 1000000); x >= 1; x = Math.floor(x / 10)) len++;
  return len;
}

/** Writes the non-negative integer v, `len` digits long, at p; returns the end. */
function writeDecimal(out: Buffer, p: number, v: number, len: number): number {
  const end = p + len;
  if (v <= 0x7fffffff) {
    // small integers: int32 arithmetic instead of float division
    let x = v | 0;
    for (let q = end - 1; q >= p; q--) {
      const d = (x / 10) | 0;
      out[q] = 48 + x - d * 10;
      x = d;
    }
    return end;
  }
  for (let q = end - 1; q >= p; q--) {
    out[q] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return end;
}

const EMPTY = Buffer.alloc(0);
const STAR = Buffer.from('*');
/** marks a port without a service name in the name cache */
const NUMERIC = Buffer.alloc(0);
const UNIX_NO_PEER = Buffer.from('* ');
const USERS_OPEN = Buffer.from(' users:(');

/** The second pass of ss's render_calc_width: line breaks and spare space per line. */
function spreadOverScreen(width: number[], screen: number): void {
  let len = 0;
  let lineCols = 0;
  let eol = -1;
  for (let c = 0; c < width.length; c++) {
    if (!width[c]) continue;
    lineCols++;
    len += width[c]!;
    let last = true;
    for (let t = c + 1; t < width.length; t++) {
      if (width[t]) {
        last = false;
        break;
      }
    }
    if (!last && len < screen) continue;
    if (len !== screen) {
      if (len > screen) {
        len -= width[c]!;
        c--;
        lineCols--;
      }
      const pad = screen - len;
      const spacing = lineCols > 0 ? Math.floor(pad / lineCols) : 0;
      let rem = lineCols > 0 ? pad % lineCols : 0;
      for (let t = c; t > eol; t--) {
        if (!width[t]) continue;
        width[t]! += spacing;
        if (rem) {
          width[t]!++;
          rem--;
        }
      }
    }
    eol = c;
    len = 0;
    lineCols = 0;
  }
}
