// The SeqpacketBackend contract (test/contract/seqpacket-backend.ts) against the native addon:
// real AF_UNIX SOCK_SEQPACKET socketpairs and libuv polls (no privilege needed).
import { systemBackend } from '../../src/seqpacket/backend.js';
import { describeSeqpacketBackendContract } from '../contract/seqpacket-backend.js';

/**
 * Two check phases apart there is always a poll phase in between: whatever was ready before
 * the first is reported by then (libuv reads epoll in the poll phase).
 */
async function loopTurn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
}

describeSeqpacketBackendContract('system', systemBackend, { loopTurn });
