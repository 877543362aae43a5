// Base of the transports that build packets in user space on a raw socket (the sender) and read
// ICMP errors whole from a raw ICMP socket (errors) filtered to quotes of their source ports.
// The caller holds those ports with bound sockets and releases them in onClose.
import type { IcmpMessage, IcmpSocket } from '../../socket/icmp-socket.js';
import { isPendingSocketError } from '../../socket/pending-errors.js';
import type { ProbeSocket } from '../../socket/probe-socket.js';
import { DrainingTransport } from './draining-transport.js';
import type { TransportConfig } from './transport-config.js';

/** Pending errors in a row one drain reads past before it leaves the rest to the next poll. */
const PENDING_READS = 64;

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
   * Reads the ICMP socket's errors whole. An ICMP error that quotes an ICMP packet also leaves a
   * pending error on this socket, which fails the next read once (EHOSTUNREACH, seen under CI).
   * This socket sends nothing, so such an error is never its own: the queues are emptied and
   * the read goes on; a stream of them (answers that keep quoting ICMP, faster than we read)
   * ends this look, not the trace, and the next poll reads on.
   */
  protected drainErrors(onMessage: (m: IcmpMessage) => void): void {
    for (let attempt = 0; attempt < PENDING_READS; attempt++) {
      try {
        this.errors.drain(false, onMessage);
        return;
      } catch (e) {
        if (!isPendingSocketError(e)) throw e;
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
