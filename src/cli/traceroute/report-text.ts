// Text of `netdiag traceroute --report` / `--watch`, laid out like `mtr -r` (same columns and
// widths, plus mtr's Javg jitter column; a hop whose loss looks like ICMP rate limiting carries
// a marker, route-text.ts has its legend), and the note on loss seen only at intermediate hops.
import type { TracerouteHop } from '../../traceroute/types.js';

/** Marker after the host of a hop whose loss later hops do not show (legend: route-text.ts). */
export const RATE_LIMIT_MARKER = '[RL]';

export interface ReportTextOptions {
  names: boolean;
  localHost: string;
  started: Date;
}

const COLUMNS: Array<{ title: string; width: number }> = [
  { title: 'Loss%', width: 6 }, { title: 'Snt', width: 6 }, { title: 'Last', width: 7 }, { title: 'Avg', width: 6 },
  { title: 'Best', width: 6 }, { title: 'Wrst', width: 6 }, { title: 'StDev', width: 6 }, { title: 'Javg', width: 6 },
];
const HOST_WIDTH = 25;

/** mtr's "Start:" stamp: local time with the UTC offset, to the second. */
export function startStamp(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** Addresses that answered at a hop, most frequent first. */
function hopAddresses(hop: TracerouteHop): Array<{ address: string; name: string | null }> {
  const seen = new Map<string, { count: number; name: string | null }>();
  for (const p of hop.probes) {
    if (!p.address) continue;
    const e = seen.get(p.address) ?? { count: 0, name: p.name };
    e.count++;
    e.name ??= p.name;
    seen.set(p.address, e);
  }
  return [...seen.entries()].sort((a, b) => b[1].count - a[1].count).map(([address, e]) => ({ address, name: e.name }));
}

function ms(v: number | null | undefined): string {
  return (v ?? 0).toFixed(1);
}

export function reportTable(hops: readonly TracerouteHop[], opts: ReportTextOptions): string {
  let out = `Start: ${startStamp(opts.started)}\n`;
  out += `HOST: ${opts.localHost.padEnd(HOST_WIDTH + 2)}` + COLUMNS.map((c) => c.title.padStart(c.width)).join('') + '\n';
  for (const hop of hops) {
    const s = hop.stats;
    const addrs = hopAddresses(hop);
    const label = (a: { address: string; name: string | null } | undefined): string =>
      a ? (opts.names && a.name ? a.name : a.address) : '???';
    const values = [
      `${(s?.loss ?? 100).toFixed(1)}%`, String(s?.sent ?? 0), ms(s?.last), ms(s?.avg), ms(s?.best), ms(s?.worst), ms(s?.stddev), ms(s?.jitter),
    ];
    const host = label(addrs[0]) + (hop.rateLimited ? ` ${RATE_LIMIT_MARKER}` : '');
    out += ` ${String(hop.ttl).padStart(2)}.|-- ${host.padEnd(HOST_WIDTH)}` + values.map((v, i) => v.padStart(COLUMNS[i]!.width)).join('') + '\n';
    for (const other of addrs.slice(1)) out += `    |   ${label(other)}\n`;
  }
  return out;
}

/**
 * The note mtr's README makes: loss at intermediate hops that does not carry on to the
 * destination is the routers rate-limiting the ICMP errors they send, not packets dropped.
 */
export function intermediateLossNote(hops: readonly TracerouteHop[], reached: boolean): string | null {
  if (!reached || hops.length < 2) return null;
  const last = hops[hops.length - 1]!.stats;
  if (!last || last.loss > 0) return null;
  const lossy = hops.slice(0, -1).filter((h) => (h.stats?.loss ?? 0) > 0).map((h) => h.ttl);
  if (!lossy.length) return null;
  return (
    `Note: loss at hop${lossy.length > 1 ? 's' : ''} ${lossy.join(', ')} but none at the destination: routers usually ` +
    `rate-limit the ICMP errors they send (Linux: about 1/s after a burst of 6), so this is not packet loss on the path. ` +
    `A longer --interval avoids it.\n`
  );
}
