// The address the kernel will send from toward a destination: connect() a UDP socket (no packet
// is sent) and read its name. Checksums over pseudo headers (UDP, TCP, ICMPv6 Paris) and the
// quotes of ICMP errors are about this address. A SourceAddressFinder keeps its socket for many
// destinations (a connected UDP socket may connect again: one routing lookup per target).
import { interfaceNameOf } from './address-bytes.js';
import { native } from '../native.js';

export class SourceAddressFinder {
  private fd = -1;

  constructor(
    private readonly family: 4 | 6,
    /** SO_BINDTODEVICE: the route out of this interface */
    private readonly device?: string,
  ) {}

  /** The source address toward destination (with its %zone when link-local). */
  toward(destination: string, scopeId = 0): string {
    const n = native();
    const C = n.constants;
    if (this.fd < 0) {
      const fd = n.socket(this.family === 6 ? C.AF_INET6 : C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP);
      try {
        if (this.device !== undefined) n.setsockoptBuffer(fd, C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(this.device + '\0'));
      } catch (e) {
        n.close(fd);
        throw e;
      }
      this.fd = fd;
    }
    n.connect(this.fd, this.family, destination, 9, scopeId);
    const name = n.getsockname(this.fd);
    if (!name.address) throw new Error(`no source address toward ${destination}`);
    // a link-local source keeps its interface, or binding to it fails (EINVAL)
    return name.scopeId ? `${name.address}%${interfaceNameOf(name.scopeId)}` : name.address;
  }

  close(): void {
    if (this.fd >= 0) native().close(this.fd);
    this.fd = -1;
  }
}

/** The source address toward one destination: opts.source when given, else the kernel's choice. */
export function sourceAddressFor(family: 4 | 6, destination: string, opts: { device?: string; source?: string; scopeId?: number } = {}): string {
  if (opts.source !== undefined) return opts.source;
  const finder = new SourceAddressFinder(family, opts.device);
  try {
    return finder.toward(destination, opts.scopeId);
  } finally {
    finder.close();
  }
}
