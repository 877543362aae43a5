// One host, printed as iputils ping prints it (iputils 20221126, ping/ping_common.c and
// ping.c/ping6_common.c), line for line, so scripts that parse ping keep working:
//   PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
//   64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.026 ms
//   From 10.0.0.1 icmp_seq=2 Destination Host Unreachable
//
//   --- 127.0.0.1 ping statistics ---
//   3 packets transmitted, 3 received, 0% packet loss, time 2003ms
//   rtt min/avg/max/mdev = 0.026/0.028/0.031/0.002 ms
// Flood mode prints a dot per probe and a backspace per reply. Addresses are shown as
// "name (address)" unless -n or the target was given as an address, as iputils does.
// TCP ping (--tcp) keeps the layout and says how the port answered:
//   PING 127.0.0.1 (127.0.0.1) TCP port 443 (syn).
//   port 443 open: seq=1 time=0.052 ms
//   port 443 closed: seq=2 time=0.031 ms
//   port 443 filtered: seq=3 no answer within 1000 ms
//   port 443 filtered: seq=4 from 10.0.0.1: Destination Host Unreachable
//   ...
//   4 packets transmitted, 2 received, 1 closed, 50% packet loss, time 3004ms

import { parsePattern } from '../../ping/payload.js';
import type { PingEvent, PingMethod, PingReply, PingTargetStatus } from '../../ping/types.js';
import type { ReverseDnsCache } from '../../runtime/reverse-dns.js';
import { epochStamp, iputilsMs, iputilsTime, printfG } from './number-format.js';

/** iputils times replies only when the payload can hold its 16-byte timeval. */
const TIMED_PAYLOAD = 16;

export interface TextOptions {
  /** the target as given */
  host: string;
  address: string;
  family: 4 | 6;
  size: number;
  quiet: boolean;
  flood: boolean;
  timestamps: boolean;
  /** print "name (address)": the target was a name and -n was not given */
  names: ReverseDnsCache | null;
  patternText: string | null;
  /** -I: the source address and device shown in the header */
  source: string | null;
  device: string | null;
  /** interval 0 or flood: iputils adds ipg/ewma */
  interval: number;
  /** TCP ping: the port, the method and the probes' timeout (ms); null for ICMP */
  tcp?: { port: number; method: PingMethod; timeout: number } | null;
}

export class IputilsPrinter {
  constructor(
    private readonly o: TextOptions,
    /** where lines for stderr go (a send the kernel refused) */
    private readonly err: (text: string) => void,
  ) {}

  /** "name (address)" or "address" for an address in a line. */
  private addr(address: string): string {
    const name = this.o.names?.peek(address) ?? null;
    return name ? `${name} (${address})` : address;
  }

  header(): string {
    const o = this.o;
    let text = '';
    if (o.patternText !== null && !o.quiet) text += `PATTERN: 0x${(parsePattern(o.patternText) ?? Buffer.alloc(0)).toString('hex')}\n`;
    const from = o.source !== null || o.device !== null ? `from ${o.source ?? ''} ${o.device ?? ''}: ` : '';
    if (o.tcp) {
      const name = o.family === 4 ? `${o.host} (${o.address})` : `${o.host}(${this.addr(o.address)})`;
      return text + `PING ${name} ${from}TCP port ${o.tcp.port} (${o.tcp.method === 'tcp-syn' ? 'syn' : 'connect'}).\n`;
    }
    if (o.family === 4) text += `PING ${o.host} (${o.address}) ${from}${o.size}(${o.size + 28}) bytes of data.\n`;
    else text += `PING ${o.host}(${this.addr(o.address)}) ${from}${o.size} data bytes\n`;
    return text;
  }

  /** Addresses an event will print, so their names can be looked up first. */
  addressesOf(e: PingEvent): string[] {
    if (this.o.names === null || this.o.quiet || this.o.flood) return [];
    if (e.type === 'reply' || e.type === 'late') return [e.reply.from];
    if (e.type === 'error' && e.from !== null) return [e.from];
    return [];
  }

  /** What an event prints on stdout (stderr lines go straight out). */
  line(e: PingEvent): string {
    const o = this.o;
    if (o.quiet) return '';
    if (o.flood) return this.floodMark(e);
    if (o.tcp) return this.tcpLine(e, o.tcp.port, o.tcp.timeout);
    switch (e.type) {
      case 'reply':
        return this.replyLine(e.seq, e.reply, '');
      case 'late':
        return this.replyLine(e.seq, e.reply, ' (LATE!)');
      case 'error':
        if (e.error.type === null) {
          // the kernel refused to send it: iputils says so on stderr
          this.err(`netdiag: ${e.error.message}\n`);
          return '';
        }
        return `${o.timestamps && e.receivedAt !== null ? epochStamp(e.receivedAt) : ''}From ${e.from === null ? '?' : this.addr(e.from)} icmp_seq=${e.seq} ${e.error.message}\n`;
      default:
        return '';
    }
  }

  private tcpLine(e: PingEvent, port: number, timeout: number): string {
    const stamp = (at: number | null): string => (this.o.timestamps && at !== null ? epochStamp(at) : '');
    switch (e.type) {
      case 'reply':
      case 'late': {
        const r = e.reply;
        let s = `${stamp(r.receivedAt)}port ${port} ${r.state ?? 'open'}: seq=${e.seq} time=${iputilsTime(r.rtt * 1000)} ms`;
        if (r.flags.includes('dup')) s += ' (DUP!)';
        return s + (e.type === 'late' ? ' (LATE!)\n' : '\n');
      }
      case 'timeout':
        return `port ${port} filtered: seq=${e.seq} no answer within ${printfG(timeout)} ms\n`;
      case 'error':
        if (e.error.type === null && e.from === null && e.rtt === null) {
          // the kernel refused to send it
          this.err(`netdiag: ${e.error.message}\n`);
          return '';
        }
        return `${stamp(e.receivedAt)}port ${port} filtered: seq=${e.seq} ${e.from !== null ? `from ${this.addr(e.from)}: ` : ''}${e.error.message}\n`;
      default:
        return '';
    }
  }

  private floodMark(e: PingEvent): string {
    switch (e.type) {
      case 'sent':
        return '.';
      case 'reply':
        return e.reply.flags.includes('corrupted') ? '\bC' : '\b \b';
      case 'error':
        return e.error.type === null ? 'E' : '\bE';
      default:
        return '';
    }
  }

  private replyLine(seq: number, r: PingReply, suffix: string): string {
    const o = this.o;
    let s = `${o.timestamps ? epochStamp(r.receivedAt) : ''}${r.bytes} bytes from ${this.addr(r.from)}: icmp_seq=${seq}`;
    if (r.ttl !== null) s += ` ttl=${r.ttl}`;
    if (r.bytes < o.size + 8) return `${s} (truncated)\n`;
    if (o.size >= TIMED_PAYLOAD) s += ` time=${iputilsTime(r.rtt * 1000)} ms`;
    if (r.flags.includes('dup')) s += ' (DUP!)';
    if (r.flags.includes('corrupted')) s += ' (BAD CHECKSUM!)';
    if (r.flags.includes('different-address')) s += ' (DIFFERENT ADDRESS!)';
    s += suffix;
    if (r.mismatch !== null) {
      s += `\nwrong data byte #${r.mismatch.offset} should be 0x${r.mismatch.expected.toString(16)} but was 0x${r.mismatch.actual.toString(16)}`;
    }
    return s + '\n';
  }

  /** The statistics block (and the newline that ends a flood's dots); startedAt: the run's (PingRunStatus). */
  summary(t: PingTargetStatus, startedAt: number): string {
    const o = this.o;
    // iputils' "time": from the start to the last probe sent
    const elapsedMs = t.lastSentAt >= 0 ? t.lastSentAt - startedAt : 0;
    const elapsed = Math.round(elapsedMs);
    let s = `\n--- ${o.host} ping statistics ---\n`;
    s += `${t.transmitted} packets transmitted, ${t.received} received`;
    if (o.tcp) s += `, ${t.closed} closed`;
    if (t.duplicates) s += `, +${t.duplicates} duplicates`;
    if (t.corrupted) s += `, +${t.corrupted} corrupted`;
    if (t.errors) s += `, +${t.errors} errors`;
    if (t.transmitted) s += `, ${printfG(t.loss)}% packet loss, time ${elapsed}ms`;
    s += '\n';
    const parts: string[] = [];
    const rtt = t.stats.iputils();
    if (t.received > 0 && rtt !== null && (o.size >= TIMED_PAYLOAD || o.tcp)) {
      parts.push(`rtt min/avg/max/mdev = ${iputilsMs(rtt.min)}/${iputilsMs(rtt.avg)}/${iputilsMs(rtt.max)}/${iputilsMs(rtt.mdev)} ms`);
    }
    if (t.pipe > 1) parts.push(`pipe ${t.pipe}`);
    if (t.received > 0 && rtt !== null && (o.interval === 0 || o.flood) && t.transmitted > 1) {
      const ipg = Math.trunc((elapsedMs * 1000) / (t.transmitted - 1));
      parts.push(`ipg/ewma ${iputilsMs(ipg)}/${iputilsMs(Math.trunc(rtt.ewmaTimes8 / 8))} ms`);
    }
    return s + parts.join(', ') + '\n';
  }
}
