// Whether test networks can be built here, and if not, why and what to change. Read from
// /proc and PATH only (no addon, no namespace created), so it is cheap enough for a test
// file's top level and for `netdiag doctor`.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

export interface TestNetworkSupport {
  /** Namespaces, veth links and nftables rules can be made here. */
  ok: boolean;
  /** What is missing, in one sentence (empty when ok). */
  reason: string;
  /** How to allow it (null when ok). */
  fix: string | null;
  /** Each missing piece: 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', '/dev/net/tun', 'ip', 'nft'. */
  missing: string[];
  /** /dev/net/tun is usable: only the TUN path simulator needs it. */
  tun: boolean;
}

function effectiveCaps(): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt('0x' + m[1]) : 0n;
  } catch {
    return 0n;
  }
}

function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean); // the tools are spawned by PATH too
  return dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function tunUsable(): boolean {
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks what building test networks needs: CAP_SYS_ADMIN (to create named network
 * namespaces), CAP_NET_ADMIN (to configure them), iproute2's `ip` and `nft`; with
 * `{ tun: true }` also /dev/net/tun (the TUN path simulator; `tun` reports it either way).
 *   const support = testNetworkSupport();
 *   describe.skipIf(!support.ok)(`chain [${support.reason}]`, () => { … });
 */
export function testNetworkSupport(needs: { tun?: boolean } = {}): TestNetworkSupport {
  const caps = effectiveCaps();
  const missing: string[] = [];
  if (!(caps & (1n << BigInt(CAP_NET_ADMIN)))) missing.push('CAP_NET_ADMIN');
  if (!(caps & (1n << BigInt(CAP_SYS_ADMIN)))) missing.push('CAP_SYS_ADMIN');
  const tun = tunUsable();
  if (!tun && needs.tun) missing.push('/dev/net/tun');
  if (!onPath('ip')) missing.push('ip');
  if (!onPath('nft')) missing.push('nft');
  if (!missing.length) return { ok: true, reason: '', fix: null, missing, tun };
  const fixes: string[] = [];
  const capsMissing = missing.some((m) => m.startsWith('CAP_'));
  if (capsMissing || (!tun && needs.tun)) {
    fixes.push(
      process.getuid?.() === 0
        ? 'the container withholds them: docker run --cap-add NET_ADMIN --cap-add SYS_ADMIN --device /dev/net/tun (or --privileged)'
        : 'run the tests as root; in Docker: docker run --cap-add NET_ADMIN --cap-add SYS_ADMIN --device /dev/net/tun (or --privileged)',
    );
  }
  const tools = missing.filter((m) => m === 'ip' || m === 'nft');
  if (tools.length) fixes.push(`install ${tools.map((t) => (t === 'ip' ? 'iproute2' : 'nftables')).join(' and ')} (apt-get install ${tools.map((t) => (t === 'ip' ? 'iproute2' : 'nftables')).join(' ')})`);
  return { ok: false, reason: `test networks need ${missing.join(', ')}`, fix: fixes.join('; '), missing, tun };
}
