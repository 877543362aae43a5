// IPv4 and IPv6 headers (src/packet/ipv4.ts, ipv6.ts): the decoders never throw, lengths stay
// inside the input, addresses print as Node prints them, and decode -> encode -> decode is stable.
import { parseIPv4Header, verifyIPv4HeaderChecksum, writeIPv4Header } from '../../../src/packet/ipv4.js';
import { IPV6_HEADER_LENGTH, parseIPv6Header, skipIPv6ExtensionHeaders, writeIPv6Header } from '../../../src/packet/ipv6.js';
import { check, nodeIPv4, nodeIPv6, onlyTypedErrors } from '../invariants.js';

function ipv4(data: Buffer): void {
  const h = onlyTypedErrors(() => parseIPv4Header(data, 0, data.length), [], 'parseIPv4Header');
  if (!h) return;
  check(h.headerLength >= 20 && h.headerLength <= 60 && h.headerLength <= data.length, `IPv4 header length ${h.headerLength} outside the input`);
  check(h.src === nodeIPv4(data, 12) && h.dst === nodeIPv4(data, 16), `IPv4 address text ${h.src} ${h.dst} is not Node's`);
  if (h.totalLength < h.headerLength) return; // the encoder refuses it, as it should
  const out = Buffer.alloc(60);
  const written = writeIPv4Header(out, 0, {
    tos: h.tos, totalLength: h.totalLength, id: h.id, dontFragment: h.dontFragment, moreFragments: h.moreFragments,
    fragmentOffset: h.fragmentOffset, ttl: h.ttl, protocol: h.protocol, src: h.src, dst: h.dst,
    options: data.subarray(20, h.headerLength),
  });
  check(written === h.headerLength, `IPv4 re-encode wrote ${written} bytes for a ${h.headerLength}-byte header`);
  check(verifyIPv4HeaderChecksum(out, 0, written), 'IPv4 re-encoded header fails its own checksum');
  const again = parseIPv4Header(out, 0, written);
  check(again !== null, 'IPv4 re-encoded header does not parse');
  for (const k of ['tos', 'totalLength', 'id', 'flags', 'fragmentOffset', 'ttl', 'protocol', 'src', 'dst'] as const) {
    // the reserved flag bit is not encodable: compare DF/MF only
    if (k === 'flags') check((again.flags & 3) === (h.flags & 3), 'IPv4 DF/MF changed in the round trip');
    else check(again[k] === h[k], `IPv4 ${k} changed in the round trip: ${String(h[k])} -> ${String(again[k])}`);
  }
}

function ipv6(data: Buffer): void {
  const h = onlyTypedErrors(() => parseIPv6Header(data, 0, data.length), [], 'parseIPv6Header');
  if (!h) return;
  check(h.src === nodeIPv6(data, 8) && h.dst === nodeIPv6(data, 24), `IPv6 address text ${h.src} ${h.dst} is not Node's`);
  const out = Buffer.alloc(IPV6_HEADER_LENGTH);
  writeIPv6Header(out, 0, h);
  check(out.equals(data.subarray(0, IPV6_HEADER_LENGTH)), 'IPv6 header bytes changed in the decode -> encode round trip');
  const upper = onlyTypedErrors(() => skipIPv6ExtensionHeaders(data, IPV6_HEADER_LENGTH, data.length - IPV6_HEADER_LENGTH, h.nextHeader), [], 'skipIPv6ExtensionHeaders');
  if (upper) check(upper.offset >= IPV6_HEADER_LENGTH && upper.offset <= data.length, `IPv6 upper-layer offset ${upper.offset} outside the input`);
}

export function fuzz(data: Buffer): void {
  ipv4(data);
  ipv6(data);
  // the same bytes as an extension-header chain starting right away, under a window
  const window = data.length > 0 ? data[0] : 0;
  const upper = onlyTypedErrors(() => skipIPv6ExtensionHeaders(data, 1, window, data.length > 1 ? data[1] : 0), [], 'skipIPv6ExtensionHeaders');
  if (upper) check(upper.offset >= 1 && upper.offset <= Math.min(data.length, 1 + window), `extension walk ended at ${upper.offset}, past its window`);
}
