// ICMP/ICMPv6 echo and error messages with RFC 4884/4950 extensions and quoted datagrams
// (src/packet/icmp.ts, icmp-error-parse.ts, icmp-extensions.ts): the decoders never throw, every
// offset/length they report lies inside the message, quoted addresses print as Node prints them,
// and echo and extension structures survive decode -> encode -> decode.
import type { IpFamily } from '../../../src/packet/address.js';
import { parseEcho, writeEcho } from '../../../src/packet/icmp.js';
import { parseIcmpError } from '../../../src/packet/icmp-error-parse.js';
import { parseIcmpExtensions, writeIcmpExtensions, icmpExtensionsLength } from '../../../src/packet/icmp-extensions.js';
import { ipv4HeaderLength } from '../../../src/packet/ipv4.js';
import { check, checkWindow, nodeIPv4, nodeIPv6, onlyTypedErrors } from '../invariants.js';

function echo(data: Buffer, off: number, family: IpFamily): void {
  const m = onlyTypedErrors(() => parseEcho(data, off, undefined, family), [], 'parseEcho');
  if (!m) return;
  checkWindow('echo payload', m.payloadOffset, m.payloadLength, off, data.length);
  const out = Buffer.alloc(8 + m.payloadLength);
  writeEcho(out, 0, { family, type: m.type, code: m.code, id: m.id, seq: m.seq, payload: data.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength) });
  const again = parseEcho(out, 0, out.length, family);
  check(again !== null && again.type === m.type && again.code === m.code && again.id === m.id && again.seq === m.seq
    && again.payloadLength === m.payloadLength, 'echo fields changed in the round trip');
  check(out.subarray(8).equals(data.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength)), 'echo payload changed in the round trip');
}

function extensionsRoundTrip(data: Buffer, off: number, len: number): void {
  const ext = onlyTypedErrors(() => parseIcmpExtensions(data, off, len), [], 'parseIcmpExtensions');
  if (!ext) return;
  for (const o of ext.objects) {
    checkWindow('extension object data', o.dataOffset, o.dataLength, off, off + len);
    check(o.length === o.dataLength + 4, `extension object length ${o.length} is not 4 + data ${o.dataLength}`);
    if (o.mpls) check(o.mpls.length === Math.floor(o.dataLength / 4), 'MPLS entry count does not match the object size');
  }
  if (ext.truncated) return;
  const objects = ext.objects.map((o) => ({ classNum: o.classNum, cType: o.cType, data: data.subarray(o.dataOffset, o.dataOffset + o.dataLength) }));
  const out = Buffer.alloc(icmpExtensionsLength(objects));
  writeIcmpExtensions(out, 0, objects);
  check(out.length === len, `extension structure re-encodes to ${out.length} bytes, parsed from ${len}`);
  const again = parseIcmpExtensions(out, 0, out.length);
  check(again !== null && again.checksumValid && !again.truncated && again.objects.length === ext.objects.length, 'extension structure changed in the round trip');
  check(JSON.stringify(again.mpls) === JSON.stringify(ext.mpls), 'MPLS entries changed in the round trip');
}

function icmpError(data: Buffer, off: number, family: IpFamily): void {
  const e = onlyTypedErrors(() => parseIcmpError(data, off, undefined, family), [], 'parseIcmpError');
  if (!e) return;
  checkWindow('quoted datagram', e.quoteOffset, e.quoteLength, off, data.length);
  if (e.gateway !== null) check(e.gateway === nodeIPv4(data, off + 4), `redirect gateway ${e.gateway} is not Node's text`);
  const q = e.quote;
  if (q) {
    checkWindow('quoted transport', q.transportOffset, q.transportLength, e.quoteOffset, e.quoteOffset + e.quoteLength);
    if (q.transport) check(q.transportLength >= 8, 'a quoted transport header decoded from fewer than 8 bytes');
    if (q.ip.version === 4) {
      check(q.ip.src === nodeIPv4(data, e.quoteOffset + 12) && q.ip.dst === nodeIPv4(data, e.quoteOffset + 16), 'quoted IPv4 address text is not Node\'s');
    } else {
      check(q.ip.src === nodeIPv6(data, e.quoteOffset + 8) && q.ip.dst === nodeIPv6(data, e.quoteOffset + 24), 'quoted IPv6 address text is not Node\'s');
    }
  }
  if (e.extensions) {
    const extOff = e.extensions.objects[0]?.dataOffset;
    if (extOff !== undefined) check(extOff >= e.quoteOffset + e.quoteLength, 'extension objects overlap the quoted datagram');
    const start = e.quoteOffset + (e.extensionForm === 'compliant' ? Math.max(e.quoteLength, 128) : 128);
    extensionsRoundTrip(data, start, data.length - start);
  }
}

export function fuzz(data: Buffer): void {
  for (const family of [4, 6] as const) {
    echo(data, 0, family);
    icmpError(data, 0, family);
  }
  // a raw IPv4 socket hands the IP header too
  const ihl = onlyTypedErrors(() => ipv4HeaderLength(data, 0, data.length), [], 'ipv4HeaderLength') ?? 0;
  if (ihl > 0) {
    check(ihl <= data.length, `IPv4 header length ${ihl} past the input`);
    echo(data, ihl, 4);
    icmpError(data, ihl, 4);
  }
  extensionsRoundTrip(data, 0, data.length);
}
