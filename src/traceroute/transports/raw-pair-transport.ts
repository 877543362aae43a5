// Base of the transports that build packets in user space on a raw socket (the sender) and read
// ICMP errors whole from a raw ICMP socket (errors) filtered to quotes of their source ports.
// The caller holds those ports with bound sockets and releases them in onClose.
import type { IcmpSocket } from '../../socket/icmp-socket.js';
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

  protected override closeSockets(): void {
    this.sender.close();
    this.errors.close();
    this.onClose();
  }
}
