// /proc/net/{tcp,udp,raw}{,6} and /proc/net/unix lines (src/sockets/proc-net-parser.ts,
// unix-parser.ts): malformed lines are skipped, never thrown on; no more rows than lines;
// ports and queues in range; addresses print as Node prints them; the parsers never read
// outside [start, end) (the input sits inside a larger buffer of poison bytes).
import { isIP, SocketAddress } from 'node:net';
import { AddressBook } from '../../../src/sockets/address-book.js';
import { compileFilter, PROC_TABLES } from '../../../src/sockets/filters.js';
import { parseInetLines } from '../../../src/sockets/proc-net-parser.js';
import { SocketRows, toEntries } from '../../../src/sockets/socket-rows.js';
import { parseUnixLines } from '../../../src/sockets/unix-parser.js';
import { check, onlyTypedErrors } from '../invariants.js';

const filter = compileFilter({});
const services = new Array<string | null>(65536).fill(null);
// a valid-looking line on each side: a parser that runs past `end` (or starts before `start`)
// picks it up as an extra row
const POISON_V4 = '   9: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99999 1\n';
const POISON_UNIX = '0000000000000000: 00000002 00000000 00010000 0001 01 99999 /poison\n';

function lineCount(data: Buffer): number {
  let n = 1;
  for (const b of data) if (b === 10) n++;
  return n;
}

function framed(data: Buffer, poison: string): { buf: Buffer; start: number; end: number } {
  const p = Buffer.from(poison);
  return { buf: Buffer.concat([p, data, Buffer.from('\n'), p]), start: p.length, end: p.length + data.length };
}

export function fuzz(data: Buffer): void {
  const lines = lineCount(data);
  for (const table of PROC_TABLES) {
    // these two parsers read the inet and unix tables (packet and netlink come from sock_diag)
    if (table.family !== 'inet' && table.family !== 'inet6' && table.family !== 'unix') continue;
    const rows = new SocketRows(table, 4);
    const addresses = new AddressBook();
    const v6 = table.family === 'inet6';
    const { buf, start, end } = framed(data, table.file === 'unix' ? POISON_UNIX : POISON_V4);
    const ok = onlyTypedErrors(() => {
      if (table.file === 'unix') parseUnixLines(buf, start, end, filter, rows);
      else parseInetLines(buf, start, end, { filter, addresses, v6 }, rows);
      return true;
    }, [], `parse /proc/net/${table.file}`);
    if (!ok) return;
    check(rows.length <= lines, `/proc/net/${table.file}: ${rows.length} rows from ${lines} lines`);
    const entries = onlyTypedErrors(() => toEntries(rows, { addresses, users: new Map(), services, owners: null }), [], 'toEntries');
    for (const e of entries ?? []) {
      check(e.inode !== 99999, `/proc/net/${table.file}: a row from outside [start, end)`);
      for (const port of [e.localPort, e.remotePort]) {
        if (port !== null) check(Number.isInteger(port) && port >= 0 && port <= 65535, `/proc/net/${table.file}: port ${port}`);
      }
      for (const q of [e.recvQueue, e.sendQueue, e.inode, e.uid]) {
        if (q !== null) check(Number.isSafeInteger(q) && q >= 0, `/proc/net/${table.file}: count ${q} is not a non-negative integer`);
      }
      for (const a of [e.localAddress, e.remoteAddress]) {
        if (a === null) continue;
        const family = isIP(a);
        check(family === (v6 ? 6 : 4), `/proc/net/${table.file}: address ${a} is not IPv${v6 ? 6 : 4}`);
        check(new SocketAddress({ address: a, family: v6 ? 'ipv6' : 'ipv4' }).address === a, `/proc/net/${table.file}: ${a} is not how Node prints it`);
      }
    }
  }
}
