// Network namespaces for integration tests: a chain  source — router 1 … router N — destination
// joined by veth pairs, IPv4 and IPv6 on every link, forwarding on, ICMP rate limits off; and a
// single loopback namespace for ping-socket and many-target tests. Needs root (CAP_SYS_ADMIN to
// create namespaces, CAP_NET_ADMIN inside them), iproute2, and nftables for the rule helpers.
//
// Everything it makes lives in namespaces it created; traffic never leaves them and no sysctl of
// the host's own namespace is touched. Teardown is guaranteed three ways: destroy() (idempotent),
// a synchronous cleanup on process exit / SIGINT / SIGTERM / SIGHUP, and a sweep at creation that
// deletes namespaces left by earlier runs whose creating process is dead (SIGKILL, OOM, power).
//
// Address plan (X: a per-instance random number 1–254, XX its two hex digits; link k = 1…N+1
// joins node k-1 and node k, where node 0 is the source and node N+1 the destination):
//   link k     IPv4 10.X.k.0/24      IPv6 fdXX:k::/64 (k in hex)   link-local fe80::1 / fe80::2
//   left end   10.X.k.1  fdXX:k::1  (node k-1)
//   right end  10.X.k.2  fdXX:k::2  (node k)
// So router k answers a traceroute from 10.X.k.2 / fdXX:k::2 (its address toward the source) and
// the destination is 10.X.(N+1).2 / fdXX:(N+1)::2.  The loopback namespace routes fdXX::/64 to lo.
//
// Traps handled here: net.ipv4.icmp_ratemask=0 besides icmp_ratelimit=0 (see ICMP_UNLIMITED);
// no kernel link-local addresses (see build()). Not handled: route-generated IPv4 errors are
// limited by the host-wide net.ipv4.route.error_cost (see addRoute()).
//
// Naming: namespaces are `<prefix>-<pid>-<id>-<role>` (role src, r1…rN, dst, lo), interfaces
// `<prefix><id>-<k>a` (left end of link k) and `<prefix><id>-<k>b` (right end) — at most 15 chars.

import { readdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import {
  ProcessError,
  runProcess,
  runProcessSync,
  startProcess,
  type ProcessOptions,
  type ProcessResult,
  type RunningProcess,
} from './process.js';

export type { ProcessResult, RunningProcess } from './process.js';

export type Family = 'ipv4' | 'ipv6';
export type FamilySelector = Family | 'both';
export type NftHook = 'input' | 'forward' | 'output';

/** One end of a veth link: the namespace it is in, its interface name and addresses. */
export interface Endpoint {
  ns: string;
  ifname: string;
  v4: string;
  v6: string;
}

/** Link k joins node k-1 (left, toward the source) and node k (right, toward the destination). */
export interface Link {
  index: number;
  v4Prefix: string;
  v6Prefix: string;
  left: Endpoint;
  right: Endpoint;
}

/** What a traceroute from the source should see at `ttl`; the last hop is the destination. */
export interface Hop {
  ttl: number;
  ns: string;
  /** The address this hop answers from: its interface toward the source. */
  v4: string;
  v6: string;
  /** The interface toward the source. */
  in: Endpoint;
  /** The interface toward the destination (null for the destination). */
  out: Endpoint | null;
}

export interface TopologyOptions {
  /** Routers between source and destination, 0–64 (default 3). */
  routers?: number;
  /** MTU of every link at creation (default 1500). */
  mtu?: number;
  /** Keep the kernel's default ICMP rate limits instead of turning them off (default false). */
  keepIcmpRateLimits?: boolean;
  /** Naming prefix, 1–6 lowercase letters/digits (default 'ndt'); the stale sweep looks only at it. */
  prefix?: string;
}

export interface LoopbackOptions {
  /** ping_group_range set inside the namespace (default [0, 2147483647]: every group). */
  pingGroupRange?: readonly [number, number] | null;
  keepIcmpRateLimits?: boolean;
  prefix?: string;
}

/** Who runs a program started with run()/start(): applied with setpriv inside the namespace. */
export interface RunAs {
  uid: number;
  /** Defaults to uid. */
  gid?: number;
  /** Supplementary groups; default none. */
  groups?: readonly number[];
  /** Capabilities kept as ambient ones, e.g. ['net_raw']. */
  ambientCaps?: readonly string[];
  /**
   * Set no_new_privs, so file capabilities (e.g. cap_net_raw on /usr/bin/ping) are not granted:
   * the program then has only ambientCaps. Without it, such binaries keep their file caps.
   */
  noNewPrivs?: boolean;
}

export interface RunOptions extends ProcessOptions {
  user?: RunAs;
}

export type RouteType = 'unreachable' | 'prohibit' | 'blackhole';

/** What an nftables `reject` answers with; each maps to its IPv4 and/or IPv6 code. */
export type RejectKind =
  | 'net-unreachable'
  | 'host-unreachable'
  | 'port-unreachable'
  | 'prot-unreachable'
  | 'net-prohibited'
  | 'host-prohibited'
  | 'admin-prohibited'
  | 'policy-fail'
  | 'reject-route'
  | 'tcp-reset';

const REJECT_CODES: Record<RejectKind, { ipv4?: string; ipv6?: string }> = {
  'net-unreachable': { ipv4: 'icmp type net-unreachable', ipv6: 'icmpv6 type no-route' },
  'host-unreachable': { ipv4: 'icmp type host-unreachable', ipv6: 'icmpv6 type addr-unreachable' },
  'port-unreachable': { ipv4: 'icmp type port-unreachable', ipv6: 'icmpv6 type port-unreachable' },
  'prot-unreachable': { ipv4: 'icmp type prot-unreachable' },
  'net-prohibited': { ipv4: 'icmp type net-prohibited', ipv6: 'icmpv6 type admin-prohibited' },
  'host-prohibited': { ipv4: 'icmp type host-prohibited', ipv6: 'icmpv6 type admin-prohibited' },
  'admin-prohibited': { ipv4: 'icmp type admin-prohibited', ipv6: 'icmpv6 type admin-prohibited' },
  'policy-fail': { ipv6: 'icmpv6 type policy-fail' },
  'reject-route': { ipv6: 'icmpv6 type reject-route' },
  'tcp-reset': { ipv4: 'tcp reset', ipv6: 'tcp reset' },
};

export interface RuleOptions {
  /** Which families the rule applies to (default both, or the only one the rule exists for). */
  family?: FamilySelector;
  /** Extra nft match expression, e.g. 'icmp type echo-request' or 'udp dport 33434-33534'. */
  match?: string;
  /** Named counter to use (default: generated, returned by the call). */
  counter?: string;
}

const DEFAULT_PREFIX = 'ndt';
const NFT_TABLE = 'netdiag';
const MAX_ROUTERS = 64;
// Neighbour discovery must survive any drop/reject/loss rule, or IPv6 stops working altogether.
const ND_TYPES = 'nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert, nd-redirect';

// icmp_msgs_per_sec is multiplied by up to HZ jiffies in a u32: 10^6 stays clear of overflow.
// icmp_ratemask=0 as well: with icmp_ratelimit=0 alone every ICMPv4 error still passes through
// the per-source inet_peer bucket and empties it, and that bucket is the one the route-error
// limiter (error_cost) draws on — a time-exceeded to a source would then silence that router's
// `unreachable`-route errors to it for a second.
const ICMP_UNLIMITED: Record<string, string> = {
  'net.ipv4.icmp_ratelimit': '0',
  'net.ipv4.icmp_ratemask': '0',
  'net.ipv4.icmp_msgs_per_sec': '1000000',
  'net.ipv4.icmp_msgs_burst': '1000000',
  'net.ipv6.icmp.ratelimit': '0',
};

// ---------------------------------------------------------------------------------------------
// Process-wide registry: what to delete if the process ends without destroy().

const live = new Set<NamespaceGroup>();
const usedOctets = new Set<number>();
let handlersInstalled = false;
const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onExit(): void {
  for (const group of [...live]) group.destroySync();
}

function onSignal(signal: NodeJS.Signals): void {
  onExit();
  uninstallHandlers();
  // Nobody else handles it: die of the signal as we would have without our handler.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExit);
  for (const s of EXIT_SIGNALS) process.on(s, onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', onExit);
  for (const s of EXIT_SIGNALS) process.off(s, onSignal);
}

function register(group: NamespaceGroup): void {
  live.add(group);
  installHandlers();
}

function unregister(group: NamespaceGroup): void {
  live.delete(group);
  if (live.size === 0) uninstallHandlers();
}

// ---------------------------------------------------------------------------------------------
// Names, addresses, stale sweep

function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) {
    throw new RangeError(`prefix must be 1–6 lowercase letters/digits starting with a letter, got '${prefix}'`);
  }
  return prefix;
}

function newId(): string {
  return randomInt(36 ** 3, 36 ** 4).toString(36); // always 4 chars
}

/** A second octet not used by another live instance of this process. */
function allocateOctet(): number {
  for (let tries = 0; tries < 1000; tries++) {
    const x = randomInt(1, 255);
    if (!usedOctets.has(x)) {
      usedOctets.add(x);
      return x;
    }
  }
  throw new Error('more than 254 live topologies in one process');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return []; // no namespace was ever named on this boot
  }
}

/**
 * Deletes namespaces named `<prefix>-<pid>-…` whose creating process is no longer running.
 * Runs at every creation; returns the names it removed.
 */
export function sweepStaleNamespaces(prefix = DEFAULT_PREFIX): string[] {
  const pattern = new RegExp(`^${checkPrefix(prefix)}-(\\d+)-[a-z0-9]+-`);
  const stale = listNamespaces().filter((name) => {
    const m = pattern.exec(name);
    if (!m) return false;
    const pid = Number(m[1]);
    return pid !== process.pid && !pidAlive(pid);
  });
  if (stale.length) runProcessSync('ip', ['-force', '-batch', '-'], { input: stale.map((n) => `netns del ${n}\n`).join('') });
  return stale;
}

function hex2(x: number): string {
  return x.toString(16).padStart(2, '0');
}

function familyOf(address: string): Family {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

function families(sel: FamilySelector): Family[] {
  return sel === 'both' ? ['ipv4', 'ipv6'] : [sel];
}

async function ipBatch(lines: string[], opts: { ns?: string; force?: boolean } = {}): Promise<void> {
  if (!lines.length) return;
  const args = [...(opts.ns ? ['-n', opts.ns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await runProcess('ip', args, { input: lines.join('\n') + '\n' });
  if (r.code !== 0) throw new ProcessError(r);
}

function sysctlArgs(settings: Record<string, string | number>): string[] {
  return Object.entries(settings).map(([k, v]) => `${k}=${v}`);
}

// ---------------------------------------------------------------------------------------------

/**
 * A set of network namespaces this process created and owns: running programs in them, sysctls
 * and nftables rules. Every method refuses a namespace that is not one of its own.
 */
export abstract class NamespaceGroup {
  /** Four random base-36 characters, part of every name this instance made. */
  readonly id: string;
  readonly prefix: string;
  /** Every namespace of this instance, in path order. */
  readonly namespaces: readonly string[];
  /** The per-instance number behind the addresses (10.X…, fdXX…). */
  readonly octet: number;

  private destroyed = false;
  private destroying: Promise<void> | null = null;
  private readonly running = new Set<RunningProcess>();
  private readonly nftReady = new Set<string>();
  private readonly nftTouched = new Set<string>();
  private counterSeq = 0;

  protected constructor(prefix: string, id: string, octet: number, namespaces: string[]) {
    this.prefix = prefix;
    this.id = id;
    this.octet = octet;
    this.namespaces = namespaces;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  protected assertOwned(ns: string): void {
    if (this.destroyed) throw new Error(`namespace group ${this.id} was destroyed`);
    if (!this.namespaces.includes(ns)) {
      throw new Error(`'${ns}' is not a namespace of this instance (${this.namespaces.join(', ')})`);
    }
  }

  /** `ip netns exec ns [setpriv …] cmd args`, as an argument vector. */
  private nsCommand(ns: string, cmd: string, args: readonly string[], user?: RunAs): string[] {
    const pre = ['netns', 'exec', ns];
    if (user) {
      const gid = user.gid ?? user.uid;
      pre.push('setpriv', `--reuid=${user.uid}`, `--regid=${gid}`);
      pre.push(user.groups?.length ? `--groups=${user.groups.join(',')}` : '--clear-groups');
      if (user.ambientCaps?.length) {
        const caps = user.ambientCaps.map((c) => `+${c.replace(/^cap_/, '')}`).join(',');
        pre.push(`--inh-caps=${caps}`, `--ambient-caps=${caps}`);
      }
      if (user.noNewPrivs) pre.push('--no-new-privs');
      pre.push('--');
      // setpriv keeps its permitted set across the uid change, and no_new_privs only caps a
      // file-capability binary at what the exec-ing process had: exec env first, which drops it.
      if (user.noNewPrivs) pre.push('env', '--');
    }
    return [...pre, cmd, ...args];
  }

  /**
   * Starts a program inside `ns` (optionally as another user) and returns at once; `done` gives
   * its output and exit status. Programs still running at destroy() are killed.
   */
  start(ns: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): RunningProcess {
    this.assertOwned(ns);
    const { user, ...processOpts } = opts;
    const proc = startProcess('ip', this.nsCommand(ns, cmd, args, user), processOpts);
    this.running.add(proc);
    void proc.done.then(() => this.running.delete(proc));
    return proc;
  }

  /** Runs a program inside `ns` to the end; resolves with stdout, stderr, code — whatever the code. */
  run(ns: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<ProcessResult> {
    return this.start(ns, cmd, args, opts).done;
  }

  /** Runs a command inside `ns` (as root) and returns its stdout; rejects unless it exits 0. */
  async exec(ns: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<string> {
    const r = await this.run(ns, cmd, args, opts);
    if (r.code !== 0) throw new ProcessError(r);
    return r.stdout;
  }

  /** `ip -n ns …args`; returns stdout. */
  async ip(ns: string, args: readonly string[]): Promise<string> {
    this.assertOwned(ns);
    const r = await runProcess('ip', ['-n', ns, ...args]);
    if (r.code !== 0) throw new ProcessError(r);
    return r.stdout;
  }

  /** Sets one sysctl (`sysctl(ns, key, value)`) or several at once (`sysctl(ns, {key: value})`). */
  async sysctl(ns: string, keyOrSettings: string | Record<string, string | number>, value?: string | number): Promise<void> {
    if (typeof keyOrSettings === 'string' && value === undefined) throw new TypeError(`sysctl ${keyOrSettings}: no value given`);
    const settings = typeof keyOrSettings === 'string' ? { [keyOrSettings]: value ?? '' } : keyOrSettings;
    await this.exec(ns, 'sysctl', ['-qw', ...sysctlArgs(settings)]);
  }

  /** Reads one sysctl inside `ns` (tabs in multi-value keys such as ping_group_range kept). */
  async readSysctl(ns: string, key: string): Promise<string> {
    return (await this.exec(ns, 'sysctl', ['-n', key])).replace(/\n$/, '');
  }

  /** Lets groups lo…hi open ICMP ping sockets inside `ns` (net.ipv4.ping_group_range). */
  setPingGroupRange(ns: string, lo: number, hi: number): Promise<void> {
    return this.sysctl(ns, 'net.ipv4.ping_group_range', `${lo} ${hi}`);
  }

  /** Loads an nftables ruleset (nft -f syntax) inside `ns`. */
  async nft(ns: string, ruleset: string): Promise<void> {
    this.assertOwned(ns);
    this.nftTouched.add(ns);
    await this.exec(ns, 'nft', ['-f', '-'], { input: ruleset });
  }

  /** Our own table with input/forward/output chains that always let neighbour discovery through. */
  private async ensureNftTable(ns: string): Promise<void> {
    this.assertOwned(ns);
    if (this.nftReady.has(ns)) return;
    const chain = (hook: NftHook) =>
      `  chain ${hook} {\n    type filter hook ${hook} priority filter; policy accept;\n` +
      `    icmpv6 type { ${ND_TYPES} } accept\n  }\n`;
    await this.nft(ns, `table inet ${NFT_TABLE} {\n${chain('input')}${chain('forward')}${chain('output')}}\n`);
    this.nftReady.add(ns);
  }

  private nextCounter(kind: string, wanted?: string): string {
    if (wanted !== undefined) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(wanted)) throw new RangeError(`counter name '${wanted}' is not a plain identifier`);
      return wanted;
    }
    return `${kind}_${++this.counterSeq}`;
  }

  private async addRules(ns: string, hook: NftHook, counterName: string, rules: string[]): Promise<string> {
    await this.ensureNftTable(ns);
    const script =
      `add counter inet ${NFT_TABLE} ${counterName}\n` +
      rules.map((r) => `add rule inet ${NFT_TABLE} ${hook} ${r}\n`).join('');
    await this.nft(ns, script);
    return counterName;
  }

  /**
   * Drops ICMP messages of the given nft type names (e.g. 'time-exceeded' makes a silent hop;
   * names common to ICMP and ICMPv6 work with family 'both') leaving `ns` (hook 'output', the
   * default) or passing through it. Returns the name of the counter of dropped packets.
   */
  dropIcmpTypes(
    ns: string,
    types: readonly string[],
    familyOrOpts: FamilySelector | (RuleOptions & { hook?: NftHook }) = {},
  ): Promise<string> {
    const opts = typeof familyOrOpts === 'string' ? { family: familyOrOpts } : familyOrOpts;
    if (!types.length) throw new RangeError('dropIcmpTypes: no ICMP types given');
    const name = this.nextCounter('drop', opts.counter);
    const rules = families(opts.family ?? 'both').map(
      (f) => `${f === 'ipv4' ? 'icmp' : 'icmpv6'} type { ${types.join(', ')} } ${opts.match ?? ''} counter name "${name}" drop`,
    );
    return this.addRules(ns, opts.hook ?? 'output', name, rules);
  }

  /**
   * Drops `percent`% (integer 0–100) of the packets through hook `hook` (default 'forward':
   * packets routed through this namespace, both directions) with `numgen random mod 100 < N`.
   * Returns the counter name; counter() then gives the exact number dropped.
   */
  addLoss(ns: string, percent: number, opts: RuleOptions & { hook?: NftHook } = {}): Promise<string> {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`loss must be an integer percentage 0–100, got ${percent}`);
    }
    const name = this.nextCounter('loss', opts.counter);
    const fam = opts.family && opts.family !== 'both' ? `meta nfproto ${opts.family} ` : '';
    // nft range-checks the constant against the modulus, so 100 % is written as "always".
    const chance = percent === 100 ? '' : `numgen random mod 100 < ${percent} `;
    const rule = `${fam}${opts.match ?? ''} ${chance}counter name "${name}" drop`;
    return this.addRules(ns, opts.hook ?? 'forward', name, [rule]);
  }

  /**
   * Answers matching packets with an ICMP error (or a TCP reset) instead of passing them on.
   * Hook defaults to 'forward' in a router and 'input' elsewhere. Unlike route-generated errors,
   * these are not subject to the host-wide net.ipv4.route.error_cost limiter.
   * Returns the counter name.
   */
  reject(ns: string, kind: RejectKind, opts: RuleOptions & { hook?: NftHook } = {}): Promise<string> {
    const codes = REJECT_CODES[kind];
    if (!codes) throw new RangeError(`unknown reject kind '${kind}'`);
    const wanted = opts.family ? families(opts.family) : (['ipv4', 'ipv6'] as const).filter((f) => codes[f]);
    const name = this.nextCounter('reject', opts.counter);
    const rules = wanted.map((f) => {
      const code = codes[f];
      if (!code) throw new RangeError(`reject '${kind}' has no ${f} form`);
      const proto = kind === 'tcp-reset' ? 'meta l4proto tcp ' : '';
      return `meta nfproto ${f} ${proto}${opts.match ?? ''} counter name "${name}" reject with ${code}`;
    });
    return this.addRules(ns, opts.hook ?? this.defaultRejectHook(ns), name, rules);
  }

  protected defaultRejectHook(_ns: string): NftHook {
    return 'input';
  }

  /** Packets and bytes of a named nftables counter (ours by default: table inet netdiag). */
  async counter(ns: string, name: string, table = `inet ${NFT_TABLE}`): Promise<{ packets: number; bytes: number }> {
    const out = await this.exec(ns, 'nft', ['-j', 'list', 'counter', ...table.split(' '), name]);
    const doc = JSON.parse(out) as { nftables: Array<{ counter?: { name: string; packets: number; bytes: number } }> };
    const c = doc.nftables.find((e) => e.counter?.name === name)?.counter;
    if (!c) throw new Error(`no counter ${name} in ${table} of ${ns}`);
    return { packets: c.packets, bytes: c.bytes };
  }

  /** Removes every nftables rule (ours and those loaded with nft()) from `ns`, or from all. */
  async resetRules(ns?: string): Promise<void> {
    const targets = ns === undefined ? [...this.nftTouched] : [ns];
    await Promise.all(
      targets.map(async (n) => {
        await this.exec(n, 'nft', ['flush', 'ruleset']);
        this.nftReady.delete(n);
        this.nftTouched.delete(n);
      }),
    );
  }

  /** Kills programs still running and deletes every namespace of this instance. Idempotent. */
  destroy(): Promise<void> {
    if (this.destroyed) return this.destroying ?? Promise.resolve();
    this.destroyed = true;
    this.destroying = (async () => {
      for (const p of this.running) p.kill('SIGKILL');
      await Promise.all([...this.running].map((p) => p.done));
      await ipBatch(this.namespaces.map((n) => `netns del ${n}`), { force: true }).catch(() => {
        /* some were never created or are already gone: nothing left to delete */
      });
      this.released();
    })();
    return this.destroying;
  }

  /** destroy() for exit handlers: synchronous, never throws. */
  destroySync(): void {
    if (this.destroyed && !live.has(this)) return;
    this.destroyed = true;
    for (const p of this.running) p.kill('SIGKILL');
    runProcessSync('ip', ['-force', '-batch', '-'], { input: this.namespaces.map((n) => `netns del ${n}\n`).join('') });
    this.released();
  }

  private released(): void {
    unregister(this);
    usedOctets.delete(this.octet);
  }

  /** Namespaces of this instance that currently exist (for checks). */
  existingNamespaces(): string[] {
    const mine = new Set(this.namespaces);
    return listNamespaces().filter((n) => mine.has(n));
  }

  protected static async createNamespaces(group: NamespaceGroup, build: () => Promise<void>): Promise<void> {
    register(group);
    try {
      await build();
    } catch (e) {
      await group.destroy();
      throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** source — routers[0] … routers[N-1] — destination. Create with createTopology(). */
export class Topology extends NamespaceGroup {
  readonly source: string;
  readonly routers: readonly string[];
  readonly destination: string;
  /** links[k-1] is link k: links[0] joins source and router 1, the last joins the last router and destination. */
  readonly links: readonly Link[];
  /** hops[t-1] answers at TTL t; the last entry is the destination. */
  readonly hops: readonly Hop[];
  /** The source's own addresses (on link 1). */
  readonly sourceAddress: { v4: string; v6: string };
  /** The destination's addresses: what tests ping and trace. */
  readonly target: { v4: string; v6: string };

  private readonly initialMtu: number;
  private readonly addedRoutes: Array<{ ns: string; type: RouteType; prefix: string }> = [];
  private readonly changedMtu = new Set<number>();

  private constructor(prefix: string, id: string, octet: number, routerCount: number, mtu: number) {
    const nsName = (role: string) => `${prefix}-${process.pid}-${id}-${role}`;
    const nodes = [nsName('src'), ...Array.from({ length: routerCount }, (_, i) => nsName(`r${i + 1}`)), nsName('dst')];
    super(prefix, id, octet, nodes);
    this.initialMtu = mtu;
    this.source = nodes[0];
    this.routers = nodes.slice(1, -1);
    this.destination = nodes[nodes.length - 1];
    const v6Net = (k: number) => `fd${hex2(octet)}:${k.toString(16)}:`;
    this.links = Array.from({ length: routerCount + 1 }, (_, i): Link => {
      const k = i + 1;
      return {
        index: k,
        v4Prefix: `10.${octet}.${k}.0/24`,
        v6Prefix: `${v6Net(k)}:/64`,
        left: { ns: nodes[k - 1], ifname: `${prefix}${id}-${k}a`, v4: `10.${octet}.${k}.1`, v6: `${v6Net(k)}:1` },
        right: { ns: nodes[k], ifname: `${prefix}${id}-${k}b`, v4: `10.${octet}.${k}.2`, v6: `${v6Net(k)}:2` },
      };
    });
    this.hops = this.links.map((l, i): Hop => {
      const out = this.links[i + 1]?.left ?? null;
      return { ttl: i + 1, ns: l.right.ns, v4: l.right.v4, v6: l.right.v6, in: l.right, out };
    });
    this.sourceAddress = { v4: this.links[0].left.v4, v6: this.links[0].left.v6 };
    const last = this.links[this.links.length - 1].right;
    this.target = { v4: last.v4, v6: last.v6 };
  }

  /** Builds the chain; rejects (having deleted whatever it made) if any step fails. */
  static async create(opts: TopologyOptions = {}): Promise<Topology> {
    const routerCount = opts.routers ?? 3;
    if (!Number.isInteger(routerCount) || routerCount < 0 || routerCount > MAX_ROUTERS) {
      throw new RangeError(`routers must be an integer 0–${MAX_ROUTERS}, got ${routerCount}`);
    }
    const mtu = opts.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) throw new RangeError(`mtu must be 1280–65535 (IPv6 needs 1280), got ${mtu}`);
    const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
    sweepStaleNamespaces(prefix);
    const topo = new Topology(prefix, newId(), allocateOctet(), routerCount, mtu);
    await NamespaceGroup.createNamespaces(topo, () => topo.build(opts.keepIcmpRateLimits ?? false));
    return topo;
  }

  private async build(keepRateLimits: boolean): Promise<void> {
    const links = this.links;
    // One ip process makes every namespace and creates each veth pair directly inside its two namespaces.
    await ipBatch([
      ...this.namespaces.map((n) => `netns add ${n}`),
      ...links.map((l) => `link add ${l.left.ifname} netns ${l.left.ns} type veth peer name ${l.right.ifname} netns ${l.right.ns}`),
    ]);

    const last = this.namespaces.length - 1;
    const perNode = this.namespaces.map(async (ns, k) => {
      const ends: Array<{ end: Endpoint; ll: string }> = [];
      if (k > 0) ends.push({ end: links[k - 1].right, ll: 'fe80::2' });
      if (k < last) ends.push({ end: links[k].left, ll: 'fe80::1' });
      const lines = ['link set dev lo up'];
      for (const { end, ll } of ends) {
        // No kernel link-local: its DAD would keep it tentative for a second, and a router cannot
        // solicit neighbours for forwarded IPv6 packets without a usable one. Ours skips DAD.
        lines.push(`link set dev ${end.ifname} addrgenmode none mtu ${this.initialMtu} up`);
        lines.push(`addr add ${ll}/64 dev ${end.ifname} nodad`);
        lines.push(`addr add ${end.v4}/24 dev ${end.ifname}`);
        lines.push(`addr add ${end.v6}/64 dev ${end.ifname} nodad`);
      }
      if (k === 0) {
        lines.push(`route add 0.0.0.0/0 via ${links[0].right.v4}`, `route add ::/0 via ${links[0].right.v6}`);
      } else if (k === last) {
        lines.push(`route add 0.0.0.0/0 via ${links[k - 1].left.v4}`, `route add ::/0 via ${links[k - 1].left.v6}`);
      } else {
        // Routers get explicit routes only: anything outside the chain is "no route" (!N) at router 1.
        for (const l of links) {
          if (l.index === k || l.index === k + 1) continue; // connected
          const via = l.index < k ? links[k - 1].left : links[k].right;
          lines.push(`route add ${l.v4Prefix} via ${via.v4}`, `route add ${l.v6Prefix} via ${via.v6}`);
        }
      }
      const router = k > 0 && k < last;
      const settings: Record<string, string> = {
        'net.ipv4.ip_forward': router ? '1' : '0',
        'net.ipv6.conf.all.forwarding': router ? '1' : '0',
        ...(keepRateLimits ? {} : ICMP_UNLIMITED),
      };
      await Promise.all([
        ipBatch(lines, { ns }),
        runProcess('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...sysctlArgs(settings)]).then((r) => {
          if (r.code !== 0) throw new ProcessError(r);
        }),
      ]);
    });
    await Promise.all(perNode);
  }

  protected override defaultRejectHook(ns: string): NftHook {
    return this.routers.includes(ns) ? 'forward' : 'input';
  }

  private linkAt(link: number | Link): Link {
    const index = typeof link === 'number' ? link : link.index;
    const l = this.links[index - 1];
    if (!l || l.index !== index) throw new RangeError(`no link ${index} (links are 1–${this.links.length})`);
    return l;
  }

  /**
   * Sets the MTU of both ends of link k (1-based; link k joins hop k-1 and hop k) and forgets
   * path MTUs learned so far in every namespace. Packets larger than `mtu` entering that link
   * are answered by the node on its left (frag needed / packet too big; "message too long" at
   * the source itself when k = 1).
   */
  async setMtu(link: number | Link, mtu: number): Promise<void> {
    const l = this.linkAt(link);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`mtu must be 68–65535, got ${mtu}`);
    this.assertOwned(l.left.ns);
    await Promise.all([
      this.ip(l.left.ns, ['link', 'set', 'dev', l.left.ifname, 'mtu', String(mtu)]),
      this.ip(l.right.ns, ['link', 'set', 'dev', l.right.ifname, 'mtu', String(mtu)]),
    ]);
    this.changedMtu.add(l.index);
    await this.flushRouteCaches(); // a raised MTU must not hide behind path MTUs learned before
  }

  /** Forgets cached path MTUs and redirects (IPv4 and IPv6) in every namespace of the chain. */
  async flushRouteCaches(): Promise<void> {
    await Promise.all(
      this.namespaces.flatMap((ns) => [this.ip(ns, ['-4', 'route', 'flush', 'cache']), this.ip(ns, ['-6', 'route', 'flush', 'cache'])]),
    );
  }

  /**
   * Adds a route of type unreachable / prohibit / blackhole for `prefix` (IPv4 or IPv6) in `ns`.
   * E.g. addRoute(routers[2], 'unreachable', `${target.v4}/32`) makes router 3 answer `!H`
   * (IPv6: `!N`); 'prohibit' gives `!X`; 'blackhole' drops silently.
   * Beware: IPv4 errors generated by routes are limited by net.ipv4.route.error_cost/error_burst,
   * which exist only in the host's namespace (we do not touch them): per router and source
   * address a burst of 5, then one per second (defaults; blackhole is silent anyway). Use
   * reject() where a test needs more. IPv6 has no such limiter.
   */
  async addRoute(ns: string, type: RouteType, prefix: string): Promise<void> {
    await this.ip(ns, [familyOf(prefix) === 'ipv6' ? '-6' : '-4', 'route', 'add', type, prefix]);
    this.addedRoutes.push({ ns, type, prefix });
  }

  /** Removes a route added with addRoute(). */
  async deleteRoute(ns: string, type: RouteType, prefix: string): Promise<void> {
    await this.ip(ns, [familyOf(prefix) === 'ipv6' ? '-6' : '-4', 'route', 'del', type, prefix]);
    const i = this.addedRoutes.findIndex((r) => r.ns === ns && r.type === type && r.prefix === prefix);
    if (i >= 0) this.addedRoutes.splice(i, 1);
  }

  /**
   * Back to the state right after creation, for topologies shared by several tests: removes all
   * nftables rules, routes added with addRoute(), restores link MTUs (and then forgets learned
   * path MTUs).
   * Sysctls changed with sysctl()/setPingGroupRange() are left as they are.
   */
  async reset(): Promise<void> {
    await this.resetRules();
    for (const r of [...this.addedRoutes].reverse()) await this.deleteRoute(r.ns, r.type, r.prefix);
    const mtus = [...this.changedMtu].map((k) => this.linkAt(k));
    if (!mtus.length) return;
    this.changedMtu.clear();
    await Promise.all(
      mtus.flatMap((l) => [
        this.ip(l.left.ns, ['link', 'set', 'dev', l.left.ifname, 'mtu', String(this.initialMtu)]),
        this.ip(l.right.ns, ['link', 'set', 'dev', l.right.ifname, 'mtu', String(this.initialMtu)]),
      ]),
    );
    await this.flushRouteCaches(); // path MTUs learned while the link was smaller
  }
}

/** Builds a chain topology (see Topology). Remember to destroy() it, or use useTopology(). */
export function createTopology(opts: TopologyOptions = {}): Promise<Topology> {
  return Topology.create(opts);
}

// ---------------------------------------------------------------------------------------------

/**
 * One namespace with only lo, up: 127.0.0.0/8 is local as always, and `v6Prefix` (fdXX::/64)
 * is routed to lo as well (IPv6 AnyIP), so every address in it answers — for many-target tests.
 * ping_group_range is widened inside it (by default to every group) for ping-socket tests.
 */
export class LoopbackNamespace extends NamespaceGroup {
  readonly ns: string;
  /** e.g. 'fd3a::/64' — every address in it is local. */
  readonly v6Prefix: string;

  private constructor(prefix: string, id: string, octet: number) {
    const ns = `${prefix}-${process.pid}-${id}-lo`;
    super(prefix, id, octet, [ns]);
    this.ns = ns;
    this.v6Prefix = `fd${hex2(octet)}::/64`;
  }

  /** The n-th address (n ≥ 1) of v6Prefix, e.g. v6Address(255) → 'fd3a::ff'. */
  v6Address(n: number): string {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`address index must be 1–2^32-1, got ${n}`);
    const hi = Math.floor(n / 0x10000);
    return `fd${hex2(this.octet)}::${hi ? `${hi.toString(16)}:` : ''}${(n % 0x10000).toString(16)}`;
  }

  static async create(opts: LoopbackOptions = {}): Promise<LoopbackNamespace> {
    const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
    sweepStaleNamespaces(prefix);
    const lo = new LoopbackNamespace(prefix, newId(), allocateOctet());
    await NamespaceGroup.createNamespaces(lo, async () => {
      await ipBatch([`netns add ${lo.ns}`]);
      const range = opts.pingGroupRange === undefined ? ([0, 2147483647] as const) : opts.pingGroupRange;
      const settings: Record<string, string> = {
        ...(opts.keepIcmpRateLimits ? {} : ICMP_UNLIMITED),
        ...(range ? { 'net.ipv4.ping_group_range': `${range[0]} ${range[1]}` } : {}),
      };
      await Promise.all([
        ipBatch(['link set dev lo up', `route add local ${lo.v6Prefix} dev lo`], { ns: lo.ns }),
        Object.keys(settings).length ? lo.sysctl(lo.ns, settings) : Promise.resolve(),
      ]);
    });
    return lo;
  }
}

/** Creates a LoopbackNamespace. Remember to destroy() it, or use useLoopbackNamespace(). */
export function loopbackNamespace(opts: LoopbackOptions = {}): Promise<LoopbackNamespace> {
  return LoopbackNamespace.create(opts);
}

// ---------------------------------------------------------------------------------------------
// vitest wrappers: build in beforeAll, destroy in afterAll (which vitest runs even when tests or
// beforeAll itself failed).

function lazyHandle<T extends object>(what: string, create: () => Promise<T & { destroy(): Promise<void> }>): T {
  let instance: (T & { destroy(): Promise<void> }) | undefined;
  beforeAll(async () => {
    instance = await create();
  });
  afterAll(async () => {
    await instance?.destroy();
  });
  return new Proxy({} as T, {
    get(_target, prop) {
      if (!instance) throw new Error(`${what} is not built yet: use it inside tests or hooks, not while collecting them`);
      const value = Reflect.get(instance, prop, instance) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(instance) : value;
    },
    has(_target, prop) {
      return instance !== undefined && prop in instance;
    },
  });
}

/**
 * Inside a describe(): a Topology built before the tests and destroyed after them.
 *   const net = useTopology({ routers: 8 });
 *   it('…', async () => { await net.run(net.source, 'ping', ['-c1', net.target.v4]); });
 */
export function useTopology(opts: TopologyOptions = {}): Topology {
  return lazyHandle('the topology', () => createTopology(opts));
}

/** Inside a describe(): a LoopbackNamespace built before the tests and destroyed after them. */
export function useLoopbackNamespace(opts: LoopbackOptions = {}): LoopbackNamespace {
  return lazyHandle('the loopback namespace', () => loopbackNamespace(opts));
}
