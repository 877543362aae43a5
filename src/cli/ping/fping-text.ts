// Many hosts, printed as fping -c prints them: a line per probe as results arrive, names padded
// to one width, then a summary line per target; -a / -u list the targets that answered / never
// answered instead.
//   127.0.0.1 : [0], 64 bytes, 0.033 ms (0.033 avg, 0% loss)
//   127.0.0.9 : [0], timed out (NaN avg, 100% loss)
//
//   127.0.0.1 : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.033/0.033/0.033
// TCP ping (--tcp) says how the port answered, and how many answers were RSTs:
//   127.0.0.1 : [0], port 80 open, 0.021 ms (0.021 avg, 0% loss)
//   127.0.0.2 : [0], port 80 closed, 0.015 ms (0.015 avg, 0% loss)
//   127.0.0.1 : xmt/rcv/%loss = 1/1/0%, closed 0, min/avg/max = 0.021/0.021/0.021

import type { PingEvent, PingTargetStatus } from '../../ping/types.js';
import { fpingTime } from './number-format.js';

export interface MultiOptions {
  quiet: boolean;
  alive: boolean;
  unreachable: boolean;
  /** TCP ping: the port; null (or absent) for ICMP */
  tcpPort?: number | null;
}

export class FpingPrinter {
  private readonly width: number;

  constructor(
    private readonly targets: readonly PingTargetStatus[],
    private readonly o: MultiOptions,
  ) {
    let w = 0;
    for (let i = 0; i < targets.length; i++) w = Math.max(w, targets[i]!.info.target.length);
    this.width = w;
  }

  private name(t: PingTargetStatus): string {
    return t.info.target.padEnd(this.width);
  }

  /** Running average and loss as fping shows them (loss counts what is still out). */
  private soFar(t: PingTargetStatus): string {
    const loss = t.transmitted > 0 ? Math.trunc(((t.transmitted - t.received) * 100) / t.transmitted) : 0;
    return `(${t.stats.count > 0 ? fpingTime(t.stats.mean) : 'NaN'} avg, ${loss}% loss)`;
  }

  /** What an event prints; '' for nothing. */
  line(e: PingEvent): string {
    const t = this.targets[e.index]!;
    if (this.o.alive && e.type === 'reply' && !e.reply.flags.includes('dup') && !e.reply.flags.includes('corrupted') && t.received === 1) {
      // -a: a target is listed the first time it answers
      return `${t.info.target}\n`;
    }
    if (this.o.quiet || this.o.alive || this.o.unreachable) return '';
    const seq = e.seq - 1;
    switch (e.type) {
      case 'reply': {
        const r = e.reply;
        if (r.flags.includes('dup')) return `${this.name(t)} : duplicate for [${seq}], ${r.bytes} bytes, ${fpingTime(r.rtt)} ms\n`;
        if (r.flags.includes('corrupted')) return `${this.name(t)} : [${seq}], ${r.bytes} bytes, ${fpingTime(r.rtt)} ms (BAD CHECKSUM)\n`;
        const extra = r.flags.includes('different-address') ? ` (from ${r.from})` : '';
        return `${this.name(t)} : [${seq}], ${this.what(r.bytes, r.state)}, ${fpingTime(r.rtt)} ms ${this.soFar(t)}${extra}\n`;
      }
      case 'late':
        return `${this.name(t)} : late reply for [${seq}], ${this.what(e.reply.bytes, e.reply.state)}, ${fpingTime(e.reply.rtt)} ms\n`;
      case 'timeout':
        return `${this.name(t)} : [${seq}], ${this.tcp ? `port ${this.o.tcpPort} filtered, ` : ''}timed out ${this.soFar(t)}\n`;
      case 'error':
        return `${this.name(t)} : [${seq}], ${this.tcp ? `port ${this.o.tcpPort} filtered, ` : ''}${e.error.message}${e.from !== null ? ` from ${e.from}` : ''}\n`;
      default:
        return '';
    }
  }

  private get tcp(): boolean {
    return this.o.tcpPort !== undefined && this.o.tcpPort !== null;
  }

  /** "64 bytes", or for TCP "port 80 open". */
  private what(bytes: number, state: 'open' | 'closed' | undefined): string {
    return this.tcp ? `port ${this.o.tcpPort} ${state ?? 'open'}` : `${bytes} bytes`;
  }

  /** The end: the -u list, or a summary line per target. */
  summary(): string {
    // ten thousand lines: collected and joined once, not grown line by line
    const targets = this.targets;
    const lines: string[] = [];
    if (this.o.unreachable) {
      for (let i = 0; i < targets.length; i++) if (targets[i]!.received === 0) lines.push(`${targets[i]!.info.target}\n`);
    }
    if (this.o.alive || this.o.unreachable) return lines.join('');
    if (!this.o.quiet) lines.push('\n');
    // neighbours in a sweep mostly end alike (1/1/0%, the same round trip): the counters part
    // and the times part of a line are reused from the line before when they are the same
    let xmt = -1, rcv = -1, loss = -1, closed = -1, counters = '';
    const tcp = this.tcp;
    let min = NaN, avg = NaN, max = NaN, times = '\n';
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      const l = Math.trunc(t.loss);
      if (t.transmitted !== xmt || t.received !== rcv || l !== loss || t.closed !== closed) {
        xmt = t.transmitted;
        rcv = t.received;
        loss = l;
        closed = t.closed;
        counters = ` : xmt/rcv/%loss = ${xmt}/${rcv}/${loss}%${tcp ? `, closed ${closed}` : ''}`;
      }
      const st = t.stats;
      if (st.count === 0) {
        min = avg = max = NaN;
        times = '\n';
      } else if (!(st.min === min && st.mean === avg && st.max === max)) {
        min = st.min;
        avg = st.mean;
        max = st.max;
        const a = fpingTime(min);
        times = `, min/avg/max = ${a}/${avg === min ? a : fpingTime(avg)}/${max === min ? a : fpingTime(max)}\n`;
      }
      lines.push(this.name(t) + counters + times);
    }
    return lines.join('');
  }
}
