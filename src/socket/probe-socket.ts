// The probe variant of the datagram socket, for non-ICMP probes (raw UDP/TCP, UDP datagram, TCP
// stream): DF off unless asked (traceroute's default), and ordinary reads step over the pending
// error an ICMP error leaves, since whoever uses these sockets reads answers from the error
// queue or from another socket.
import { DatagramSocket, type DatagramSocketOptions } from './datagram-socket.js';
import type { DatagramMessage } from './received-message.js';
import type { PmtuMode } from './socket-options.js';

export type PmtuPolicy = Extract<PmtuMode, 'dont' | 'probe'>;

export interface ProbeSocketOptions extends Omit<DatagramSocketOptions, 'pmtu' | 'readPastPendingErrors' | 'mark' | 'receiveBuffer'> {
  /** default 'dont' */
  pmtu?: PmtuPolicy;
}

/** A received datagram or error-queue entry as the transports read it. */
export type ReceivedDatagram = Omit<DatagramMessage, 'tos' | 'sourceEquals'>;

export class ProbeSocket extends DatagramSocket {
  constructor(opts: ProbeSocketOptions) {
    super({ ...opts, pmtu: opts.pmtu ?? 'dont', readPastPendingErrors: true });
  }
}
