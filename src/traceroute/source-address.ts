// The address the kernel will send from toward a destination: connect() a UDP socket (no packet
// is sent) and read its name. Checksums over pseudo headers (UDP, TCP, ICMPv6 Paris) and the
// quotes of ICMP errors are about this address.
import { interfaceNameOf } from '../socket/address-bytes.js';
import { native } from '../native.js';

export function sourceAddressFor(family: 4 | 6, destination: string, opts: { device?: string; source?: string; scopeId?: number } = {}): string {
  if (opts.source !== undefined) return opts.source;
  const n = native();
  const C = n.constants;
  const fd = n.socket(family === 6 ? C.AF_INET6 : C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP);
  try {
    if (opts.device !== undefined) n.setsockoptBuffer(fd, C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'));
    n.connect(fd, family, destination, 9, opts.scopeId ?? 0);
    const name = n.getsockname(fd);
    if (!name.address) throw new Error(`no source address toward ${destination}`);
    // a link-local source keeps its interface, or binding to it fails (EINVAL)
    return name.scopeId ? `${name.address}%${interfaceNameOf(name.scopeId)}` : name.address;
  } finally {
    n.close(fd);
  }
}
