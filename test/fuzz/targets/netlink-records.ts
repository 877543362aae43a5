// The netlink sock_diag reply walker and record parsers (src/sockets/netlink/sock-diag-records.ts):
// every record handed on lies inside the bytes received, nothing throws on hostile records
// (a malformed record is counted, not thrown), ports are in range and addresses print as Node
// prints them. The request sequence is taken from the first message, so captured dumps replay.
import { isIP, SocketAddress } from 'node:net';
import { AddressBook } from '../../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../../src/sockets/filters.js';
import { newDumpStatus, parseInetRecord, parseUnixRecord, walkReplies } from '../../../src/sockets/netlink/sock-diag-records.js';
import { SocketRows, toEntries } from '../../../src/sockets/socket-rows.js';
import { check, onlyTypedErrors } from '../invariants.js';

const filter = compileFilter({});

export function fuzz(data: Buffer): void {
  const seq = data.length >= 12 ? data.readUInt32LE(8) : 0;
  for (const file of ['tcp', 'tcp6', 'udp', 'unix']) {
    const table = PROC_TABLES.find((t) => t.file === file)!;
    const rows = new SocketRows(table, 4);
    rows.withNetlink();
    const addresses = new AddressBook();
    const status = newDumpStatus();
    const inet = { filter, addresses, rows, status, tcpInfo: true, memory: true, keepIds: true, attributes: true };
    const unix = { filter, rows, status, memory: true };
    let records = 0;
    const ok = onlyTypedErrors(() => {
      walkReplies(data, data.length, seq, status, (buf, start, end) => {
        check(start >= 0 && start <= end && end <= data.length, `record [${start}, ${end}) outside the ${data.length} bytes`);
        records++;
        if (file === 'unix') parseUnixRecord(buf, start, end, unix);
        else parseInetRecord(buf, start, end, inet);
      });
      return true;
    }, [], `sock_diag ${file}`);
    if (!ok) return;
    check(rows.length <= records, `${rows.length} rows from ${records} records`);
    const entries = onlyTypedErrors(() => toEntries(rows, { addresses, users: new Map(), services: [], owners: null }), [], 'toEntries');
    for (const e of entries ?? []) {
      for (const port of [e.localPort, e.remotePort]) {
        if (port !== null) check(Number.isInteger(port) && port >= 0 && port <= 65535, `sock_diag ${file}: port ${port}`);
      }
      for (const a of [e.localAddress, e.remoteAddress]) {
        if (a === null) continue;
        check(isIP(a) !== 0, `sock_diag ${file}: ${a} is not an address`);
        const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
        check(new SocketAddress({ address: a, family }).address === a, `sock_diag ${file}: ${a} is not how Node prints it`);
      }
    }
  }
}
