// struct tcp_info (linux/tcp.h) from an INET_DIAG_INFO attribute. Each field is read into a
// row of a Float64Array (no object per socket while 100k records are read; NaN where an
// older kernel's shorter struct ends), and becomes a TcpInfo object only when asked. Times
// become milliseconds (the kernel gives rtt, rto, ato, min_rtt and the limited times in µs).
import type { TcpInfo } from '../types.js';
import { LITTLE_ENDIAN } from './sock-diag-messages.js';

const u32 = (b: Uint8Array, p: number): number =>
  LITTLE_ENDIAN ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000 : (b[p + 3]! | (b[p + 2]! << 8) | (b[p + 1]! << 16)) + b[p]! * 0x1000000;

/** A u64 as a number (exact below 2^53); NaN for ~0, the kernel's "unlimited". */
function u64(b: Uint8Array, p: number): number {
  const lo = LITTLE_ENDIAN ? u32(b, p) : u32(b, p + 4);
  const hi = LITTLE_ENDIAN ? u32(b, p + 4) : u32(b, p);
  if (lo === 0xffffffff && hi === 0xffffffff) return NaN;
  return hi * 0x100000000 + lo;
}

type Field = readonly [name: Exclude<keyof TcpInfo, 'congestion' | 'deliveryRateAppLimited' | 'caState' | 'retransmits' | 'probes' | 'backoff' | 'options' | 'sndWscale' | 'rcvWscale'>, offset: number, size: 4 | 8, microseconds: boolean];

/** The u32/u64 fields after the eight leading bytes: name, offset, size, µs -> ms. */
const FIELDS: readonly Field[] = [
  ['rto', 8, 4, true], ['ato', 12, 4, true], ['sndMss', 16, 4, false], ['rcvMss', 20, 4, false],
  ['unacked', 24, 4, false], ['sacked', 28, 4, false], ['lost', 32, 4, false], ['retrans', 36, 4, false],
  ['lastDataSent', 44, 4, false], ['lastAckSent', 48, 4, false], ['lastDataRecv', 52, 4, false], ['lastAckRecv', 56, 4, false],
  ['pmtu', 60, 4, false], ['rcvSsthresh', 64, 4, false], ['rtt', 68, 4, true], ['rttvar', 72, 4, true],
  ['ssthresh', 76, 4, false], ['cwnd', 80, 4, false], ['advmss', 84, 4, false], ['reordering', 88, 4, false],
  ['rcvRtt', 92, 4, true], ['rcvSpace', 96, 4, false], ['totalRetrans', 100, 4, false],
  ['pacingRate', 104, 8, false], ['maxPacingRate', 112, 8, false], ['bytesAcked', 120, 8, false], ['bytesReceived', 128, 8, false],
  ['segsOut', 136, 4, false], ['segsIn', 140, 4, false], ['notsentBytes', 144, 4, false], ['minRtt', 148, 4, true],
  ['dataSegsIn', 152, 4, false], ['dataSegsOut', 156, 4, false], ['deliveryRate', 160, 8, false],
  ['busyTime', 168, 8, true], ['rwndLimited', 176, 8, true], ['sndbufLimited', 184, 8, true],
  ['delivered', 192, 4, false], ['deliveredCe', 196, 4, false], ['bytesSent', 200, 8, false], ['bytesRetrans', 208, 8, false],
  ['dsackDups', 216, 4, false], ['reordSeen', 220, 4, false], ['rcvOoopack', 224, 4, false], ['sndWnd', 228, 4, false],
];
/** The leading bytes: state, ca_state, retransmits, probes, backoff, options, wscales, app_limited. */
const HEAD = 8;
/** Where a row's BBR numbers start: bandwidth (bytes/s), min RTT (ms), pacing gain, cwnd gain; NaN without INET_DIAG_BBRINFO. */
const BBR_AT = HEAD + FIELDS.length;
/** Numbers per row in the column. */
export const TCP_INFO_STRIDE = BBR_AT + 4;
/** The oldest tcp_info (2.6 kernels) ends after total_retrans. */
const MIN_LENGTH = 104;

const OFFSETS = Int32Array.from(FIELDS, (f) => f[1]);
const SIZES = Int32Array.from(FIELDS, (f) => f[2]);
const MICROSECONDS = Uint8Array.from(FIELDS, (f) => (f[3] ? 1 : 0));

// The receive buffer seen as host-order u32 words (records and attributes are 4-byte
// aligned): one load per field instead of four. Kept for the last buffer read.
let wordsBuffer: Uint8Array | null = null;
let words: Uint32Array | null = null;

function wordsOf(buf: Uint8Array): Uint32Array | null {
  if (buf !== wordsBuffer) {
    wordsBuffer = buf;
    words = (buf.byteOffset & 3) === 0 ? new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2) : null;
  }
  return words;
}

/** Reads tcp_info in buf[p, p + len) into out[o, o + TCP_INFO_STRIDE); false when it is too short to use. */
export function readTcpInfo(buf: Uint8Array, p: number, len: number, out: Float64Array, o: number): boolean {
  if (len < MIN_LENGTH) return false;
  for (let k = 0; k < HEAD; k++) out[o + k] = buf[p + k]!;
  const w = (p & 3) === 0 ? wordsOf(buf) : null;
  for (let k = 0; k < OFFSETS.length; k++) {
    const offset = OFFSETS[k]!;
    const size = SIZES[k]!;
    let v: number;
    if (offset + size > len) v = NaN;
    else if (w !== null) {
      const at = (p + offset) >>> 2;
      if (size === 4) v = w[at]!;
      else {
        const lo = LITTLE_ENDIAN ? w[at]! : w[at + 1]!;
        const hi = LITTLE_ENDIAN ? w[at + 1]! : w[at]!;
        v = lo === 0xffffffff && hi === 0xffffffff ? NaN : hi * 0x100000000 + lo;
      }
    } else {
      v = size === 4 ? u32(buf, p + offset) : u64(buf, p + offset);
    }
    // min_rtt is ~0U before the first sample
    if (offset === 148 && v === 0xffffffff) v = NaN;
    if (MICROSECONDS[k] === 1) v /= 1000;
    out[o + HEAD + k] = v;
  }
  out[o + BBR_AT] = NaN;
  return true;
}

/** Reads struct tcp_bbr_info (INET_DIAG_BBRINFO) into the BBR numbers of a row readTcpInfo filled. */
export function readBbrInfo(buf: Uint8Array, p: number, len: number, out: Float64Array, o: number): void {
  if (len < 20) return;
  out[o + BBR_AT] = u32(buf, p + 4) * 0x100000000 + u32(buf, p);
  out[o + BBR_AT + 1] = u32(buf, p + 8) / 1000;
  out[o + BBR_AT + 2] = u32(buf, p + 12) / 256;
  out[o + BBR_AT + 3] = u32(buf, p + 16) / 256;
}

/** The BBR numbers of a row as the contract's object, or null. */
function bbrAt(col: Float64Array, o: number): TcpInfo['bbr'] {
  const bw = col[o + BBR_AT]!;
  if (bw !== bw) return null;
  return { bandwidth: bw, minRtt: col[o + BBR_AT + 1]!, pacingGain: col[o + BBR_AT + 2]!, cwndGain: col[o + BBR_AT + 3]! };
}

/** NaN (not in this kernel's struct) as null. */
const v = (x: number): number | null => (x === x ? x : null);

/** The TcpInfo of a row read by readTcpInfo (NaN becomes null); one literal, so every object has one shape. */
export function tcpInfoAt(col: Float64Array, o: number, congestion: string | null): TcpInfo {
  return {
    congestion,
    caState: col[o + 1]!,
    retransmits: col[o + 2]!,
    probes: col[o + 3]!,
    backoff: col[o + 4]!,
    options: col[o + 5]!,
    sndWscale: col[o + 6]! & 0x0f,
    rcvWscale: col[o + 6]! >> 4,
    rto: v(col[o + 8]!),
    ato: v(col[o + 9]!),
    sndMss: v(col[o + 10]!),
    rcvMss: v(col[o + 11]!),
    unacked: v(col[o + 12]!),
    sacked: v(col[o + 13]!),
    lost: v(col[o + 14]!),
    retrans: v(col[o + 15]!),
    lastDataSent: v(col[o + 16]!),
    lastAckSent: v(col[o + 17]!),
    lastDataRecv: v(col[o + 18]!),
    lastAckRecv: v(col[o + 19]!),
    pmtu: v(col[o + 20]!),
    rcvSsthresh: v(col[o + 21]!),
    rtt: v(col[o + 22]!),
    rttvar: v(col[o + 23]!),
    ssthresh: v(col[o + 24]!),
    cwnd: v(col[o + 25]!),
    advmss: v(col[o + 26]!),
    reordering: v(col[o + 27]!),
    rcvRtt: v(col[o + 28]!),
    rcvSpace: v(col[o + 29]!),
    totalRetrans: v(col[o + 30]!),
    pacingRate: v(col[o + 31]!),
    maxPacingRate: v(col[o + 32]!),
    bytesAcked: v(col[o + 33]!),
    bytesReceived: v(col[o + 34]!),
    segsOut: v(col[o + 35]!),
    segsIn: v(col[o + 36]!),
    notsentBytes: v(col[o + 37]!),
    minRtt: v(col[o + 38]!),
    dataSegsIn: v(col[o + 39]!),
    dataSegsOut: v(col[o + 40]!),
    deliveryRate: v(col[o + 41]!),
    busyTime: v(col[o + 42]!),
    rwndLimited: v(col[o + 43]!),
    sndbufLimited: v(col[o + 44]!),
    delivered: v(col[o + 45]!),
    deliveredCe: v(col[o + 46]!),
    bytesSent: v(col[o + 47]!),
    bytesRetrans: v(col[o + 48]!),
    dsackDups: v(col[o + 49]!),
    reordSeen: v(col[o + 50]!),
    rcvOoopack: v(col[o + 51]!),
    sndWnd: v(col[o + 52]!),
    deliveryRateAppLimited: (col[o + 7]! & 1) === 1,
    bbr: bbrAt(col, o),
  } as TcpInfo;
}

/** tcp_info in buf[p, p + len) as a TcpInfo; null when it is too short (2.6-era kernels). */
export function parseTcpInfo(buf: Uint8Array, p: number, len: number, congestion: string | null): TcpInfo | null {
  const col = new Float64Array(TCP_INFO_STRIDE);
  return readTcpInfo(buf, p, len, col, 0) ? tcpInfoAt(col, 0, congestion) : null;
}

/**
 * One row's tcp_info read from the column without copying it, repositioned with at(): a
 * printer formats 100k rows through one view instead of 100k objects.
 */
export class TcpInfoView {
  private col: Float64Array = new Float64Array(TCP_INFO_STRIDE);
  private o = 0;
  congestion: string | null = null;

  at(col: Float64Array, o: number, congestion: string | null): TcpInfo {
    this.col = col;
    this.o = o;
    this.congestion = congestion;
    return this as unknown as TcpInfo;
  }

  get caState(): number {
    return this.col[this.o + 1]!;
  }
  get retransmits(): number {
    return this.col[this.o + 2]!;
  }
  get probes(): number {
    return this.col[this.o + 3]!;
  }
  get backoff(): number {
    return this.col[this.o + 4]!;
  }
  get options(): number {
    return this.col[this.o + 5]!;
  }
  get sndWscale(): number {
    return this.col[this.o + 6]! & 0x0f;
  }
  get rcvWscale(): number {
    return this.col[this.o + 6]! >> 4;
  }
  get deliveryRateAppLimited(): boolean {
    return (this.col[this.o + 7]! & 1) === 1;
  }
  get rto(): number | null {
    return v(this.col[this.o + 8]!);
  }
  get ato(): number | null {
    return v(this.col[this.o + 9]!);
  }
  get sndMss(): number | null {
    return v(this.col[this.o + 10]!);
  }
  get rcvMss(): number | null {
    return v(this.col[this.o + 11]!);
  }
  get unacked(): number | null {
    return v(this.col[this.o + 12]!);
  }
  get sacked(): number | null {
    return v(this.col[this.o + 13]!);
  }
  get lost(): number | null {
    return v(this.col[this.o + 14]!);
  }
  get retrans(): number | null {
    return v(this.col[this.o + 15]!);
  }
  get lastDataSent(): number | null {
    return v(this.col[this.o + 16]!);
  }
  get lastAckSent(): number | null {
    return v(this.col[this.o + 17]!);
  }
  get lastDataRecv(): number | null {
    return v(this.col[this.o + 18]!);
  }
  get lastAckRecv(): number | null {
    return v(this.col[this.o + 19]!);
  }
  get pmtu(): number | null {
    return v(this.col[this.o + 20]!);
  }
  get rcvSsthresh(): number | null {
    return v(this.col[this.o + 21]!);
  }
  get rtt(): number | null {
    return v(this.col[this.o + 22]!);
  }
  get rttvar(): number | null {
    return v(this.col[this.o + 23]!);
  }
  get ssthresh(): number | null {
    return v(this.col[this.o + 24]!);
  }
  get cwnd(): number | null {
    return v(this.col[this.o + 25]!);
  }
  get advmss(): number | null {
    return v(this.col[this.o + 26]!);
  }
  get reordering(): number | null {
    return v(this.col[this.o + 27]!);
  }
  get rcvRtt(): number | null {
    return v(this.col[this.o + 28]!);
  }
  get rcvSpace(): number | null {
    return v(this.col[this.o + 29]!);
  }
  get totalRetrans(): number | null {
    return v(this.col[this.o + 30]!);
  }
  get pacingRate(): number | null {
    return v(this.col[this.o + 31]!);
  }
  get maxPacingRate(): number | null {
    return v(this.col[this.o + 32]!);
  }
  get bytesAcked(): number | null {
    return v(this.col[this.o + 33]!);
  }
  get bytesReceived(): number | null {
    return v(this.col[this.o + 34]!);
  }
  get segsOut(): number | null {
    return v(this.col[this.o + 35]!);
  }
  get segsIn(): number | null {
    return v(this.col[this.o + 36]!);
  }
  get notsentBytes(): number | null {
    return v(this.col[this.o + 37]!);
  }
  get minRtt(): number | null {
    return v(this.col[this.o + 38]!);
  }
  get dataSegsIn(): number | null {
    return v(this.col[this.o + 39]!);
  }
  get dataSegsOut(): number | null {
    return v(this.col[this.o + 40]!);
  }
  get deliveryRate(): number | null {
    return v(this.col[this.o + 41]!);
  }
  get busyTime(): number | null {
    return v(this.col[this.o + 42]!);
  }
  get rwndLimited(): number | null {
    return v(this.col[this.o + 43]!);
  }
  get sndbufLimited(): number | null {
    return v(this.col[this.o + 44]!);
  }
  get delivered(): number | null {
    return v(this.col[this.o + 45]!);
  }
  get deliveredCe(): number | null {
    return v(this.col[this.o + 46]!);
  }
  get bytesSent(): number | null {
    return v(this.col[this.o + 47]!);
  }
  get bytesRetrans(): number | null {
    return v(this.col[this.o + 48]!);
  }
  get dsackDups(): number | null {
    return v(this.col[this.o + 49]!);
  }
  get reordSeen(): number | null {
    return v(this.col[this.o + 50]!);
  }
  get rcvOoopack(): number | null {
    return v(this.col[this.o + 51]!);
  }
  get sndWnd(): number | null {
    return v(this.col[this.o + 52]!);
  }
  get bbr(): TcpInfo['bbr'] {
    return bbrAt(this.col, this.o);
  }
}
