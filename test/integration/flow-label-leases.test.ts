// IPv6 flow label leases (src/socket/flow-label-leases.ts) on real sockets: one label per flow,
// the same one every time; a label another socket holds is passed over; and the addon's send
// takes a leased label and refuses one that cannot be (over 20 bits, or an IPv4 destination).
// That the labels reach the wire and spread flows over ECMP routers that hash them is shown by
// traceroute-mda.test.ts (Linux's default IPv6 hash policy in namespaces).
import { afterEach, expect, it } from 'vitest';
import { FlowLabelLeases, LEASABLE_LABELS } from '../../src/socket/flow-label-leases.js';
import { IcmpSocket } from '../../src/socket/icmp-socket.js';
import { SendBatch } from '../../src/socket/send-batch.js';
import { writeAddress } from '../../src/socket/address-bytes.js';
import { describeWith } from '../helpers/requirements.js';

const LOOPBACK = Buffer.alloc(16);
writeAddress('::1', LOOPBACK, 0);
const opened: IcmpSocket[] = [];

function socket(family: 4 | 6 = 6): IcmpSocket {
  const s = new IcmpSocket({ family, mode: 'raw' });
  opened.push(s);
  return s;
}

/** Labels drawn at random, as the transports draw them. */
function pick(): number {
  return 1 + Math.floor(Math.random() * LEASABLE_LABELS);
}

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** An ICMPv6 echo request (the kernel fills in the checksum of raw ICMPv6). */
function echoRequest(batch: SendBatch): number {
  const off = batch.nextOffset();
  batch.data.fill(0, off, off + 8);
  batch.data[off] = 128;
  return 8;
}

describeWith(['root', 'net_admin', 'net_raw'], 'IPv6 flow label leases', () => {
  it('gives each flow a label of its own, nonzero and within 20 bits, the same one every time', () => {
    const leases = new FlowLabelLeases(socket().fd, LOOPBACK, pick);
    const labels = [0, 1, 2, 3].map((f) => leases.labelFor(f));
    expect(new Set(labels).size).toBe(4);
    for (const l of labels) expect(l).toBeGreaterThan(0);
    for (const l of labels) expect(l).toBeLessThan(0x80000);
    expect([3, 2, 1, 0].map((f) => leases.labelFor(f))).toEqual(labels.slice().reverse());
    expect(leases.labelledOf(4)).toBe(4);
    expect(leases.labelledOf(2)).toBe(2);
    expect(leases.refused).toBeNull();
    expect(leases.isFor(LOOPBACK)).toBe(true);
  });

  it('passes over a label another socket holds and takes the next free one', () => {
    const holder = new FlowLabelLeases(socket().fd, LOOPBACK, pick);
    // the base itself when no other socket holds it (other tests' leases linger), else a later one
    const held = holder.labelFor(0);
    expect(held).toBeGreaterThan(0);
    // the other socket asks for the held label first, then for random ones
    let first = true;
    const other = new FlowLabelLeases(socket().fd, LOOPBACK, () => (first ? ((first = false), held) : pick()));
    const got = other.labelFor(0);
    expect(got).not.toBe(held);
    expect(got).toBeGreaterThan(0);
    expect(other.refused).toBeNull();
  });

  it('sends a probe with a leased label; the addon refuses a label over 20 bits or with an IPv4 destination', () => {
    const s = socket();
    const leases = new FlowLabelLeases(s.fd, LOOPBACK, pick);
    const label = leases.labelFor(0);
    const batch = new SendBatch(1, 64);
    batch.push(echoRequest(batch), 6, LOOPBACK, 0, 0, -1, -1, 0, label);
    expect(s.send(batch)).toBe(1);
    expect(batch.errno(0)).toBe(0);

    const wide = new SendBatch(1, 64);
    wide.push(echoRequest(wide), 6, LOOPBACK, 0, 0, -1, -1, 0, 0x100000);
    expect(() => s.send(wide)).toThrow(/flow label is 0-0xfffff/);

    const v4 = socket(4);
    const to4 = Buffer.alloc(16);
    writeAddress('127.0.0.1', to4, 0);
    const four = new SendBatch(1, 64);
    four.push(echoRequest(four), 4, to4, 0, 0, -1, -1, 0, 5);
    expect(() => v4.send(four)).toThrow(/needs an IPv6 destination/);
  });
});

