// A set of network namespaces this process owns, and the process-wide machinery that makes sure
// they are deleted: destroy()/close()/`await using`, a synchronous cleanup on process exit and
// SIGINT/SIGTERM/SIGHUP (under Jest, whose `process` never fires those, a guard process:
// exit-guard.ts), and a sweep at creation of namespaces left by dead processes (SIGKILL,
// OOM, power loss). Names are `<prefix>-<pid>-<id>-<role>`: unique per process and instance, so
// parallel test files never collide, and the pid is what the stale sweep checks.
//
// Everything runs in namespaces created here; no sysctl of the host's own namespace is touched.
// Needs root (CAP_SYS_ADMIN to create namespaces, CAP_NET_ADMIN inside them), iproute2, and
// nftables for the rule helpers — testNetworkSupport() says what is missing.

import { readdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import {
  ProcessError,
  runProcess,
  runProcessSync,
  startProcess,
  type ProcessOptions,
  type ProcessResult,
  type RunningProcess,
} from './process.js';
import { exitGuard } from './exit-guard.js';
import { functionScript } from './function-script.js';

export type Family = 'ipv4' | 'ipv6';
export type FamilySelector = Family | 'both';
export type NftHook = 'input' | 'forward' | 'output';

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

export const DEFAULT_PREFIX = 'ndt';
const NFT_TABLE = 'netdiag';
// Neighbour discovery must survive any drop/reject/loss rule, or IPv6 stops working altogether.
const ND_TYPES = 'nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert, nd-redirect';

// icmp_msgs_per_sec is multiplied by up to HZ jiffies in a u32: 10^6 stays clear of overflow.
// icmp_ratemask=0 as well: with icmp_ratelimit=0 alone every ICMPv4 error still passes through
// the per-source inet_peer bucket and empties it, and that bucket is the one the route-error
// limiter (error_cost) draws on — a time-exceeded to a source would then silence that router's
// `unreachable`-route errors to it for a second.
export const ICMP_UNLIMITED: Record<string, string> = {
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
  exitGuard()?.add(group.namespaces); // where the handlers above never run (Jest)
}

function unregister(group: NamespaceGroup): void {
  live.delete(group);
  if (live.size === 0) uninstallHandlers();
  exitGuard()?.remove(group.namespaces);
}

// ---------------------------------------------------------------------------------------------
// Names, addresses, stale sweep

/** @internal */
export function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) {
    throw new RangeError(`prefix must be 1–6 lowercase letters/digits starting with a letter, got '${prefix}'`);
  }
  return prefix;
}

/** @internal */
export function newId(): string {
  return randomInt(36 ** 3, 36 ** 4).toString(36); // always 4 chars
}

/** A second octet not used by another live instance of this process. */
/** @internal */
export function allocateOctet(): number {
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

/** @internal */
export function hex2(x: number): string {
  return x.toString(16).padStart(2, '0');
}

/** @internal */
export function familyOf(address: string): Family {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/** @internal */
export function families(sel: FamilySelector): Family[] {
  return sel === 'both' ? ['ipv4', 'ipv6'] : [sel];
}

/** @internal */
export async function ipBatch(lines: string[], opts: { ns?: string; force?: boolean } = {}): Promise<void> {
  if (!lines.length) return;
  const args = [...(opts.ns ? ['-n', opts.ns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await runProcess('ip', args, { input: lines.join('\n') + '\n' });
  if (r.code !== 0) throw new ProcessError(r);
}

/** @internal */
export function sysctlArgs(settings: Record<string, string | number>): string[] {
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

  /** link-local addresses of interfaces taken down, put back when they come up (`ns ifname` → addresses) */
  private readonly linkLocals = new Map<string, string[]>();
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

  /** The same as destroy(): for code that says close(). */
  close(): Promise<void> {
    return this.destroy();
  }

  /** `await using net = await createTopology()` destroys it when the block is left, thrown or not. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }

  /** Sets interface `ifname` in `ns` down or up (both ends of a veth see the carrier drop). */
  async setInterfaceState(ns: string, ifname: string, state: 'up' | 'down'): Promise<void> {
    const key = `${ns} ${ifname}`;
    if (state === 'down') {
      // the kernel otherwise deletes an interface's IPv6 addresses when it goes down
      await this.sysctl(ns, `net.ipv6.conf.${ifname}.keep_addr_on_down`, 1);
      // link-local ones go even so, and with addrgenmode none nothing makes them again on up:
      // without one, neighbour discovery on the link fails and IPv6 stays cut
      if (!this.linkLocals.has(key)) {
        const out = await this.ip(ns, ['-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'link']);
        this.linkLocals.set(key, [...out.matchAll(/inet6 (\S+)/g)].map((m) => m[1]));
      }
    }
    await this.ip(ns, ['link', 'set', 'dev', ifname, state]);
    if (state === 'up') {
      for (const addr of this.linkLocals.get(key) ?? []) await this.ip(ns, ['addr', 'replace', addr, 'dev', ifname, 'nodad']);
      this.linkLocals.delete(key);
    }
  }

  /**
   * Runs `fn(arg)` in a new Node process inside `ns`, so every socket it opens is in that
   * namespace; resolves with what it returns (JSON). `fn` must be self-contained: its source is
   * all that travels, so it imports what it needs with `await import(...)` (or the
   * second argument's `import`), resolved from `opts.cwd` (default this process's cwd).
   * Rejects with the child's stderr if it throws.
   */
  async runFunction<A, R>(
    ns: string,
    fn: (arg: A, context: { import(specifier: string): Promise<any> }) => R | Promise<R>,
    arg?: A,
    opts: RunOptions = {},
  ): Promise<R> {
    const marker = `__netdiag_result_${this.id}__`;
    const script = functionScript(fn.toString(), marker);
    const r = await this.run(ns, process.execPath, ['--input-type=module', '-e', script, JSON.stringify(arg ?? null)], {
      cwd: process.cwd(),
      ...opts,
    });
    const at = r.stdout.lastIndexOf(marker);
    if (r.code !== 0 || at < 0) throw new ProcessError(r);
    return JSON.parse(r.stdout.slice(at + marker.length)) as R;
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

