// Renders sockets the way ss prints them: columns Netid State Recv-Q Send-Q
// "Local Address:" Port "Peer Address:" Port Process and a last column for -o/-e details,
// each as wide as its widest field (render_calc_width in misc/ss.c), spread over the screen
// on a terminal. Rows are rendered in blocks straight into bytes, so 100k sockets stream
// out without one giant string and without a string per field.
import type { AddressBook } from '../../sockets/address-book.js';
import { NETLINK_PROTOCOLS, timerOf, type SocketRows } from '../../sockets/socket-rows.js';
import { TcpInfoView } from '../../sockets/netlink/tcp-info.js';
import { ByteText, decimalLength, writeDecimal } from './byte-text.js';
import { ssStateName, stateName } from '../../sockets/states.js';
import type { SocketMemory, SocketOwner, SocketProtocol, SocketTimer, TcpInfo } from '../../sockets/types.js';

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
  /** -i: TCP internals on a second line (netlink rows) */
  tcpInfo?: boolean;
  /** -m: skmem:(...) (netlink rows) */
  memory?: boolean;
  /** --cgroup: cgroup:PATH (netlink rows; -e prints it too) */
  cgroup?: boolean;
  /** the path of a cgroup id; the id itself when unknown */
  cgroupName?: (id: number) => string;
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

/** ' skmem:(r0,rb131072,t0,tb2626560,f0,w0,o0,bl0,d0)' as ss -m prints it. */
/** ss -e's shutdown state ' <->' ('-' for a direction shut down); `stored` is the column's value + 1, 0: unknown. */
function writeShutdown(w: ByteText, stored: number): void {
  if (stored === 0) return;
  const mask = stored - 1;
  w.latin(mask & 1 ? ' -' : ' <').latin(mask & 2 ? '--' : '->');
}

function writeMemory(w: ByteText, m: SocketMemory): void {
  w.latin(' skmem:(r').number(m.rmemAlloc).latin(',rb').number(m.rcvbuf).latin(',t').number(m.wmemAlloc).latin(',tb').number(m.sndbuf);
  w.latin(',f').number(m.fwdAlloc).latin(',w').number(m.wmemQueued).latin(',o').number(m.optmem).latin(',bl').number(m.backlog).latin(',d').number(m.drops).latin(')');
}

const TCPI_OPT_TIMESTAMPS = 1;
const TCPI_OPT_SACK = 2;
const TCPI_OPT_WSCALE = 4;
const TCPI_OPT_ECN = 8;
const TCPI_OPT_ECN_SEEN = 16;
const TCPI_OPT_SYN_DATA = 32;
/** the RTO of a socket that has not measured an RTT (TCP_TIMEOUT_INIT): ss leaves it out */
const INITIAL_RTO_MS = 3000;

/**
 * tcp_info as tcp_stats_print in misc/ss.c prints it, field by field in its order; the
 * negotiated options only with -o (`options`), as ss asks for them only then.
 */
function writeTcpInfo(w: ByteText, t: TcpInfo, listening: boolean, options: boolean): void {
  if (options) {
    if (t.options & TCPI_OPT_TIMESTAMPS) w.latin(' ts');
    if (t.options & TCPI_OPT_SACK) w.latin(' sack');
    if (t.options & TCPI_OPT_ECN) w.latin(' ecn');
    if (t.options & TCPI_OPT_ECN_SEEN) w.latin(' ecnseen');
    if (t.options & TCPI_OPT_SYN_DATA) w.latin(' fastopen');
  }
  if (t.congestion) w.latin(' ').latin(t.congestion);
  if (t.options & TCPI_OPT_WSCALE) w.latin(' wscale:').number(t.sndWscale).latin(',').number(t.rcvWscale);
  if (t.rto && t.rto !== INITIAL_RTO_MS) w.latin(' rto:').g(t.rto);
  if (t.backoff) w.latin(' backoff:').number(t.backoff);
  if (t.rtt) w.latin(' rtt:').g(t.rtt).latin('/').g(t.rttvar ?? 0);
  if (t.ato) w.latin(' ato:').g(t.ato);
  if (t.sndMss) w.latin(' mss:').number(t.sndMss);
  if (t.pmtu) w.latin(' pmtu:').number(t.pmtu);
  if (t.rcvMss) w.latin(' rcvmss:').number(t.rcvMss);
  if (t.advmss) w.latin(' advmss:').number(t.advmss);
  if (t.cwnd) w.latin(' cwnd:').number(t.cwnd);
  if (t.ssthresh && t.ssthresh < 0xffff) w.latin(' ssthresh:').number(t.ssthresh);
  if (t.bytesSent) w.latin(' bytes_sent:').number(t.bytesSent);
  if (t.bytesRetrans) w.latin(' bytes_retrans:').number(t.bytesRetrans);
  if (t.bytesAcked) w.latin(' bytes_acked:').number(t.bytesAcked);
  if (t.bytesReceived) w.latin(' bytes_received:').number(t.bytesReceived);
  if (t.segsOut) w.latin(' segs_out:').number(t.segsOut);
  if (t.segsIn) w.latin(' segs_in:').number(t.segsIn);
  if (t.dataSegsOut) w.latin(' data_segs_out:').number(t.dataSegsOut);
  if (t.dataSegsIn) w.latin(' data_segs_in:').number(t.dataSegsIn);
  const bbr = t.bbr;
  if (bbr !== null) {
    w.latin(' bbr:(bw:').latin(formatBps(bbr.bandwidth * 8)).latin('bps,mrtt:').g(bbr.minRtt);
    if (bbr.pacingGain) w.latin(',pacing_gain:').g(bbr.pacingGain);
    if (bbr.cwndGain) w.latin(',cwnd_gain:').g(bbr.cwndGain);
    w.latin(')');
  }
  if (t.rtt && t.rtt > 0 && t.sndMss && t.cwnd) w.latin(' send ').latin(formatBps((t.cwnd * t.sndMss * 8 * 1000) / t.rtt)).latin('bps');
  if (t.lastDataSent) w.latin(' lastsnd:').number(t.lastDataSent);
  if (t.lastDataRecv) w.latin(' lastrcv:').number(t.lastDataRecv);
  if (t.lastAckRecv) w.latin(' lastack:').number(t.lastAckRecv);
  if (t.pacingRate) {
    w.latin(' pacing_rate ').latin(formatBps(t.pacingRate * 8)).latin('bps');
    if (t.maxPacingRate) w.latin('/').latin(formatBps(t.maxPacingRate * 8)).latin('bps');
  }
  if (t.deliveryRate) w.latin(' delivery_rate ').latin(formatBps(t.deliveryRate * 8)).latin('bps');
  if (t.delivered) w.latin(' delivered:').number(t.delivered);
  if (t.deliveredCe) w.latin(' delivered_ce:').number(t.deliveredCe);
  if (t.deliveryRateAppLimited) w.latin(' app_limited');
  if (t.busyTime) {
    // the kernel counts these in µs; ss prints whole ms and the share of busy time
    w.latin(' busy:').number(Math.floor(t.busyTime)).latin('ms');
    if (t.rwndLimited) w.latin(' rwnd_limited:').number(Math.floor(t.rwndLimited)).latin(`ms(${((t.rwndLimited / t.busyTime) * 100).toFixed(1)}%)`);
    if (t.sndbufLimited) w.latin(' sndbuf_limited:').number(Math.floor(t.sndbufLimited)).latin(`ms(${((t.sndbufLimited / t.busyTime) * 100).toFixed(1)}%)`);
  }
  if (t.unacked) w.latin(' unacked:').number(t.unacked);
  if (t.retrans || t.totalRetrans) w.latin(' retrans:').number(t.retrans).latin('/').number(t.totalRetrans);
  if (t.lost) w.latin(' lost:').number(t.lost);
  if (t.sacked && !listening) w.latin(' sacked:').number(t.sacked);
  if (t.dsackDups) w.latin(' dsack_dups:').number(t.dsackDups);
  if (t.reordering !== 3) w.latin(' reordering:').number(t.reordering);
  if (t.reordSeen) w.latin(' reord_seen:').number(t.reordSeen);
  if (t.rcvRtt) w.latin(' rcv_rtt:').g(t.rcvRtt);
  if (t.rcvSpace) w.latin(' rcv_space:').number(t.rcvSpace);
  if (t.rcvSsthresh) w.latin(' rcv_ssthresh:').number(t.rcvSsthresh);
  if (t.notsentBytes) w.latin(' notsent:').number(t.notsentBytes);
  if (t.minRtt) w.latin(' minrtt:').g(t.minRtt);
  if (t.rcvOoopack) w.latin(' rcv_ooopack:').number(t.rcvOoopack);
  if (t.sndWnd) w.latin(' snd_wnd:').number(t.sndWnd);
}

/** printf's %.0f of a rate (ss prints bits per second whole, without -h). */
function formatBps(bps: number): string {
  let r = Math.round(bps);
  // printf rounds an exact half to even
  if (r - bps === 0.5 && r % 2 !== 0) r--;
  return String(r);
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
  // display bytes shared between rows
  private readonly addressBytes: (Buffer | undefined)[] = [];
  private readonly portBytes: (Buffer | undefined)[][] = [[], [], [], []];
  private readonly queueBytes: (Buffer | undefined)[] = [];
  private readonly ownerBytes = new Map<number, Buffer>();
  private readonly tcpInfoView = new TcpInfoView();
  /** the last column's text of this block's rows (-o, -e, -m, -i), and where each row's starts */
  private readonly details = new ByteText();
  private detailAt = new Float64Array(0);

  constructor(
    private readonly options: SsTableOptions,
    private readonly sources: RowSources,
    /** each block's lines, UTF-8, handed over (never written into again) */
    private readonly write: (bytes: Buffer) => void,
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
      this.detailAt = new Float64Array(n);
    }
    this.details.length = 0;
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
    if (table.family === 'packet' || table.family === 'netlink') {
      this.otherFields(rows, i, f, o);
    } else if (table.family === 'unix') {
      f[o + Col.Netid] = UNIX_NETIDS[rows.unixType[i]!]!;
      // sock_addr_print(name ?: "*", " ", inode): the inode is the unix "port"
      f[o + Col.LocalAddr] = Buffer.from(`${rows.path[i] ?? '*'} `);
      f[o + Col.LocalPort] = null;
      nums[o + Col.LocalPort] = ino;
      f[o + Col.PeerAddr] = UNIX_NO_PEER;
      if (rows.netlink !== null) {
        // sock_diag names the peer's inode (0: none), as ss prints it
        f[o + Col.PeerPort] = null;
        nums[o + Col.PeerPort] = rows.netlink.peerInode[i]!;
      } else {
        // /proc/net/unix does not name the peer
        f[o + Col.PeerPort] = STAR;
      }
    } else {
      const protocol = PROTOCOL_INDEX[table.protocol]!;
      f[o + Col.Netid] = INET_NETIDS[table.protocol]!;
      const v6only = rows.netlink !== null && rows.netlink.v6only[i] === 2;
      f[o + Col.LocalAddr] = this.address(rows.localAddress[i]!, v6only);
      const localPort = rows.localPort[i]!;
      f[o + Col.LocalPort] = this.portName(table.protocol, protocol, localPort);
      nums[o + Col.LocalPort] = localPort;
      f[o + Col.PeerAddr] = this.address(rows.remoteAddress[i]!, v6only);
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
    const opts = this.options;
    if (opts.timers || opts.extended || opts.cgroup || opts.memory || opts.tcpInfo) {
      // written into this block's detail bytes; render() copies them into the line
      const w = this.details;
      const start = w.length;
      const nl = rows.netlink;
      if (opts.timers) {
        const timer = timerOf(rows, i);
        if (timer) w.latin(formatTimer(timer));
      }
      if (table.family === 'unix') this.unixDetails(w, rows, i);
      else this.inetDetails(w, rows, i, ino);
      if (w.length === start) {
        f[o + Col.Ext] = EMPTY;
      } else {
        f[o + Col.Ext] = null;
        nums[o + Col.Ext] = w.length - start;
        this.detailAt[o / Col.Count] = start;
      }
    } else {
      f[o + Col.Ext] = EMPTY;
    }
  }

  /** -e, --cgroup, -m and -i of an inet row, as inet_show_sock in misc/ss.c orders them. */
  private inetDetails(w: ByteText, rows: SocketRows, i: number, ino: number): void {
    const opts = this.options;
    const nl = rows.netlink;
    if (opts.extended) {
      const uid = rows.uid[i]!;
      if (uid > 0) w.latin(' uid:').number(uid);
      w.latin(' ino:').number(ino);
      // ss -e: the socket cookie as sk:HEX
      if (nl !== null && nl.cookie[i]! !== 0) w.latin(` sk:${nl.cookie[i]!.toString(16)}`);
    }
    if ((opts.extended || opts.cgroup) && nl !== null && nl.cgroup[i]! !== 0) {
      const id = nl.cgroup[i]!;
      w.latin(' cgroup:').text(opts.cgroupName?.(id) ?? String(id));
    }
    if (opts.extended && nl !== null) {
      if (nl.v6only[i]! !== 0) w.latin(' v6only:').number(nl.v6only[i]! - 1);
      writeShutdown(w, nl.shutdown[i]!);
    }
    if (nl !== null && (opts.memory || opts.tcpInfo)) {
      // ss puts these on a second line, after a tab
      const lineBreak = w.length;
      w.latin('\n\t');
      const more = w.length;
      const memory = nl.memory[i];
      if (opts.memory && memory) writeMemory(w, memory);
      const info = opts.tcpInfo ? nl.tcpInfoThrough(this.tcpInfoView, i) : null;
      if (info) writeTcpInfo(w, info, rows.state[i]! === 10, opts.timers);
      if (w.length === more) w.length = lineBreak;
    }
  }

  /** -m and -e of a unix row, on its line, as unix_show_sock in misc/ss.c prints them. */
  private unixDetails(w: ByteText, rows: SocketRows, i: number): void {
    const nl = rows.netlink;
    if (nl === null) return;
    const memory = nl.memory[i];
    if (this.options.memory && memory) writeMemory(w, memory);
    if (this.options.extended) writeShutdown(w, nl.shutdown[i]!);
  }

  /**
   * packet: 'p_raw' PROTOCOL:IFACE '*' (ETH_P_ALL and every interface print as '*');
   * netlink: 'nl' PROTOCOL:PORTID and, when connected, GROUP:PORTID (packet_stats_print and
   * netlink_show_one in misc/ss.c)
   */
  private otherFields(rows: SocketRows, i: number, f: (Buffer | null)[], o: number): void {
    const nums = this.numbers;
    const numeric = this.options.numeric;
    if (rows.table.family === 'packet') {
      f[o + Col.Netid] = rows.unixType[i]! === 0 ? P_DGR : P_RAW;
      const protocol = rows.localPort[i]!;
      f[o + Col.LocalAddr] = Buffer.from(`${protocol === 3 ? '*' : numeric ? String(protocol) : (ETHERTYPES[protocol] ?? `0x${protocol.toString(16).padStart(4, '0')}`)}:`);
      f[o + Col.LocalPort] = Buffer.from(rows.path[i] ?? '*');
      f[o + Col.PeerAddr] = EMPTY;
      f[o + Col.PeerPort] = STAR;
      return;
    }
    f[o + Col.Netid] = NL;
    const protocol = rows.localAddress[i]!;
    f[o + Col.LocalAddr] = Buffer.from(`${numeric ? String(protocol) : (NETLINK_PROTOCOLS[protocol] ?? String(protocol))}:`);
    const port = rows.localPort[i]!;
    if (port === 0 && !numeric) f[o + Col.LocalPort] = KERNEL;
    else {
      f[o + Col.LocalPort] = null;
      nums[o + Col.LocalPort] = port;
    }
    if (rows.state[i]! === 1) {
      f[o + Col.PeerAddr] = Buffer.from(`${rows.probes[i]!}:`);
      f[o + Col.PeerPort] = null;
      nums[o + Col.PeerPort] = rows.remotePort[i]!;
    } else {
      f[o + Col.PeerAddr] = EMPTY;
      f[o + Col.PeerPort] = STAR;
    }
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

  /** An address and its ':'; `v6only`: the socket takes no IPv4 (ss prints its wildcard as [::]). */
  private address(id: number, v6only: boolean): Buffer {
    let b = this.addressBytes[id];
    if (b === undefined) {
      const a = this.sources.addresses.addresses[id]!;
      // brackets around IPv6; ss prints the IPv6 wildcard as '*', as it takes IPv4 too
      b = Buffer.from(`${a.v6 ? (a.text === '::' ? '*' : `[${a.text}]`) : a.text}:`);
      this.addressBytes[id] = b;
    }
    // '*:' is the IPv6 wildcard's and nothing else's
    return v6only && b.length === 2 && b[0] === 42 ? V6_ONLY_WILDCARD : b;
  }

  /** '*' for port 0, the service name unless -n, else null: the number is printed */
  private portName(protocol: SocketProtocol, index: number, port: number): Buffer | null {
    if (port === 0) return STAR;
    if (this.options.numeric) return null;
    const table = this.portBytes[index]!;
    let b = table[port];
    if (b === undefined) {
      const name = this.options.serviceName?.(protocol, port) ?? null;
      b = name === null ? NUMERIC : Buffer.from(name);
      table[port] = b;
    }
    return b === NUMERIC ? null : b;
  }

  /** '("cmd",pid=N,fd=' of a process, once per process */
  private ownerPrefix(o: SocketOwner): Buffer {
    let prefix = this.ownerBytes.get(o.pid);
    if (prefix === undefined) {
      prefix = Buffer.from(`("${o.command}",pid=${o.pid},fd=`);
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
    const size = measureFields(fields, numbers, n, maxLen);
    const width = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
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

    let lineWidth = 1;
    for (let c = 0; c < Col.Count; c++) lineWidth += width[c]! + 1;
    // a buffer of its own per block: stdout may still hold the last one (no string, no encoding)
    const out = Buffer.allocUnsafeSlow(size + n * lineWidth);
    const end = this.writeRows(out, fields, numbers, n, width, lastVisible, screen === null);
    this.write(out.subarray(0, end));
  }

  /** The lines of a block into out; returns their end. (The hot loop, on its own so that it optimizes on its own.) */
  private writeRows(out: Buffer, fields: (Buffer | null)[], numbers: Float64Array, n: number, width: number[], lastVisible: number, compact: boolean): number {
    const enabled = this.enabled;
    const details = this.details.buf;
    const detailAt = this.detailAt;
    let p = 0;
    for (let r = 0; r < n; r++) {
      const o = r * Col.Count;
      const rowStart = p;
      let started = false;
      for (let c = 0; c < Col.Count; c++) {
        if (!enabled[c]) continue;
        const field = fields[o + c];
        const len = field ? field.length : c === Col.Process || c === Col.Ext ? numbers[o + c]! : decimalLength(numbers[o + c]!);
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
          if (c === Col.Process) p = this.writeUsers(out, p, this.owners[r]!);
          else if (c === Col.Ext) p += details.copy(out, p, detailAt[r]!, detailAt[r]! + len);
          else p = writeDecimal(out, p, numbers[o + c]!, len);
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
    return p;
  }
}

/** Widest field of each column into maxLen; returns the bytes of every field. */
function measureFields(fields: (Buffer | null)[], numbers: Float64Array, n: number, maxLen: number[]): number {
  let size = 0;
  for (let r = 0; r < n; r++) {
    const o = r * Col.Count;
    for (let c = 0; c < Col.Count; c++) {
      const field = fields[o + c];
      const len = field ? field.length : c === Col.Process || c === Col.Ext ? numbers[o + c]! : decimalLength(numbers[o + c]!);
      size += len;
      if (len > maxLen[c]!) maxLen[c] = len;
    }
  }
  return size;
}

const EMPTY = Buffer.alloc(0);
const STAR = Buffer.from('*');
const V6_ONLY_WILDCARD = Buffer.from('[::]:');
/** marks a port without a service name in the name cache */
const NUMERIC = Buffer.alloc(0);
const UNIX_NO_PEER = Buffer.from('* ');
const P_RAW = Buffer.from('p_raw');
const P_DGR = Buffer.from('p_dgr');
const NL = Buffer.from('nl');
const KERNEL = Buffer.from('kernel');
/** ll_proto_n2a's names of the usual ethertypes */
const ETHERTYPES: Record<number, string> = { 0x0800: 'ip', 0x0806: 'arp', 0x86dd: 'ipv6', 0x8100: '802.1Q', 0x88cc: 'lldp', 0x888e: '802.1X', 0x8035: 'rarp', 0x8847: 'mpls_uc', 0x8848: 'mpls_mc', 0x88a8: '802.1ad' };
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
      // a column that does not fit goes to the next line, unless it is alone (wider than
      // the screen): moving it again would never end
      if (len > screen && lineCols > 1) {
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
