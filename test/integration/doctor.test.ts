// netdiag doctor's diagnosis in the four privilege situations of issue 2, each in a fresh
// network namespace (its own ping_group_range, default "1 0") so the host is untouched.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith } from '../helpers/requirements.js';
import { worldReadableRoot } from '../helpers/built-package.js';

interface Report {
  ok: boolean;
  user: { uid: number };
  capabilities: { netRaw: { effective: boolean; permitted: boolean } };
  pingGroupRange: { range: [number, number]; allowed: boolean; matchingGroup: number | null };
  icmp: { raw: { allowed: boolean; ipv4: string; ipv6: string }; dgram: { allowed: boolean; ipv4: string; ipv6: string }; auto: string | null };
  checks: { name: string; ok: boolean; fix: string | null }[];
}

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** Runs `netdiag doctor --json` in a new network namespace after `setup` (shell). */
function doctorIn(setup: string, runner: string[]): { code: number; report: Report; stderr: string } {
  const cli = join(worldReadableRoot(), 'bin/netdiag.js');
  const cmd = `ip link set lo up; ${setup} exec ${runner.join(' ')} ${process.execPath} ${cli} doctor --json`;
  const r = spawnSync('unshare', ['-n', 'sh', '-c', cmd], { encoding: 'utf8', timeout: 30_000 });
  if (!r.stdout) throw new Error(`doctor printed nothing (exit ${r.status}): ${r.stderr}`);
  return { code: r.status ?? -1, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const check = (r: Report, name: string) => r.checks.find((c) => c.name === name)!;

describeWith(['root', 'tool:setpriv', 'tool:unshare'], 'netdiag doctor diagnosis', () => {
  it('root: raw sockets allowed, ping sockets refused by the default range, ping uses raw', () => {
    const { code, report } = doctorIn('', []);
    expect(report.user.uid).toBe(0);
    expect(report.capabilities.netRaw.effective).toBe(true);
    expect(report.icmp.raw).toMatchObject({ allowed: true, ipv4: 'ok', ipv6: 'ok' });
    expect(report.pingGroupRange.range).toEqual([1, 0]);
    // the diagnosis agrees with what socket() really said
    expect(report.icmp.dgram).toMatchObject({ allowed: false, ipv4: 'EACCES' });
    expect(check(report, 'ping sockets').fix).toMatch(/sysctl -w net\.ipv4\.ping_group_range="0 0"/);
    expect(report.icmp.auto).toBe('raw');
    expect(code).toBe(0);
  });

  it('unprivileged without capabilities: nothing works and both fixes are named', () => {
    const { code, report } = doctorIn('', NOBODY);
    expect(report.user.uid).toBe(65534);
    expect(report.capabilities.netRaw).toEqual({ effective: false, permitted: false });
    expect(report.icmp.raw).toMatchObject({ allowed: false, ipv4: 'EPERM' });
    expect(report.icmp.dgram).toMatchObject({ allowed: false, ipv4: 'EACCES' });
    expect(report.icmp.auto).toBeNull();
    expect(report.ok).toBe(false);
    expect(check(report, 'raw ICMP').fix).toContain(`setcap cap_net_raw+ep ${process.execPath}`);
    expect(check(report, 'raw ICMP').fix).toContain('--cap-add=NET_RAW');
    expect(check(report, 'ping').fix).toMatch(/ping_group_range="65534 65534"/);
    expect(code).toBe(1);
  });

  it('unprivileged with ping_group_range widened in the namespace: ping sockets', () => {
    const { code, report } = doctorIn('sysctl -qw net.ipv4.ping_group_range="0 2147483647";', NOBODY);
    expect(report.pingGroupRange).toMatchObject({ range: [0, 2147483647], allowed: true, matchingGroup: 65534 });
    expect(report.icmp.dgram).toMatchObject({ allowed: true, ipv4: 'ok', ipv6: 'ok' });
    expect(report.icmp.raw).toMatchObject({ allowed: false, ipv4: 'EPERM' });
    expect(report.icmp.auto).toBe('dgram');
    expect(code).toBe(0);
  });

  it('unprivileged with ambient cap_net_raw: raw sockets', () => {
    const { code, report } = doctorIn('', [...NOBODY, '--inh-caps=+net_raw', '--ambient-caps=+net_raw']);
    expect(report.user.uid).toBe(65534);
    expect(report.capabilities.netRaw.effective).toBe(true);
    expect(report.icmp.raw).toMatchObject({ allowed: true, ipv4: 'ok' });
    expect(report.icmp.dgram.allowed).toBe(false);
    expect(report.icmp.auto).toBe('raw');
    expect(code).toBe(0);
  });

  it('text output names each missing piece with its fix', () => {
    const cli = join(worldReadableRoot(), 'bin/netdiag.js');
    const r = spawnSync('unshare', ['-n', ...NOBODY, process.execPath, cli, 'doctor'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^MISSING\s+raw ICMP/m);
    expect(r.stdout).toMatch(/fix: run as root, or give node the capability: sudo setcap cap_net_raw\+ep/);
    expect(r.stdout).toMatch(/^MISSING\s+ping sockets/m);
  });
});
