// Traceroute's reply decoding (src/traceroute/reply-decoding.ts) over hostile ICMP errors: the
// extension search of the error-queue path and the raw-socket path never throw, report MPLS
// entries in range, and only for structures that lie inside the bytes given.
import type { IpFamily } from '../../../src/packet/address.js';
import { parseIcmpError } from '../../../src/packet/icmp-error-parse.js';
import { decodeError, extensionInfo, queuedExtensions } from '../../../src/traceroute/reply-decoding.js';
import { check, onlyTypedErrors } from '../invariants.js';

function checkInfo(what: string, info: { mpls: { label: number; exp: number; s: number; ttl: number }[]; extensions: string | null }): void {
  for (const m of info.mpls) {
    check(m.label >= 0 && m.label <= 0xfffff && m.exp <= 7 && (m.s === 0 || m.s === 1) && m.ttl <= 255, `${what}: MPLS entry out of range ${JSON.stringify(m)}`);
  }
  if (info.mpls.length > 0) check(info.extensions !== null && info.extensions.includes('MPLS:'), `${what}: MPLS entries without their text`);
}

export function fuzz(data: Buffer): void {
  if (data.length < 4) return;
  const family: IpFamily = (data[0]! & 1) === 0 ? 4 : 6;
  const headerLength = data[1]! % 160;
  const sentPayload = data[2]! * 8;
  const body = data.subarray(4);
  // error queue: type/code come from sock_extended_err, the bytes are the quote after the probe headers
  const type = data[3]!;
  const decoded = onlyTypedErrors(() => decodeError(family, type, data[2]!, body.length >= 4 ? body.readUInt32BE(0) : null), [], 'decodeError');
  if (decoded?.reached) check(decoded.final, 'a reply that reached the destination does not end the trace');
  const start = Math.min(body.length, data[1]! & 7);
  const queued = onlyTypedErrors(() => queuedExtensions(family, type, body, start, body.length - start, headerLength, sentPayload), [], 'queuedExtensions');
  if (queued) checkInfo('queuedExtensions', queued);
  // raw socket: the whole ICMP message
  const e = onlyTypedErrors(() => parseIcmpError(body, 0, body.length, family), [], 'parseIcmpError');
  if (e) {
    const info = onlyTypedErrors(() => extensionInfo(body, e.extensions), [], 'extensionInfo');
    if (info) checkInfo('extensionInfo', info);
  }
}
