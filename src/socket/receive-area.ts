// Where one native recvBatch puts its messages: SLOT bytes per datagram, the per-message
// metadata (RecvMeta) and the source/offender addresses, for up to BATCH messages. Also the
// decoding of an error-queue entry's metadata into a QueuedError.
import { RECV_ADDR_STRIDE, RECV_META_STRIDE, RecvMeta } from '../native.js';
import { readAddress } from './address-bytes.js';
import type { QueuedError } from './received-message.js';

/** bytes per received datagram (longer ones arrive truncated) */
export const SLOT = 2048;
/** datagrams per native read */
export const BATCH = 64;

export class ReceiveArea {
  readonly buf = Buffer.alloc(SLOT * BATCH);
  readonly meta = new Float64Array(RECV_META_STRIDE * BATCH);
  readonly addrs = Buffer.alloc(RECV_ADDR_STRIDE * BATCH);
  /** for a read kept for later: messages [next, count) not handed out yet; errno of a failed read */
  next = 0;
  count = 0;
  errno = 0;
}

/** The sock_extended_err of error-queue message i. */
export function queuedErrorAt(area: ReceiveArea, i: number): QueuedError {
  const meta = area.meta;
  const m = i * RECV_META_STRIDE;
  const offFam = meta[m + RecvMeta.offenderFamily]!;
  return {
    errno: meta[m + RecvMeta.eeErrno]!,
    origin: meta[m + RecvMeta.eeOrigin]!,
    type: meta[m + RecvMeta.eeType]!,
    code: meta[m + RecvMeta.eeCode]!,
    info: meta[m + RecvMeta.eeInfo]!,
    // a link-local offender has the scope of the error's arrival, which the destination's shows
    offender: offFam === 4 || offFam === 6 ? readAddress(area.addrs, i * RECV_ADDR_STRIDE + 16, offFam, meta[m + RecvMeta.scopeId]!) : null,
  };
}
