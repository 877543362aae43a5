// Options of multipath discovery, checked at the boundary: the trace options that apply (method,
// socket, family, port, TTLs, window, waits, size, source, device, tos, names) plus the
// confidence of the stopping rule. tcp-connect is refused: the kernel picks each connect()'s
// source port, so a probe's flow cannot be chosen.
import { optionRangeError } from '../../errors.js';
import { checkObject, checkOptionalNumber } from '../../validate.js';
import { resolveOptions, type ResolvedOptions } from '../options.js';

export const DEFAULT_CONFIDENCE = 95;
export const MIN_CONFIDENCE = 50;
export const MAX_CONFIDENCE = 99.9999;
/** silent TTLs in a row after which a branch is given up */
export const MULTIPATH_GAP_LIMIT = 3;

export interface ResolvedMultipathOptions extends ResolvedOptions {
  method: 'icmp' | 'udp' | 'tcp';
  /** fraction in (0, 1) */
  confidence: number;
  algorithm: 'lite' | 'full';
}

export function resolveMultipathOptions(raw: unknown): ResolvedMultipathOptions {
  const o = checkObject('options', raw);
  if (o.method === 'tcp-connect') {
    throw optionRangeError('method', '"icmp", "udp" or "tcp" for multipath discovery (tcp-connect cannot choose its flow: the kernel picks each connect() source port)', o.method);
  }
  const confidence = checkOptionalNumber('confidence', o.confidence, MIN_CONFIDENCE, MAX_CONFIDENCE, DEFAULT_CONFIDENCE);
  const algorithm = o.algorithm ?? 'lite';
  if (algorithm !== 'lite' && algorithm !== 'full') throw optionRangeError('algorithm', '"lite" or "full"', algorithm);
  // flows are per probe: the transport runs Paris (probes told apart by sequence, not by port)
  const base = resolveOptions({ ...o, flow: 'paris', queries: undefined, discoverMtu: false });
  return { ...base, method: base.method as 'icmp' | 'udp' | 'tcp', confidence: confidence / 100, algorithm };
}
