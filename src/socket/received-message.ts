// What a datagram socket hands out for each datagram or error-queue entry it reads: the
// message, its kernel receive time and ancillary data, and for the error queue the decoded
// sock_extended_err. Also the one object read() refills for every message, so hot loops
// allocate nothing per datagram.
import { readAddress } from './address-bytes.js';

/** SO_EE_ORIGIN_* of an error-queue entry */
export const ORIGIN_LOCAL = 1;
export const ORIGIN_ICMP = 2;
export const ORIGIN_ICMP6 = 3;

/** An error-queue entry's sock_extended_err (and SO_EE_OFFENDER). */
export interface QueuedError {
  errno: number;
  /** SO_EE_ORIGIN_*: 1 local, 2 ICMP, 3 ICMPv6 */
  origin: number;
  type: number;
  code: number;
  /** the MTU for fragmentation-needed / packet-too-big / local EMSGSIZE */
  info: number;
  offender: string | null;
}

/** A received datagram or error-queue entry, valid until the socket's next read. */
export interface DatagramMessage {
  /** the message is buf[offset, offset + length) (raw IPv4: after the IP header) */
  buf: Buffer;
  offset: number;
  length: number;
  truncated: boolean;
  /** source address of the datagram (error queue: the original destination); '' when none */
  from: string;
  /** source port (error queue: the original destination port); 0 for ICMP */
  port: number;
  /** TTL / hop limit and TOS / traffic class it arrived with, when the kernel gave them */
  ttl: number | null;
  tos: number | null;
  /** CLOCK_REALTIME kernel receive time; -1 when the kernel gave none */
  rxSec: number;
  rxNsec: number;
  /** set for error-queue messages */
  queued: QueuedError | null;
  /** sock_extended_err ee_data (RFC 4884 length etc.) */
  eeData: number;
  /**
   * When present: true when the source address is the one in b[off..off+16) (IPv4: its first
   * 4 bytes), compared without making a string (see ReceivedMessage).
   */
  sourceEquals?(b: Buffer, off: number): boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * The message read() hands out: one object refilled for every message. `from` is formatted only
 * when asked for (and kept while the next messages come from the same address);
 * sourceEquals() compares the source with address bytes without making a string.
 */
export class ReceivedMessage implements DatagramMessage {
  buf: Buffer = EMPTY;
  offset = 0;
  length = 0;
  truncated = false;
  port = 0;
  ttl: number | null = null;
  tos: number | null = null;
  // doubles from the start (see set())
  rxSec = -0;
  rxNsec = -0;
  queued: QueuedError | null = null;
  eeData = 0;
  /** 4, 6, or 0 when the datagram had no source address */
  family = 0;
  /** the 16 source address bytes are addrs[addrOffset..] */
  addrs: Buffer = EMPTY;
  addrOffset = 0;
  /** the source's scope id (link-local sources; 0 otherwise) */
  scopeId = 0;
  // the last address made into a string, and its bytes and scope
  private text = '';
  private textFamily = -1;
  private textScope = 0;
  private readonly textBytes = Buffer.alloc(16);
  private fresh = false;

  /** @internal */
  set(
    buf: Buffer, offset: number, length: number, truncated: boolean, family: number, addrs: Buffer, addrOffset: number, scopeId: number,
    port: number, ttl: number | null, tos: number | null, rxSec: number, rxNsec: number, queued: QueuedError | null, eeData: number,
  ): void {
    this.buf = buf;
    this.addrs = addrs;
    this.offset = offset;
    this.length = length;
    this.truncated = truncated;
    this.family = family === 4 || family === 6 ? family : 0;
    this.addrOffset = addrOffset;
    this.scopeId = scopeId;
    this.port = port;
    this.ttl = ttl;
    this.tos = tos;
    this.rxSec = rxSec;
    this.rxNsec = rxNsec;
    this.queued = queued;
    this.eeData = eeData;
    this.fresh = false;
  }

  /** Source address of the datagram (error queue: the original destination); '' when none. */
  get from(): string {
    if (this.fresh) return this.text;
    const fam = this.family;
    if (fam === 0) {
      this.textFamily = 0;
      this.text = '';
    } else if (fam !== this.textFamily || this.scopeId !== this.textScope || !this.sourceEquals(this.textBytes, 0)) {
      this.text = readAddress(this.addrs, this.addrOffset, fam, this.scopeId);
      this.textFamily = fam;
      this.textScope = this.scopeId;
      this.addrs.copy(this.textBytes, 0, this.addrOffset, this.addrOffset + 16);
    }
    this.fresh = true;
    return this.text;
  }

  /** True when the source address is the one in b[off..off+16) (IPv4: its first 4 bytes). */
  sourceEquals(b: Buffer, off: number): boolean {
    const a = this.addrs, o = this.addrOffset;
    const n = this.family === 4 ? 4 : this.family === 6 ? 16 : 0;
    if (n === 0) return false;
    for (let i = 0; i < n; i++) if (a[o + i] !== b[off + i]) return false;
    return true;
  }
}
