// Backpressure for `netdiag ipc listen`: a connection is read only while what reading makes
// can go out. Its echo (send() returned false: the peer does not read) pauses that connection
// until 'drain'; a backlogged stdout (a slow pipe) pauses every connection until it drains.
// Unread messages then wait in the kernel and the peer's own send() blocks, instead of the
// listener growing by every message the peer offers.
import type { SeqpacketSocket } from '../../seqpacket/index.js';
import { outputDrained, type Output } from '../output.js';

export class ListenFlowControl {
  private readonly sockets = new Set<SeqpacketSocket>();
  /** connections whose echo waits for 'drain' */
  private readonly echoBlocked = new Set<SeqpacketSocket>();
  private stdoutBlocked = false;

  constructor(private readonly out: Output) {}

  /** A new connection: read from it unless stdout is backlogged. */
  add(socket: SeqpacketSocket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.echoBlocked.delete(socket);
    });
    if (this.stdoutBlocked) socket.pause();
  }

  /** Call when socket.send() returned false. */
  echoBacklogged(socket: SeqpacketSocket): void {
    if (this.echoBlocked.has(socket) || socket.destroyed) return;
    this.echoBlocked.add(socket);
    socket.pause();
    socket.once('drain', () => {
      this.echoBlocked.delete(socket);
      this.resumeIfClear(socket);
    });
  }

  /** Call after writing to stdout. */
  wrote(): void {
    if (this.stdoutBlocked || this.out.backlogged !== true) return;
    this.stdoutBlocked = true;
    for (const s of this.sockets) s.pause();
    void outputDrained(this.out).then(() => {
      this.stdoutBlocked = false;
      for (const s of this.sockets) this.resumeIfClear(s);
    });
  }

  private resumeIfClear(socket: SeqpacketSocket): void {
    if (!this.stdoutBlocked && !this.echoBlocked.has(socket) && !socket.destroyed) socket.resume();
  }
}
