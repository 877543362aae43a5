// -K: closes each listed inet socket with SOCK_DESTROY (the kernel aborts it: the peer of a
// TCP connection sees a reset) and keeps the rows of those that were closed, as ss -K
// prints only what it closed. Needs CAP_NET_ADMIN: EPERM becomes a PrivilegeError.
import { PrivilegeError, UsageError } from '../../errors.js';
import { AF_INET, AF_INET6, IPPROTO_RAW, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../../sockets/netlink/sock-diag-messages.js';
import type { SocketScan } from '../../sockets/scan.js';
import { selectRows, type SocketRows } from '../../sockets/socket-rows.js';

const PROTOCOLS: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, udplite: IPPROTO_UDPLITE, raw: IPPROTO_RAW };
const EPERM = 1;
const EACCES = 13;
const ENOENT = 2;

/** Destroys every inet socket in rows; returns the rows of those the kernel closed. */
export function destroyRows(scan: SocketScan, rows: SocketRows): SocketRows {
  const diag = scan.diagSocket;
  const ids = rows.netlink?.ids;
  const protocol = PROTOCOLS[rows.table.protocol];
  // unix sockets cannot be destroyed
  if (protocol === undefined || rows.length === 0) return selectRows(rows, []);
  if (diag === null || ids === undefined) {
    // read from /proc: sock_diag cannot name these sockets to the kernel
    throw new UsageError(`-K cannot close ${rows.table.protocol} sockets here: sock_diag does not list them on this system`, 'narrow the filter to the protocols it lists, e.g. -t or -u');
  }
  const family = rows.table.family === 'inet' ? AF_INET : AF_INET6;
  const closed: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const id = ids[i];
    if (!id) continue;
    const errno = diag.destroy({ family, protocol, id });
    if (errno === 0) closed.push(i);
    else if (errno === EPERM || errno === EACCES) {
      throw new PrivilegeError('closing sockets (-K) needs CAP_NET_ADMIN', 'run netdiag as root or give it cap_net_admin');
    } else if (errno !== ENOENT) {
      // gone meanwhile (ENOENT) is fine; anything else (EOPNOTSUPP: no CONFIG_INET_DIAG_DESTROY) is said once
      throw new Error(`SOCK_DESTROY failed with errno ${errno} (the kernel needs CONFIG_INET_DIAG_DESTROY)`);
    }
  }
  return selectRows(rows, closed);
}
