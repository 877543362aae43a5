// Base of the transports that build packets in user space on a raw socket (the sender) and read
// ICMP errors whole from a raw ICMP socket (errors) filtered to quotes of their source ports.
// The caller holds those ports with bound sockets and releases them in onClose.
import type { IcmpMessage, IcmpSocket } from '../../socket/icmp-socket.js';
import { isPendingSocketError } from '../../socket/pending-errors.js';
import type { ProbeSocket } from '../../socket/probe-socket.js';
import { DrainingTransport } from './draining-transport.js';
import type { TransportConfig } from './transport-config.js';

export abstract class RawPairTransport extends DrainingTransport {
  constructor(
    protected readonly sender: ProbeSocket,
    protected readonly errors: IcmpSocket,
    protected readonly sourcePort: number,
    config: TransportConfig,
    private readonly onClose: () => void,
  ) {
    super(config);
  }

  /**
   * Empties both error queues: what lands there copies errors the ICMP socket reads whole, and
   * the one entry that matters (a local EMSGSIZE) is read while sending.
   */
  protected discardErrorQueues(): void {
    this.sender.drain(true, () => {});
    this.errors.drain(true, () => {});
  }

  /**
   * Reads the ICMP socket's errors whole. With IP_RECVERR an ICMP error also leaves a pending
   * error that fails the next read once (EHOSTUNREACH, seen under CI): the queues are emptied
   * and the read goes on, as the ICMP transport does.
   */
  protected drainErrors(onMessage: (m: IcmpMessage) => void): void {
    for (let attempt = 0; ; attempt++) {
      try {
        this.errors.drain(false, onMessage);
        return;
      } catch (e) {
        if (attempt >= 8 || !isPendingSocketError(e)) throw e;
        this.discardErrorQueues();
      }
    }
  }

  protected override closeSockets(): void {
    this.sender.close();
    this.errors.close();
    this.onClose();
  }
}
