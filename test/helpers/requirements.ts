// Gates for tests that need a privilege or a tool. A missing requirement skips the suite with
// the reason printed; with NETDIAG_REQUIRE_ALL=1 (CI as root) a skip is a failure instead.
import { describe, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21;

function effectiveCaps(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt('0x' + m[1]) : 0n;
}

function hasCap(bit: number): boolean {
  return (effectiveCaps() & (1n << BigInt(bit))) !== 0n;
}

const toolCache = new Map<string, boolean>();
export function hasTool(tool: string): boolean {
  let ok = toolCache.get(tool);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
    toolCache.set(tool, ok);
  }
  return ok;
}

export type Requirement = 'root' | 'net_raw' | 'net_admin' | 'sys_admin' | `tool:${string}`;

/** Returns why the requirements are not met, or null when they are. */
export function unmet(reqs: Requirement[]): string | null {
  const missing: string[] = [];
  for (const r of reqs) {
    if (r === 'root' && process.getuid?.() !== 0) missing.push('root (run the suite as root)');
    else if (r === 'net_raw' && !hasCap(CAP_NET_RAW)) missing.push('CAP_NET_RAW (run as root or with cap_net_raw)');
    else if (r === 'net_admin' && !hasCap(CAP_NET_ADMIN)) missing.push('CAP_NET_ADMIN (run as root)');
    else if (r === 'sys_admin' && !hasCap(CAP_SYS_ADMIN)) missing.push('CAP_SYS_ADMIN (run as root)');
    else if (r.startsWith('tool:') && !hasTool(r.slice(5))) missing.push(`the tool ${r.slice(5)} (apt-get install it)`);
  }
  return missing.length ? `needs ${missing.join(', ')}` : null;
}

/** describe() that is skipped, with the reason printed, when a requirement is missing. */
export function describeWith(reqs: Requirement[], name: string, fn: () => void): void {
  const why = unmet(reqs);
  if (why === null) {
    describe(name, fn);
    return;
  }
  if (process.env.NETDIAG_REQUIRE_ALL === '1') {
    describe(name, () => {
      it('has what it needs', () => {
        throw new Error(`${name}: ${why} — NETDIAG_REQUIRE_ALL=1 forbids skipping`);
      });
    });
    return;
  }
  process.stderr.write(`[skipped] ${name}: ${why}\n`);
  describe.skip(`${name} [skipped: ${why}]`, fn);
}
