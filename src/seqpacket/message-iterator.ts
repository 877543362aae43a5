// `for await (const { data, fds } of socket)`: the shared push-to-pull queue
// (src/runtime/event-queue.ts) between the socket's reads and the consumer's pace. When it
// holds readableHighWaterMark messages the socket stops reading, so a slow consumer pushes
// back on the peer through the kernel's buffers. Messages nobody will see have their fds closed.
import { AsyncEventQueue } from '../runtime/event-queue.js';

export interface MessageInfo {
  /** fds that came with the message (SCM_RIGHTS, close-on-exec): the receiver's to close */
  fds: number[];
}

export interface SeqpacketMessage extends MessageInfo {
  data: Buffer;
}

/** What the iterator needs from its socket. */
export interface IteratorHost {
  /** the queue went below the high-water mark: reading may resume */
  iteratorPulled(): void;
  /** the consumer left (break, return, throw) */
  iteratorReturned(iterator: MessageIterator, destroy: boolean): void;
  /** closes fds of messages nobody will see */
  closeMessageFds(messages: readonly SeqpacketMessage[], from: number): void;
  /** the consumer gets this message: its fds become the application's */
  handOut(message: SeqpacketMessage): void;
}

export class MessageIterator extends AsyncEventQueue<SeqpacketMessage> {
  constructor(
    private readonly host: IteratorHost,
    highWaterMark: number,
    private readonly destroyOnReturn: boolean,
  ) {
    super(
      {
        delivered: (m) => host.handOut(m),
        pulled: () => host.iteratorPulled(),
        dropped: (messages) => host.closeMessageFds(messages, 0),
      },
      highWaterMark,
    );
  }

  /** The consumer left: queued messages' fds are closed, then the socket hears of it. */
  override return(): Promise<IteratorResult<SeqpacketMessage>> {
    const wasActive = this.active;
    const result = super.return();
    if (wasActive) this.host.iteratorReturned(this, this.destroyOnReturn);
    return result;
  }
}
