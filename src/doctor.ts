// What this machine allows netdiag to do, and the exact fix for each missing piece: the
// facts are collected (doctor/facts.ts), the checks derived from them (doctor/checks.ts),
// and both put into the netdiag.doctor/1 document (doctor/types.ts).
import { autoMode, deriveChecks } from './doctor/checks.js';
import { collectFacts } from './doctor/facts.js';
import type { DoctorReport } from './doctor/types.js';

export type { DoctorCheck, DoctorReport, SocketProbe } from './doctor/types.js';

export function doctor(): DoctorReport {
  const f = collectFacts();
  const auto = autoMode(f);
  const dg = f.dgramAccess;
  return {
    schema: 'netdiag.doctor/1',
    ok: auto !== null,
    addon: f.addon,
    node: f.node,
    kernel: f.kernel,
    user: f.user,
    capabilities: f.capabilities,
    pingGroupRange: { range: dg.range, groups: dg.groups, allowed: dg.allowed, matchingGroup: dg.matchingGroup },
    icmp: { raw: { allowed: f.rawAccess?.allowed ?? false, ...f.raw }, dgram: { allowed: dg.allowed, ...f.dgram }, auto },
    ipv6: f.ipv6,
    proc: f.proc,
    checks: deriveChecks(f),
  };
}
