// How answers and failures reach the engine from socket callbacks: never from inside send()
// (an answer found while sending waits for the next turn of the loop), and never as an
// exception thrown up into the addon's poll callback (which would abort).
import type { ProbeReply } from '../transport.js';

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
