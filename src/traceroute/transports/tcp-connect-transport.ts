// TCP connect() probes (traceroute's tcpconn, mtr -T): no privilege needed. Each probe is its
// own non-blocking stream socket with the probe's TTL set on it (IP_TTL before connect, so no
// other probe is affected) and IP_RECVERR: a router's time-exceeded aborts the connect and lands
// in that socket's error queue with the router as offender; a SYN-ACK (connected) or a RST
// (ECONNREFUSED without an ICMP cause) means the destination was reached. The RTT of a SYN-ACK
// is the kernel's own first RTT sample (TCP_INFO); a RST is timed when JS sees it.
import { constants } from 'node:os';
import { native, POLL_WRITABLE } from '../../native.js';
import { readU16 } from '../../packet/bytes.js';
import { NO_EXTENSIONS } from '../reply-decoding.js';
import type { ProbeReply, ProbeRequest, ProbeTransport, SendOutcome } from '../transport.js';
import { ProbeSocket } from '../../socket/probe-socket.js';
import { ORIGIN_ICMP, ORIGIN_ICMP6 } from '../../socket/received-message.js';
import { connectOutcome, kernelRttMs, lingerZero } from '../../socket/tcp-connect-attempt.js';
import { queuedErrorReply } from './error-replies.js';
import { ipHeaderLength } from './probe-batch.js';
import { reportingFailures } from './reply-delivery.js';
import type { TransportConfig } from './transport-config.js';

const ERRNO = constants.errno;

/** a SYN with Linux's usual options: 20-byte header + 20 bytes of options */
const SYN_LENGTH = 40;

interface Attempt {
  id: number;
  sock: ProbeSocket;
  sendStamp: number;
  done: boolean;
}

export class TcpConnectTransport implements ProbeTransport {
  readonly method = 'tcp-connect' as const;
  readonly socket = 'stream' as const;
  readonly flow = null;
  readonly family: 4 | 6;
  readonly minLength: number;
  readonly sizable = false;
  /** the kernel picks each connect()'s source port: no flow can be chosen */
  readonly flowIds = 0;
  private readonly attempts = new Map<number, Attempt>();
  private onReply: (r: ProbeReply) => void = () => {};
  private onFailure: (e: Error) => void = () => {};
  private closed = false;
  /**
   * Receive timestamps are switched on system-wide by the first socket asking for them, through
   * deferred kernel work; probe sockets come and go, so this one keeps them on for the trace.
   */
  private readonly stampKeeper: ProbeSocket;

  constructor(private readonly config: TransportConfig) {
    this.family = config.family;
    this.minLength = ipHeaderLength(config.family) + SYN_LENGTH;
    this.stampKeeper = new ProbeSocket({ family: config.family, type: 'dgram', protocol: native().constants.IPPROTO_UDP });
  }

  start(onReply: (r: ProbeReply) => void, onFailure: (e: Error) => void): void {
    this.onReply = onReply;
    this.onFailure = onFailure;
  }

  poll(): void {
    for (const a of [...this.attempts.values()]) this.event(a);
  }

  send(probes: readonly ProbeRequest[]): SendOutcome[] {
    const n = native();
    const C = n.constants;
    return probes.map((p) => {
      const sock = new ProbeSocket({
        family: this.family, type: 'stream', protocol: C.IPPROTO_TCP, ttl: p.ttl, tos: this.config.tos,
        device: this.config.device, pmtu: this.config.pmtu,
        ...(this.config.source ? { source: this.config.source } : {}),
      });
      const attempt: Attempt = { id: p.id, sock, sendStamp: this.config.clock.realtimeStamp(), done: false };
      try {
        n.connect(sock.fd, this.family, this.config.target, this.config.port);
      } catch (e) {
        sock.close();
        const errno = (e as { errno?: number }).errno;
        if (errno === ERRNO.EAGAIN || errno === ERRNO.ENOBUFS) return { kind: 'retry' as const };
        throw e;
      }
      this.attempts.set(p.id, attempt);
      // progress (or an immediate result on loopback) is read from the poll callback
      sock.start(() => reportingFailures(this.onFailure, () => this.event(attempt)), POLL_WRITABLE);
      return { kind: 'sent' as const, stamp: attempt.sendStamp };
    });
  }

  release(id: number): void {
    const a = this.attempts.get(id);
    if (!a) return;
    this.attempts.delete(id);
    a.done = true;
    this.closeSocket(a.sock);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const a of this.attempts.values()) this.closeSocket(a.sock);
    this.attempts.clear();
    this.stampKeeper.close();
  }

  /** Closes with a RST (SO_LINGER 0): no FIN exchange, no TIME_WAIT left behind. */
  private closeSocket(sock: ProbeSocket): void {
    if (sock.isClosed) return;
    try {
      lingerZero(sock.fd);
    } catch {
      // closing normally is fine too
    }
    sock.close();
  }

  private event(a: Attempt): void {
    if (a.done || this.closed) return;
    // SO_ERROR before the error queue: the kernel queues a router's ICMP error before it sets
    // the socket's error, so an error seen here has its cause in the queue read next (the other
    // order loses an ICMP that lands between the two reads, taking it for a local failure)
    const err = connectOutcome(a.sock.fd);
    let reply: ProbeReply | null = null;
    a.sock.drain(true, (m) => {
      const e = m.queued;
      if (reply || !e || (e.origin !== ORIGIN_ICMP && e.origin !== ORIGIN_ICMP6) || m.length < 4 || readU16(m.buf, m.offset + 2) !== this.config.port) return;
      const quote = { offset: m.offset, length: m.length, headerLength: ipHeaderLength(this.family), sentPayload: SYN_LENGTH };
      reply = queuedErrorReply(this.config, a.id, m, e, e.offender ?? '', quote, []);
    });
    if (!reply) {
      if (err === 0) reply = this.reached(a, kernelRttMs(a.sock.fd));
      else if (err === ERRNO.ECONNREFUSED) reply = this.reached(a, null);
      else if (err > 0) {
        // a local failure without an ICMP answer (no neighbour, ...): the probe times out;
        // forget it so no later poll reads SO_ERROR from a closed (or reused) fd
        a.done = true;
        this.attempts.delete(a.id);
        this.closeSocket(a.sock);
        return;
      }
    }
    if (!reply) return;
    const r: ProbeReply = reply;
    if (r.from === '') return;
    a.done = true;
    this.onReply(r);
  }

  private reached(a: Attempt, rtt: number | null): ProbeReply {
    return {
      id: a.id, stamp: rtt !== null ? a.sendStamp + rtt : this.config.clock.realtimeStamp(), from: this.config.target,
      icmp: null, annotation: null, final: true, reached: true, mtu: null, ...NO_EXTENSIONS, replyTtl: null, flags: [],
    };
  }
}
