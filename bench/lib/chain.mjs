// A router chain in network namespaces for the trace benchmarks: source — ROUTERS routers —
// destination, joined by veth pairs, ICMP rate limits off (so 8 hops by default: 7 routers and
// the destination). Addresses 10.X.k.0/24 exist only inside these namespaces; nothing leaves
// them. The same plan as test/helpers/topology.ts (which is TypeScript and tied to vitest),
// kept small: IPv4 only, one silenceable router.
//
// Teardown: down() (idempotent), on process exit, and a sweep at creation that deletes chains
// of earlier runs whose process is dead (killed by a CI timeout, say).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { exitIfInterrupted } from './measure.mjs';

const PREFIX = 'ndb';

function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout || r.error?.message}`);
  return r.stdout;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Deletes namespaces ndb<pid>-… left by bench processes that no longer run. */
function sweepStale() {
  let names = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  const stale = names.filter((n) => {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(n);
    return m && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  if (stale.length) spawnSync('ip', ['-force', '-batch', '-'], { input: stale.map((n) => `netns del ${n}`).join('\n') + '\n' });
}

export class Chain {
  constructor(routers = 7) {
    this.prefix = `${PREFIX}${process.pid}`;
    this.routers = routers;
    this.names = ['s', ...Array.from({ length: routers }, (_, i) => `r${i + 1}`), 'd'].map((n) => `${this.prefix}-${n}`);
    this.x = 200 + (process.pid % 50);
    this.target = `10.${this.x}.${routers + 1}.2`;
    this.hops = routers + 1;
    this.silenced = new Set();
  }

  get source() {
    return this.names[0];
  }

  router(k) {
    return this.names[k];
  }

  up() {
    sweepStale();
    process.on('exit', () => this.down());
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(s, () => process.exit(130));
    const lines = this.names.map((n) => `netns add ${n}`);
    for (let k = 1; k < this.names.length; k++) lines.push(`link add ${this.prefix}-${k}a netns ${this.names[k - 1]} type veth peer name ${this.prefix}-${k}b netns ${this.names[k]}`);
    try {
      sh('ip', ['-batch', '-'], lines.join('\n') + '\n');
      const last = this.names.length - 1;
      this.names.forEach((ns, k) => {
        const cmds = ['link set lo up'];
        if (k > 0) cmds.push(`link set ${this.prefix}-${k}b up`, `addr add 10.${this.x}.${k}.2/24 dev ${this.prefix}-${k}b`);
        if (k < last) cmds.push(`link set ${this.prefix}-${k + 1}a up`, `addr add 10.${this.x}.${k + 1}.1/24 dev ${this.prefix}-${k + 1}a`);
        if (k < last) cmds.push(`route add default via 10.${this.x}.${k + 1}.2`);
        for (let j = 1; j < k; j++) cmds.push(`route add 10.${this.x}.${j}.0/24 via 10.${this.x}.${k}.1`);
        if (k === last) cmds.push(`route add default via 10.${this.x}.${k}.1`);
        sh('ip', ['-n', ns, '-batch', '-'], cmds.join('\n') + '\n');
        sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.ip_forward=${k > 0 && k < last ? 1 : 0}`,
          'net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_ratemask=0', 'net.ipv4.icmp_msgs_per_sec=1000000', 'net.ipv4.icmp_msgs_burst=1000000']);
      });
      sh('ip', ['netns', 'exec', this.source, 'ping', '-c1', '-W2', this.target]);
    } catch (e) {
      this.down();
      throw e;
    }
    return this;
  }

  /** Router k drops the time-exceeded messages it would send: a silent hop. */
  silence(k) {
    sh('ip', ['netns', 'exec', this.router(k), 'nft', '-f', '-'],
      'table inet bench {\n chain out {\n  type filter hook output priority 0;\n  icmp type time-exceeded drop\n }\n}\n');
    this.silenced.add(k);
  }

  unsilence(k) {
    spawnSync('ip', ['netns', 'exec', this.router(k), 'nft', 'delete', 'table', 'inet', 'bench']);
    this.silenced.delete(k);
  }

  down() {
    spawnSync('ip', ['-force', '-batch', '-'], { input: this.names.map((n) => `netns del ${n}`).join('\n') + '\n' });
  }

  /** Runs `node script ...args` inside the source namespace; returns its stdout parsed as JSON. */
  inSource(script, args, timeoutMs = 300_000) {
    const r = spawnSync('ip', ['netns', 'exec', this.source, process.execPath, script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24, timeout: timeoutMs });
    exitIfInterrupted(r);
    if (r.status !== 0) throw new Error(`benchmark child in ${this.source} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
    return JSON.parse(r.stdout);
  }
}
