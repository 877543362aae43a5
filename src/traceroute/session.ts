// What a trace or report needs before its first probe: the target's address and family, the
// transport of the method, the packet length; and how a decided slot becomes a probe result.
import { optionRangeError, optionTypeError } from '../errors.js';
import { destinationOf } from '../target/destination.js';
import { hostProblem } from '../target/host-text.js';
import type { ReverseDnsCache } from '../runtime/reverse-dns.js';
import type { TracerouteBackend } from './backend.js';
import type { TraceClock } from './clock.js';
import { defaultPacketLength, type ResolvedOptions } from './options.js';
import type { ProbeSlot } from './probe-slot.js';
import type { ProbeTransport } from './transport.js';
import type { TracerouteEvent, TracerouteProbe, TracerouteResult } from './types.js';

export interface Session {
  target: string;
  address: string;
  family: 4 | 6;
  transport: ProbeTransport;
  clock: TraceClock;
  names: ReverseDnsCache | null;
  packetLength: number;
  opts: ResolvedOptions;
}

/** `multipath`: the transport must carry per-probe flows (multipath discovery). */
export async function openSession(target: unknown, opts: ResolvedOptions, backend: TracerouteBackend, multipath = false): Promise<Session> {
  if (typeof target !== 'string') throw optionTypeError('target', 'a host name or address', target);
  const problem = hostProblem(target);
  if (problem !== null) throw optionRangeError('target', `a host name or address (this one ${problem.problem}: ${problem.fix})`, target);
  const resolved = await backend.resolveTarget(target, opts.family);
  const family = resolved.family;
  if (opts.family !== undefined && family !== opts.family) {
    throw optionRangeError('family', `the family of the target (${target} is IPv${family})`, opts.family);
  }
  // where probes really go: a link-local target on its interface, "this host" as the kernel reads it
  const address = destinationOf(target, resolved.address, family, { device: opts.device, source: opts.source }).address;
  const transport = backend.openTransport({
    method: opts.method, socket: opts.socket, family, target: address, port: opts.port, flow: opts.flow, multipath,
    tos: opts.tos, device: opts.device, source: opts.source, pmtu: opts.discoverMtu ? 'probe' : 'dont', extensions: opts.extensions,
  });
  // the first answers must carry arrival timestamps, not the time JS read them
  await backend.timestampsReady();
  const wanted = opts.packetLength ?? defaultPacketLength(family);
  const packetLength = transport.sizable ? Math.max(wanted, transport.minLength) : transport.minLength;
  return { target, address, family, transport, clock: backend.clock, names: opts.resolveNames ? backend.names : null, packetLength, opts };
}

export function startEvent(s: Session): TracerouteEvent {
  return {
    type: 'start', target: s.target, address: s.address, family: s.family, method: s.transport.method,
    socket: s.transport.socket, flow: s.transport.flow, packetLength: s.packetLength, firstTtl: s.opts.firstTtl, maxTtl: s.opts.maxTtl,
  };
}

/** The result of a decided slot; the name is filled when the cache already knows it. */
export function probeOf(slot: ProbeSlot, names: ReverseDnsCache | null): TracerouteProbe {
  const r = slot.reply;
  const answered = r !== null && r.from !== '';
  const address = answered ? r.from : null;
  return {
    address,
    name: address !== null && names ? (names.peek(address) ?? null) : null,
    rtt: answered ? slot.rtt : null,
    status: answered ? 'reply' : 'timeout',
    annotation: r?.annotation ?? null,
    icmp: r?.icmp ?? null,
    mtu: slot.mtuNote ?? r?.mtu ?? null,
    mpls: r?.mpls ?? [],
    extensions: r?.extensions ?? null,
    replyTtl: answered ? r.replyTtl : null,
    flags: r?.flags ?? [],
  };
}

/** Fills in the names of every answering address, waiting (bounded) for lookups still running. */
export async function fillNames(result: TracerouteResult, names: ReverseDnsCache | null): Promise<void> {
  if (!names) return;
  const probes = result.hops.flatMap((h) => h.probes);
  const found = await names.waitAll(probes.flatMap((p) => (p.address ? [p.address] : [])));
  for (const p of probes) if (p.address) p.name = found.get(p.address) ?? null;
}

export function baseResult(s: Session): Omit<TracerouteResult, 'hops' | 'reached' | 'aborted' | 'elapsed'> {
  return {
    schema: 'netdiag.traceroute/1', target: s.target, address: s.address, family: s.family, method: s.transport.method,
    socket: s.transport.socket, flow: s.transport.flow, packetLength: s.packetLength, firstTtl: s.opts.firstTtl, maxTtl: s.opts.maxTtl,
  };
}
