// Where one native recvBatchIn puts its messages: SLOT bytes per datagram, the per-message
// metadata (RecvMeta) and the source/offender addresses, for up to BATCH messages. Also the
// decoding of an error-queue entry's metadata into a QueuedError.
import { RECV_ADDR_STRIDE, RECV_META_STRIDE, RecvMeta, type IoArea } from '../native.js';
import { readAddress } from './address-bytes.js';
import type { QueuedError } from './received-message.js';

/** bytes per received datagram (longer ones arrive truncated) */
export const SLOT = 2048;
/** datagrams per native read */
export const BATCH = 64;

const META_BYTES = RECV_META_STRIDE * BATCH * 8;
const COUNTS_BYTES = 8;
const ADDRS_BYTES = RECV_ADDR_STRIDE * BATCH;

/** The arrays share one ArrayBuffer (see SendBatch), registered with the addon as `area`. */
export class ReceiveArea {
  private readonly memory = new ArrayBuffer(META_BYTES + COUNTS_BYTES + ADDRS_BYTES + SLOT * BATCH);
  readonly meta = new Float64Array(this.memory, 0, RECV_META_STRIDE * BATCH);
  /** what a sendRecvBatchIn did: [processed, received or -errno] */
  readonly counts = new Int32Array(this.memory, META_BYTES, 2);
  readonly addrs = Buffer.from(this.memory, META_BYTES + COUNTS_BYTES, ADDRS_BYTES);
  readonly buf = Buffer.from(this.memory, META_BYTES + COUNTS_BYTES + ADDRS_BYTES, SLOT * BATCH);
  /** the addon's registration of buf, meta, addrs and counts (made by the socket that reads into it) */
  area: IoArea | null = null;
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
