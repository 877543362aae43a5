// Parsed sockets of one chunk of one /proc/net table, column by column in typed arrays:
// parsing 100k lines then allocates nothing per line, the ss-style printer reads numbers
// straight from here, and toEntries() builds the contract's objects only when asked.
import type { AddressBook } from './address-book.js';
import type { ProcTable } from './filters.js';
import type { PortNameTable } from './services.js';
import { stateName } from './states.js';
import type { SocketEntry, SocketOwner, SocketTimer, SocketTimerKind, SocketType } from './types.js';

/** sysconf(_SC_CLK_TCK): the unit of tm->when in /proc/net/tcp on every Linux Node runs on. */
export const USER_HZ = 100;

const TIMER_KINDS: readonly SocketTimerKind[] = ['on', 'on', 'keepalive', 'timewait', 'persist'];
export const UNIX_TYPES: readonly SocketType[] = ['stream', 'dgram', 'seqpacket'];
const INET_TYPES: Record<string, SocketType> = { tcp: 'stream', udp: 'dgram', udplite: 'dgram', raw: 'raw' };

export class SocketRows {
  length = 0;
  private capacity: number;
  state: Uint8Array;
  /** -1 where /proc does not say */
  recvQueue: Float64Array;
  sendQueue: Float64Array;
  /** ids in the scan's AddressBook (inet tables) */
  localAddress: Int32Array;
  localPort: Int32Array;
  remoteAddress: Int32Array;
  remotePort: Int32Array;
  /** 0: no inode (TIME_WAIT, request sockets, embryonic unix sockets) */
  inode: Float64Array;
  /** -1 where /proc does not say */
  uid: Float64Array;
  /** the tr column: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe */
  timer: Uint8Array;
  /** tm->when in clock ticks */
  timerWhen: Float64Array;
  retransmits: Float64Array;
  probes: Float64Array;
  /** unix: index into UNIX_TYPES */
  unixType: Uint8Array;
  /** unix: the path column */
  path: (string | null)[] = [];

  constructor(
    readonly table: ProcTable,
    capacity: number,
  ) {
    this.capacity = Math.max(16, capacity);
    const n = this.capacity;
    this.state = new Uint8Array(n);
    this.recvQueue = new Float64Array(n);
    this.sendQueue = new Float64Array(n);
    this.localAddress = new Int32Array(n);
    this.localPort = new Int32Array(n);
    this.remoteAddress = new Int32Array(n);
    this.remotePort = new Int32Array(n);
    this.inode = new Float64Array(n);
    this.uid = new Float64Array(n);
    this.timer = new Uint8Array(n);
    this.timerWhen = new Float64Array(n);
    this.retransmits = new Float64Array(n);
    this.probes = new Float64Array(n);
    this.unixType = new Uint8Array(n);
  }

  /** Index of a new row, growing the columns when full. */
  add(): number {
    if (this.length === this.capacity) this.grow();
    return this.length++;
  }

  private grow(): void {
    const n = this.capacity * 2;
    const grow8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    const grow32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const grow64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.state = grow8(this.state);
    this.recvQueue = grow64(this.recvQueue);
    this.sendQueue = grow64(this.sendQueue);
    this.localAddress = grow32(this.localAddress);
    this.localPort = grow32(this.localPort);
    this.remoteAddress = grow32(this.remoteAddress);
    this.remotePort = grow32(this.remotePort);
    this.inode = grow64(this.inode);
    this.uid = grow64(this.uid);
    this.timer = grow8(this.timer);
    this.timerWhen = grow64(this.timerWhen);
    this.retransmits = grow64(this.retransmits);
    this.probes = grow64(this.probes);
    this.unixType = grow8(this.unixType);
    this.capacity = n;
  }
}

/** What toEntries needs besides the rows. */
export interface EntryContext {
  addresses: AddressBook;
  users: ReadonlyMap<number, string>;
  services: PortNameTable;
  /** null when owners were not asked for */
  owners: ReadonlyMap<number, readonly SocketOwner[]> | null;
}

export function timerOf(rows: SocketRows, i: number): SocketTimer | null {
  const code = rows.timer[i]!;
  if (code === 0 || rows.table.protocol !== 'tcp') return null;
  return {
    kind: TIMER_KINDS[code] ?? 'unknown',
    expires: Math.round((rows.timerWhen[i]! * 1000) / USER_HZ),
    retransmits: rows.retransmits[i]!,
    probes: rows.probes[i]!,
  };
}

/** The contract's objects for the rows. */
export function toEntries(rows: SocketRows, ctx: EntryContext): SocketEntry[] {
  const out: SocketEntry[] = new Array<SocketEntry>(rows.length);
  const { protocol, family } = rows.table;
  const tcp = protocol === 'tcp';
  const addresses = ctx.addresses.addresses;
  for (let i = 0; i < rows.length; i++) {
    const ino = rows.inode[i]!;
    const owners = ctx.owners === null ? null : ino === 0 ? [] : (ctx.owners.get(ino)?.slice() ?? []);
    if (family === 'unix') {
      out[i] = {
        protocol,
        family,
        type: UNIX_TYPES[rows.unixType[i]!]!,
        state: stateName(rows.state[i]!, false)!,
        localAddress: null,
        localPort: null,
        remoteAddress: null,
        remotePort: null,
        mapped: false,
        recvQueue: null,
        sendQueue: null,
        inode: ino === 0 ? null : ino,
        uid: null,
        user: null,
        service: null,
        owners,
        path: rows.path[i] ?? null,
        timer: null,
      };
      continue;
    }
    const local = addresses[rows.localAddress[i]!]!;
    const remote = addresses[rows.remoteAddress[i]!]!;
    const localPort = rows.localPort[i]!;
    const remotePort = rows.remotePort[i]!;
    const uid = rows.uid[i]!;
    out[i] = {
      protocol,
      family,
      type: INET_TYPES[protocol]!,
      state: stateName(rows.state[i]!, tcp)!,
      localAddress: local.text,
      localPort,
      remoteAddress: remote.text,
      remotePort,
      mapped: local.mapped || remote.mapped,
      recvQueue: rows.recvQueue[i]!,
      sendQueue: rows.sendQueue[i]!,
      inode: ino === 0 ? null : ino,
      uid: uid < 0 ? null : uid,
      user: uid < 0 ? null : (ctx.users.get(uid) ?? null),
      service: ctx.services[localPort] ?? ctx.services[remotePort] ?? null,
      owners,
      path: null,
      timer: timerOf(rows, i),
    };
  }
  return out;
}
