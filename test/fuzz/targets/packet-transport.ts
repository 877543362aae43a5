// UDP and TCP headers (src/packet/udp.ts, tcp.ts): never throw on bytes, stay inside the input,
// and decode -> encode -> decode is stable.
import { parseTcpHeader, writeTcp } from '../../../src/packet/tcp.js';
import { parseUdpHeader, verifyUdpChecksum, writeUdp } from '../../../src/packet/udp.js';
import { check, onlyTypedErrors } from '../invariants.js';

const SRC = '127.0.0.1', DST = '127.0.0.2';

export function fuzz(data: Buffer): void {
  const udp = onlyTypedErrors(() => parseUdpHeader(data, 0, data.length), [], 'parseUdpHeader');
  if (udp) {
    const payload = data.subarray(8);
    const out = Buffer.alloc(data.length);
    const len = writeUdp(out, 0, { srcPort: udp.srcPort, dstPort: udp.dstPort, payload, src: SRC, dst: DST });
    check(len === data.length, `UDP re-encode wrote ${len} of ${data.length} bytes`);
    check(verifyUdpChecksum(out, 0, len, SRC, DST), 'UDP re-encoded datagram fails its checksum');
    const again = parseUdpHeader(out, 0, len);
    check(again?.srcPort === udp.srcPort && again.dstPort === udp.dstPort && again.length === len, 'UDP ports/length changed in the round trip');
    onlyTypedErrors(() => verifyUdpChecksum(data, 0, data.length, SRC, DST), [], 'verifyUdpChecksum');
    onlyTypedErrors(() => verifyUdpChecksum(data, 0, udp.length, '::1', '::2'), [], 'verifyUdpChecksum (claimed length)');
  }
  const tcp = onlyTypedErrors(() => parseTcpHeader(data, 0, data.length), [], 'parseTcpHeader');
  if (tcp) {
    check(tcp.headerLength % 4 === 0 && tcp.headerLength <= 60, `TCP data offset ${tcp.headerLength} is not a 4-byte multiple up to 60`);
    const out = Buffer.alloc(20);
    writeTcp(out, 0, { srcPort: tcp.srcPort, dstPort: tcp.dstPort, seq: tcp.seq, ackNumber: tcp.ackNumber, flags: tcp.flags, window: tcp.window, urgent: tcp.urgent, src: SRC, dst: DST });
    const again = parseTcpHeader(out, 0, 20);
    for (const k of ['srcPort', 'dstPort', 'seq', 'ackNumber', 'flags', 'window', 'urgent', 'syn', 'ack', 'rst', 'fin'] as const) {
      check(again?.[k] === tcp[k], `TCP ${k} changed in the round trip: ${String(tcp[k])} -> ${String(again?.[k])}`);
    }
  }
}
