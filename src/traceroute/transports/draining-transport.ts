// Base of the transports that read their answers by draining sockets (raw, ping and UDP
// sockets): the engine's callbacks, one drain at a time, nothing read after close, errors
// thrown while reading handed to the engine, answers found while sending held back, and the
// local MTU read from an error queue. Subclasses say which sockets to start, drain and close.
import { constants } from 'node:os';
import { writeAddress } from '../../socket/address-bytes.js';
import type { FlowLabelLeases } from '../../socket/flow-label-leases.js';
import { ORIGIN_LOCAL, type QueuedError } from '../../socket/received-message.js';
import type { SendBatch } from '../../socket/send-batch.js';
import type { ProbeReply, SendOutcome } from '../transport.js';
import type { TracerouteFlow } from '../types.js';
import { sendProbeBatch } from './probe-batch.js';
import { DeferredReplies, reportingFailures } from './reply-delivery.js';
import type { TransportConfig } from './transport-config.js';

/** What the base needs of a probe socket (ProbeSocket or IcmpSocket) to send and read errors. */
interface SendingSocket<M> {
  send(batch: SendBatch): number;
  drain(errorQueue: boolean, onMessage: (m: M) => void): number;
}

export abstract class DrainingTransport {
  readonly family: 4 | 6;
  readonly flow: TracerouteFlow;
  /** the destination as the addon's 16-byte address */
  protected readonly dest = Buffer.alloc(16);
  protected onReply: (r: ProbeReply) => void = () => {};
  protected onFailure: (e: Error) => void = () => {};
  protected closed = false;
  /** set while a drain runs: a nested one would overwrite the buffers the outer one reads */
  protected draining = false;
  private deferred: DeferredReplies | null = null;
  /** IPv6 multipath flows: the flow labels the sending socket leased, or the kernel's own ('automatic', UDP) */
  private flowLabels: FlowLabelLeases | 'automatic' | null = null;

  constructor(protected readonly config: TransportConfig) {
    this.family = config.family;
    this.flow = config.flow;
    writeAddress(config.target, this.dest, 0);
  }

  start(onReply: (r: ProbeReply) => void, onFailure: (e: Error) => void): void {
    this.onReply = onReply;
    this.onFailure = onFailure;
    this.deferred = new DeferredReplies(onReply);
    this.startSockets();
  }

  poll(): void {
    this.read(true, true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deferred?.cancel();
    this.closeSockets();
  }

  /**
   * IPv6 multipath: flows carry the labels of `leases` (leased on the socket the transport sends
   * from), or 'automatic': the kernel labels each by its ports (flow-label-leases.ts).
   */
  useFlowLabels(labels: FlowLabelLeases | 'automatic'): void {
    this.flowLabels = labels;
  }

  /** See ProbeTransport.flowLabelStatus. */
  flowLabelStatus(flows: number): { labelled: number; refused: string | null } | null {
    if (this.flowLabels === null) return null;
    if (this.flowLabels === 'automatic') return { labelled: flows, refused: null };
    const labelled = this.flowLabels.labelledOf(flows);
    return { labelled, refused: labelled < flows ? this.flowLabels.refused ?? 'not leased' : null };
  }

  /** The IPv6 flow label of a multipath flow (0 for the transport's own flow, and where the kernel chooses): flows differ in it as in ports or checksum. */
  protected flowLabel(flow: number | undefined): number {
    return flow === undefined || this.flowLabels === null || this.flowLabels === 'automatic' ? 0 : this.flowLabels.labelFor(flow);
  }

  /** Starts polling the sockets, each calling onSocketEvent. */
  protected abstract startSockets(): void;
  /** Reads the receive queues (readable) and the error queues (errorQueue) of the sockets. */
  protected abstract drainSockets(readable: boolean, errorQueue: boolean): void;
  protected abstract closeSockets(): void;

  protected read(readable: boolean, errorQueue: boolean): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      this.drainSockets(readable, errorQueue);
    } finally {
      this.draining = false;
    }
  }

  /** A socket's poll callback: reads what it signalled. */
  protected onSocketEvent(readable: boolean, errorQueue: boolean): void {
    reportingFailures(this.onFailure, () => this.read(readable, errorQueue));
  }

  /** Hands a reply to the engine; one found while sending waits for the next turn of the loop. */
  protected deliver(reply: ProbeReply, whileSending: boolean): void {
    if (whileSending) this.deferred?.push(reply);
    else this.onReply(reply);
  }

  /**
   * Sends a batch of probes on `sock` and reports their outcomes. A local EMSGSIZE's MTU comes
   * from sock's error queue; its other entries, read on the way, go to `answer`.
   */
  protected sendProbes<M extends { queued: QueuedError | null }>(sock: SendingSocket<M>, batch: SendBatch, answer: (m: M) => void = () => {}): SendOutcome[] {
    return sendProbeBatch((b) => sock.send(b), batch, this.config.clock, () => this.localMtu(sock, answer));
  }

  private localMtu<M extends { queued: QueuedError | null }>(sock: SendingSocket<M>, answer: (m: M) => void): number {
    let mtu = 0;
    // sending from inside a drain (an answer led to a resend) cannot read the queue now
    if (this.draining) return mtu;
    sock.drain(true, (m) => {
      if (m.queued?.origin === ORIGIN_LOCAL && m.queued.errno === constants.errno.EMSGSIZE) mtu = m.queued.info;
      else answer(m);
    });
    return mtu;
  }
}
