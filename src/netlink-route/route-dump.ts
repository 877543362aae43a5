// The routing table as the kernel dumps it over NETLINK_ROUTE: the RTM_GETROUTE dump request
// and a parser of the RTM_NEWROUTE records that come back, pure (bytes in, routes out), so
// unit tests run it on bytes captured from a real kernel. Only what multipath discovery needs:
// the table, the destination prefix, the route type and how many next hops the route has.

import { NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, netlinkHeader } from '../sockets/netlink/sock-diag-messages.js';

const RTMSG_LEN = 12;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const NLM_F_MULTI = 0x2;
const RTA_DST = 1;
const RTA_GATEWAY = 5;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
const RTA_NH_ID = 30;
const RTNH_HDRLEN = 8;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const RTN_UNICAST = 1;

export interface RouteRecord {
  family: number;
  /** rtm_table, or RTA_TABLE when the table id is above 255 */
  table: number;
  /** rtm_type: RTN_UNICAST = 1, RTN_LOCAL = 2, ... */
  type: number;
  /** prefix length of the destination (0: a default route) */
  dstLength: number;
  /** destination prefix bytes (empty for a default route) */
  dst: Buffer;
  /** next hops: 1 for a plain route, the rtnexthop count of RTA_MULTIPATH, 0 when none is given */
  nexthops: number;
  /** the route names a nexthop object (RTA_NH_ID): it may be a group of several */
  nexthopObject: boolean;
}

/** One dump's parse: the routes, whether NLMSG_DONE came, and the errno of an NLMSG_ERROR (0 when none). */
export interface RouteDumpChunk {
  routes: RouteRecord[];
  done: boolean;
  errno: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** An RTM_GETROUTE dump request of one family. */
export function routeDumpRequest(family: typeof AF_INET | typeof AF_INET6, seq: number): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + RTMSG_LEN);
  netlinkHeader(b, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq >>> 0);
  b.writeUInt8(family, NLMSG_HDRLEN); // rtm_family; the rest zero: every table, every route
  return b;
}

/** Parses a chain of netlink messages (what one or more receives returned); messages of another sequence are skipped. */
export function parseRouteDump(buf: Buffer, length: number, seq: number): RouteDumpChunk {
  const out: RouteDumpChunk = { routes: [], done: false, errno: 0 };
  let off = 0;
  while (off + NLMSG_HDRLEN <= length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > length) break;
    const type = buf.readUInt16LE(off + 4);
    const flags = buf.readUInt16LE(off + 6);
    const mseq = buf.readUInt32LE(off + 8);
    if (mseq === seq >>> 0) {
      if (type === NLMSG_DONE) out.done = true;
      else if (type === NLMSG_ERROR) {
        const err = len >= NLMSG_HDRLEN + 4 ? buf.readInt32LE(off + NLMSG_HDRLEN) : 0;
        out.errno = -err;
        out.done = true;
      } else if (type === RTM_NEWROUTE && len >= NLMSG_HDRLEN + RTMSG_LEN) {
        out.routes.push(parseRoute(buf.subarray(off + NLMSG_HDRLEN, off + len)));
      }
      if (!(flags & NLM_F_MULTI) && type !== RTM_NEWROUTE) out.done = true;
    }
    off += align4(len);
  }
  return out;
}

function parseRoute(m: Buffer): RouteRecord {
  const r: RouteRecord = {
    family: m[0]!, dstLength: m[1]!, table: m[4]!, type: m[7]!, dst: Buffer.alloc(0), nexthops: 0, nexthopObject: false,
  };
  let gateway = false;
  let device = false;
  for (let off = RTMSG_LEN; off + 4 <= m.length;) {
    const alen = m.readUInt16LE(off);
    const atype = m.readUInt16LE(off + 2) & 0x3fff;
    if (alen < 4 || off + alen > m.length) break;
    const payload = m.subarray(off + 4, off + alen);
    if (atype === RTA_DST) r.dst = Buffer.from(payload);
    else if (atype === RTA_TABLE && payload.length >= 4) r.table = payload.readUInt32LE(0);
    else if (atype === RTA_GATEWAY) gateway = true;
    else if (atype === RTA_NH_ID) r.nexthopObject = true;
    else if (atype === RTA_MULTIPATH) r.nexthops = countNexthops(payload);
    else if (atype === 4 /* RTA_OIF */) device = true;
    off += align4(alen);
  }
  if (r.nexthops === 0 && (gateway || device)) r.nexthops = 1;
  return r;
}

/** The rtnexthop entries of an RTA_MULTIPATH payload. */
function countNexthops(p: Buffer): number {
  let n = 0;
  for (let off = 0; off + RTNH_HDRLEN <= p.length;) {
    const len = p.readUInt16LE(off);
    if (len < RTNH_HDRLEN) break;
    n++;
    off += align4(len);
  }
  return n;
}

/** Whether a route's prefix covers `address` (4 or 16 bytes). */
export function routeCovers(route: RouteRecord, address: Uint8Array): boolean {
  const bits = route.dstLength;
  if (bits === 0) return true;
  if (route.dst.length * 8 < bits || address.length * 8 < bits) return false;
  const whole = bits >> 3;
  if (!route.dst.subarray(0, whole).equals(address.subarray(0, whole))) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (route.dst[whole]! & mask) === (address[whole]! & mask);
}
