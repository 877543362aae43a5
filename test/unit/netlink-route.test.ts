// The NETLINK_ROUTE dump (src/netlink-route/route-dump.ts) and the first-hop rule built on it
// (src/traceroute/mda/first-hop.ts), on bytes captured from a real kernel
// (test/fixtures/netlink-route/capture.mjs): a host whose route to the destination has two
// next hops (RTA_MULTIPATH) and a host behind one router, IPv4 and IPv6.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRouteDump, routeCovers, routeDumpRequest, type RouteRecord } from '../../src/netlink-route/route-dump.js';
import { addressBytes } from '../../src/packet/address.js';
import { singleNextHop } from '../../src/traceroute/mda/first-hop.js';

interface Capture { seq: number; hex: string; destination: string }
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/netlink-route/routes.json', import.meta.url), 'utf8')) as Record<'multipath' | 'plain', Record<'v4' | 'v6', Capture>>;

function parsed(c: Capture): ReturnType<typeof parseRouteDump> {
  const buf = Buffer.from(c.hex, 'hex');
  return parseRouteDump(buf, buf.length, c.seq);
}

const route = (over: Partial<RouteRecord>): RouteRecord => ({
  family: 2, table: 254, type: 1, dstLength: 0, dst: Buffer.alloc(0), nexthops: 1, nexthopObject: false, ...over,
});

describe('the RTM_GETROUTE dump', () => {
  it('asks for every route of one family in every table', () => {
    const b = routeDumpRequest(10, 77);
    expect(b.length).toBe(28);
    expect(b.readUInt32LE(0)).toBe(28);
    expect(b.readUInt16LE(4)).toBe(26); // RTM_GETROUTE
    expect(b.readUInt16LE(6)).toBe(0x301); // NLM_F_REQUEST | NLM_F_DUMP
    expect(b.readUInt32LE(8)).toBe(77);
    expect(b[16]).toBe(10);
    expect(b.subarray(17).every((x) => x === 0)).toBe(true);
  });

  it.each(['v4', 'v6'] as const)('reads a captured %s dump to the end: the multipath route has two next hops, the plain table none', (family) => {
    const multi = parsed(fixtures.multipath[family]);
    expect(multi.done).toBe(true);
    expect(multi.errno).toBe(0);
    const covering = multi.routes.filter((r) => r.table === 254 && routeCovers(r, addressBytes(fixtures.multipath[family].destination)));
    expect(covering.map((r) => r.nexthops)).toContain(2);
    const plain = parsed(fixtures.plain[family]);
    expect(plain.done).toBe(true);
    expect(plain.routes.length).toBeGreaterThan(3);
    expect(plain.routes.every((r) => r.nexthops <= 1 && !r.nexthopObject)).toBe(true);
    expect(new Set(plain.routes.map((r) => r.table))).toEqual(new Set([254, 255]));
  });

  it('skips messages of another sequence and stops at a truncated one', () => {
    const c = fixtures.plain.v4;
    const buf = Buffer.from(c.hex, 'hex');
    expect(parseRouteDump(buf, buf.length, c.seq + 1)).toEqual({ routes: [], done: false, errno: 0 });
    const cut = parseRouteDump(buf, 40, c.seq);
    expect(cut.done).toBe(false);
    expect(cut.routes).toHaveLength(0);
  });

  it('reads an NLMSG_ERROR as the errno of the dump', () => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt32LE(9, 8);
    b.writeInt32LE(-95, 16);
    expect(parseRouteDump(b, b.length, 9)).toMatchObject({ done: true, errno: 95 });
  });
});

describe('the first-hop rule', () => {
  it.each(['v4', 'v6'] as const)('%s: a route with two next hops means the first hop may branch; one next hop everywhere means it cannot', (family) => {
    const multi = fixtures.multipath[family];
    expect(singleNextHop(parsed(multi).routes, addressBytes(multi.destination))).toBe(false);
    const plain = fixtures.plain[family];
    expect(singleNextHop(parsed(plain).routes, addressBytes(plain.destination))).toBe(true);
  });

  it('counts a nexthop object as maybe several, and two tables towards the destination as a possible choice per flow', () => {
    const dst = addressBytes('10.1.2.3');
    expect(singleNextHop([route({})], dst)).toBe(true);
    expect(singleNextHop([route({ nexthopObject: true })], dst)).toBe(false);
    expect(singleNextHop([route({}), route({ table: 100 })], dst)).toBe(false);
    // a second table whose routes do not cover the destination changes nothing
    expect(singleNextHop([route({}), route({ table: 100, dstLength: 16, dst: Buffer.from([192, 168, 0, 0]) })], dst)).toBe(true);
    // the local table's own addresses are no next hop choice
    expect(singleNextHop([route({}), route({ table: 255, type: 2, dstLength: 8, dst: Buffer.from([10, 0, 0, 0]) })], dst)).toBe(true);
  });

  it('matches prefixes bit by bit and writes addresses as bytes', () => {
    const r = route({ dstLength: 20, dst: Buffer.from([10, 1, 16, 0]) });
    expect(routeCovers(r, addressBytes('10.1.31.255'))).toBe(true);
    expect(routeCovers(r, addressBytes('10.1.32.0'))).toBe(false);
    expect(Buffer.from(addressBytes('fd00::1:2')).toString('hex')).toBe('fd000000000000000000000000010002');
    expect(Buffer.from(addressBytes('::ffff:10.0.0.1')).toString('hex')).toBe('00000000000000000000ffff0a000001');
    expect(() => addressBytes('example.org')).toThrow(TypeError);
  });
});
