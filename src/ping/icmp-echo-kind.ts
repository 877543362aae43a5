// ICMP echo requests as a probe kind: the echo template lays the probes out, reply-matcher.ts
// classifies what comes back (echo replies, ICMP errors quoting our requests, local errors).

import type { IcmpMessage } from '../socket/icmp-socket.js';
import type { PingSocket } from './backend.js';
import { EchoTemplate } from './echo-template.js';
import type { PayloadLayout } from './payload.js';
import type { ProbeKind } from './probe-kind.js';
import { classifyMessage, type MatchContext, type MatchResult } from './reply-matcher.js';

export class IcmpEchoKind implements ProbeKind {
  readonly method = 'icmp' as const;
  readonly port = null;
  readonly slotSize: number;
  private readonly echo: EchoTemplate;
  private readonly ctx: MatchContext;

  constructor(socket: PingSocket, payload: PayloadLayout) {
    const mode = socket.mode === 'dgram' ? 'dgram' : 'raw';
    this.ctx = { family: socket.family, mode, identifier: socket.identifier, payload };
    // the identifier is ours on raw sockets (ping sockets put in their own)
    this.echo = new EchoTemplate(socket.family, socket.identifier, payload);
    this.slotSize = 8 + payload.size;
  }

  prefill(data: Buffer, slotSize: number, capacity: number): void {
    // only the engine writes the batch, always echo requests from this template: lay it out
    // once, and each probe then writes just its sequence numbers and checksum
    this.echo.prefill(data, slotSize, capacity);
  }

  write(data: Buffer, off: number, seq32: number): number {
    return this.echo.write(data, off, seq32, true);
  }

  classify(m: IcmpMessage, out: MatchResult): MatchResult {
    return classifyMessage(m, this.ctx, out);
  }

  forget(): void {}
}
