// Pieces every real transport shares: its configuration, errno handling shaped like the addon's
// errors, the send-outcome bookkeeping of a SendBatch, answers held back so they are never
// delivered from inside send(), and poll callbacks whose errors reach the engine.
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { SendBatch } from '../../socket/send-batch.js';
import { SEND_DESC_STRIDE, SEND_OUT_STRIDE } from '../../native.js';
import type { TraceClock } from '../clock.js';
import type { ProbeReply, ProbeRequest, SendOutcome } from '../transport.js';
import type { TracerouteFlow } from '../types.js';

export const ERRNO = osConstants.errno;

export interface TransportConfig {
  family: 4 | 6;
  /** destination address, a link-local one with its %ifname (as replies' sources are spelled) */
  target: string;
  /** sin6_scope_id of the sends: the interface of a link-local target; none (0) otherwise */
  scopeId?: number;
  /** the address probes leave from (see source-address.ts) */
  source: string;
  /** destination port (udp, tcp, tcp-connect) */
  port: number;
  flow: TracerouteFlow;
  tos?: number;
  device?: string;
  /** DF and path MTU discovery probing (traceroute --mtu) */
  pmtu: 'dont' | 'probe';
  /** decode RFC 4884 extensions */
  extensions: boolean;
  clock: TraceClock;
}

/** Bytes of the IP header in front of a probe (no options). */
export function ipHeaderLength(family: 4 | 6): number {
  return family === 4 ? 20 : 40;
}

/** An Error like the addon's (code, errno, syscall), so the CLI explains it the same way. */
export function systemError(errno: number, syscall: string): Error {
  const [code, text] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, 'unknown error'];
  const e = new Error(`${code}: ${text}, ${syscall}`) as Error & { code: string; errno: number; syscall: string };
  e.code = code;
  e.errno = errno;
  e.syscall = syscall;
  return e;
}

/** errnos a socket's pending error (sk_err) takes after an ICMP error arrived (IP_RECVERR) */
// (the kernel's icmp_err_convert / icmpv6_err_convert values; EHOSTDOWN 112, ENONET 64 and
// EREMOTEIO 121 — source quench and redirects on ping sockets — are missing from Node's table;
// EMSGSIZE may be a router's fragmentation-needed, or a local limit that repeats)
const PENDING_SEND_ERRORS = new Set<number>([
  ERRNO.ECONNREFUSED, ERRNO.EHOSTUNREACH, ERRNO.ENETUNREACH, ERRNO.EPROTO, ERRNO.EACCES, ERRNO.ENOPROTOOPT, ERRNO.EOPNOTSUPP,
  ERRNO.EMSGSIZE, 112, 64, 121,
]);
/** how often one message is tried again after such an error before the error counts as real */
const PENDING_SEND_RETRIES = 16;

/**
 * Sends a batch, then sends again each message that met the socket's pending error: with
 * IP_RECVERR, an ICMP error for an earlier probe also sets the socket error, which the next
 * sendmsg on a UDP or ping socket returns (and clears) instead of sending. Answers arrive
 * between the messages of one batch on fast paths, so this is routine. A message that keeps
 * failing the same way has a real problem (no route), which the caller then sees in its errno.
 */
export function sendBatchThroughPendingErrors(send: (b: SendBatch) => number, batch: SendBatch): number {
  const processed = send(batch);
  for (let i = 0; i < processed; i++) {
    for (let attempt = 0; attempt < PENDING_SEND_RETRIES && PENDING_SEND_ERRORS.has(batch.errno(i)); attempt++) {
      const one = new SendBatch(1, batch.slotSize);
      const d = i * SEND_DESC_STRIDE;
      const offset = batch.desc[d]!, length = batch.desc[d + 1]!;
      batch.data.copy(one.data, 0, offset, offset + length);
      one.push(length, batch.desc[d + 2] as 4 | 6 | 0, batch.addrs, i * 16, batch.desc[d + 3]!, batch.desc[d + 4]!, batch.desc[d + 5]!, batch.desc[d + 6]!);
      if (send(one) === 0) {
        batch.out[i * SEND_OUT_STRIDE + 2] = ERRNO.EAGAIN;
        break;
      }
      batch.out.set(one.out.subarray(0, SEND_OUT_STRIDE), i * SEND_OUT_STRIDE);
    }
  }
  return processed;
}

/**
 * Outcomes of a SendBatch the addon processed `processed` messages of: sent, too big (mtu from
 * localMtu), or to retry (EAGAIN/ENOBUFS stopped the batch there). Other errnos are fatal.
 */
export function sendOutcomes(batch: SendBatch, processed: number, clock: TraceClock, localMtu: () => number, syscall = 'sendmsg'): SendOutcome[] {
  const out: SendOutcome[] = [];
  for (let i = 0; i < batch.count; i++) {
    if (i >= processed) {
      out.push({ kind: 'retry' });
      continue;
    }
    const errno = batch.errno(i);
    if (errno === 0) out.push({ kind: 'sent', stamp: clock.stamp(batch.sentSec(i), batch.sentNsec(i)) });
    else if (errno === ERRNO.EMSGSIZE) out.push({ kind: 'too-big', mtu: localMtu() });
    else if (errno === ERRNO.EAGAIN || errno === ERRNO.ENOBUFS) out.push({ kind: 'retry' });
    else throw systemError(errno, syscall);
  }
  return out;
}

/** Answers found while sending (an error queue drained for a local error) go out on the next turn of the loop. */
export class DeferredReplies {
  private queue: ProbeReply[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(private readonly deliver: (r: ProbeReply) => void) {}

  push(reply: ProbeReply): void {
    this.queue.push(reply);
    if (this.scheduled === null) {
      this.scheduled = setImmediate(() => {
        this.scheduled = null;
        const q = this.queue;
        this.queue = [];
        for (const r of q) this.deliver(r);
      });
    }
  }

  cancel(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.queue = [];
  }
}

/** Runs the work of a poll callback: what it throws goes to the engine, never up into the addon (which would abort). */
export function reportingFailures(onFailure: (e: Error) => void, work: () => void): void {
  try {
    work();
  } catch (e) {
    onFailure(e as Error);
  }
}

/** A batch with a slot for each probe, as long as the longest. */
export function probeBatch(probes: readonly ProbeRequest[]): SendBatch {
  return new SendBatch(probes.length, Math.max(...probes.map((p) => p.length)));
}

/** Receive time of a datagram on the clock's stamp base (the kernel's stamp when it gave one). */
export function receiveStamp(clock: TraceClock, rxSec: number, rxNsec: number): number {
  return rxSec >= 0 ? clock.stamp(rxSec, rxNsec) : clock.realtimeStamp();
}
