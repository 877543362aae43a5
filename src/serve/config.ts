// netdiag serve's configuration (contract.md "netdiag serve configuration"): YAML or JSON (JSON
// is YAML 1.2, one parser reads both), a superset of smokeping_prober's file, which loads
// unchanged. Checked on the parsed tree, so every complaint names the line it is about; an
// unknown key is an error (a typo must not silently probe with defaults). A library object
// goes through the same checks, without lines.

import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair } from 'yaml';
import { MAX_PAYLOAD } from '../ping/options.js';
import { ConfigError } from './config-error.js';
import { parseDuration } from './duration.js';
import { hostEntries, parseCidr, type HostEntry } from './host-list.js';

/** Largest config file read. */
export const MAX_CONFIG_BYTES = 4 << 20;
/** Most addresses and names one prober probes, CIDR blocks expanded. */
export const MAX_SERVE_TARGETS = 100_000;
/** Most entries in probe.allow. */
export const MAX_ALLOW_ENTRIES = 10_000;
/** Most echoes one /probe may ask for. */
export const MAX_PROBE_COUNT = 100;
/** Labels that netdiag's own series carry, so a group may not set them. */
export const RESERVED_LABELS = ['target', 'address', 'family', 'method', 'type', 'code', 'le'];

export type ProbeMethod = 'icmp' | 'tcp';

/** What one target group (or /probe module) sends, times in ms. */
export interface ProbeSettings {
  method: ProbeMethod;
  /** tcp: the port to connect to */
  port: number | null;
  tcpMethod: 'syn' | 'connect' | 'auto';
  interval: number;
  timeout: number;
  size: number;
  ttl: number | null;
  tos: number;
  source: string | null;
  /** smokeping's network: ip (either), ip4, ip6 */
  family: 4 | 6 | null;
  /** smokeping's protocol: icmp asks for raw sockets (auto), udp for ping sockets */
  socket: 'auto' | 'dgram';
}

export interface TargetGroup extends ProbeSettings {
  /** the hosts as written (names, addresses, CIDRs) */
  hostTexts: string[];
  /** addresses (CIDRs expanded) and names */
  hosts: HostEntry[];
  labels: Record<string, string>;
  /** ms between lookups of the names */
  resolveInterval: number;
}

export interface ProbeModule extends ProbeSettings {
  /** echoes per /probe (the request's count may override) */
  count: number;
}

export interface ServeConfig {
  targets: TargetGroup[];
  probe: { allow: string[]; modules: Record<string, ProbeModule> };
}

const GROUP_KEYS = ['hosts', 'host', 'interval', 'timeout', 'network', 'protocol', 'method', 'port', 'tcp_method', 'size', 'ttl', 'tos', 'source', 'labels', 'resolve_interval'];
const MODULE_KEYS = ['method', 'port', 'tcp_method', 'count', 'interval', 'timeout', 'network', 'protocol', 'size', 'ttl', 'tos', 'source'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const checked = new WeakSet<object>();

/** True for a config these functions made (createProber takes those as they are). */
export function isCheckedConfig(v: unknown): v is ServeConfig {
  return typeof v === 'object' && v !== null && checked.has(v);
}

/** Reads and checks a config file (YAML or JSON). */
export function loadConfigFile(file: string): ServeConfig {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new ConfigError('is not a regular file', null, file);
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigError(`is ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} a config may have`, null, file);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot be read (${code ?? (e as Error).message})`, null, file);
  }
  return parseConfigText(text, file);
}

/** Checks a config given as YAML or JSON text. */
export function parseConfigText(text: string, file: string | null = null): ServeConfig {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(`is longer than the ${MAX_CONFIG_BYTES} bytes a config may have`, null, file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lines.linePos(e.pos[0]).line;
    throw new ConfigError(`not valid YAML or JSON: ${e.message.split('\n')[0]}`, line, file);
  }
  return new Checker((n) => (n?.range ? lines.linePos(n.range[0]).line : null), file).config(doc.contents as YamlNode | null);
}

/** Checks a config given as an object in the file's shape (createProber's argument). */
export function parseConfigObject(value: unknown): ServeConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('must be an object with a targets list');
  return new Checker(() => null, null).config(new Document(value).contents as YamlNode | null);
}

/** A checked config with more target groups (another checked config's). */
export function withGroups(config: ServeConfig, groups: readonly TargetGroup[]): ServeConfig {
  const total = [...config.targets, ...groups].reduce((n, g) => n + g.hosts.length, 0);
  if (total > MAX_SERVE_TARGETS) throw new ConfigError(`more than ${MAX_SERVE_TARGETS} targets in all (CIDRs expanded)`);
  const out: ServeConfig = { ...config, targets: [...config.targets, ...groups] };
  checked.add(out);
  return out;
}

/** The config of `netdiag serve --target HOST...` without a file. */
export function configOfHosts(hosts: readonly string[]): ServeConfig {
  return parseConfigObject({ targets: [{ hosts: [...hosts] }] });
}

class Checker {
  private total = 0;
  constructor(
    private readonly lineOf: (n: YamlNode | null | undefined) => number | null,
    private readonly file: string | null,
  ) {}

  private fail(problem: string, at: YamlNode | null | undefined): never {
    throw new ConfigError(problem, this.lineOf(at), this.file);
  }

  /** The pairs of a map, refusing keys not in `known`. */
  private entries(node: YamlNode | null | undefined, where: string, known: readonly string[] | null): Map<string, { value: YamlNode | null; key: YamlNode }> {
    if (!isMap(node)) this.fail(`${where} must be a map (key: value)`, node);
    const out = new Map<string, { value: YamlNode | null; key: YamlNode }>();
    for (const pair of node.items as Pair<YamlNode, YamlNode | null>[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key === null) this.fail(`${where} has a key that is not a plain name`, pair.key);
      if (known !== null && !known.includes(key)) {
        this.fail(`unknown key '${key}' in ${where} (known keys: ${known.join(', ')})`, pair.key);
      }
      out.set(key, { value: pair.value, key: pair.key });
    }
    return out;
  }

  private scalar(node: YamlNode | null | undefined): unknown {
    return isScalar(node) ? node.value : undefined;
  }

  config(root: YamlNode | null): ServeConfig {
    if (root === null) this.fail('is empty: give at least a targets list', null);
    const top = this.entries(root, 'the config', ['targets', 'probe']);
    const targets: TargetGroup[] = [];
    const list = top.get('targets');
    if (list !== undefined && list.value !== null) {
      if (!isSeq(list.value)) this.fail('targets must be a list of target groups', list.value);
      list.value.items.forEach((g, i) => targets.push(this.group(g as YamlNode, `targets[${i}]`)));
    }
    const probe = top.get('probe');
    const out: ServeConfig = { targets, probe: { allow: [], modules: { icmp: defaultModule() } } };
    if (probe !== undefined && probe.value !== null) out.probe = this.probe(probe.value);
    checked.add(out);
    return out;
  }

  private settings(e: Map<string, { value: YamlNode | null; key: YamlNode }>, where: string, dflt: { interval: number; timeout: number | null }): ProbeSettings {
    const get = (k: string) => e.get(k)?.value;
    const method = this.choice(get('method'), `${where}.method`, ['icmp', 'tcp'] as const, 'icmp');
    const network = this.choice(get('network'), `${where}.network`, ['ip', 'ip4', 'ip6'] as const, 'ip');
    const protocol = this.choice(get('protocol'), `${where}.protocol`, ['icmp', 'udp'] as const, 'icmp');
    const interval = this.duration(get('interval'), `${where}.interval`, dflt.interval, 1);
    const timeout = this.duration(get('timeout'), `${where}.timeout`, dflt.timeout ?? interval, 1);
    let port: number | null = null;
    if (get('port') !== undefined) port = this.integer(get('port'), `${where}.port`, 1, 65535);
    if (method === 'tcp' && port === null) this.fail(`${where}.method is tcp: give a port (e.g. port: 443)`, get('method'));
    if (method === 'icmp' && port !== null) this.fail(`${where}.port is for method tcp only`, get('port'));
    const tcpMethod = this.choice(get('tcp_method'), `${where}.tcp_method`, ['syn', 'connect', 'auto'] as const, 'auto');
    const size = get('size') === undefined ? 56 : this.integer(get('size'), `${where}.size`, 0, MAX_PAYLOAD);
    const ttl = get('ttl') === undefined ? null : this.integer(get('ttl'), `${where}.ttl`, 1, 255);
    const tos = get('tos') === undefined ? 0 : this.integer(get('tos'), `${where}.tos`, 0, 255);
    let source: string | null = null;
    const s = get('source');
    if (s !== undefined && s !== null) {
      const v = this.scalar(s);
      if (typeof v !== 'string' || isIP(v) === 0) this.fail(`${where}.source must be an IP address`, s);
      source = v;
    }
    return {
      method, port, tcpMethod, interval, timeout, size, ttl, tos, source,
      family: network === 'ip4' ? 4 : network === 'ip6' ? 6 : null,
      socket: protocol === 'udp' ? 'dgram' : 'auto',
    };
  }

  private group(node: YamlNode, where: string): TargetGroup {
    const e = this.entries(node, where, GROUP_KEYS);
    const texts: string[] = [];
    const hostsNode = e.get('hosts')?.value;
    if (hostsNode !== undefined && hostsNode !== null) {
      if (!isSeq(hostsNode)) this.fail(`${where}.hosts must be a list of hosts`, hostsNode);
      for (const h of hostsNode.items as YamlNode[]) {
        const v = this.scalar(h);
        if (typeof v !== 'string' && typeof v !== 'number') this.fail(`${where}.hosts holds something that is not a host name, address or CIDR`, h);
        texts.push(String(v));
      }
    }
    const host = e.get('host')?.value;
    // smokeping_prober: `host` is used only when `hosts` is empty
    if (host !== undefined && host !== null && texts.length === 0) texts.push(String(this.scalar(host)));
    if (texts.length === 0) this.fail(`${where} has no hosts (e.g. hosts: [127.0.0.1])`, node);
    const hosts: HostEntry[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < texts.length; i++) {
      const at = isSeq(hostsNode) ? (hostsNode.items[i] as YamlNode) : host;
      const r = hostEntries(texts[i]!);
      if (typeof r === 'string') this.fail(`${where}.hosts: '${texts[i]}': ${r}`, at);
      for (const h of r) {
        const key = h.kind === 'address' ? h.address : h.host;
        if (seen.has(key)) continue;
        seen.add(key);
        hosts.push(h);
      }
      this.total += r.length;
      if (this.total > MAX_SERVE_TARGETS) this.fail(`more than ${MAX_SERVE_TARGETS} targets in all (CIDRs expanded): split them over several probers`, at);
    }
    const settings = this.settings(e, where, { interval: 1000, timeout: null });
    const labels: Record<string, string> = {};
    const l = e.get('labels')?.value;
    if (l !== undefined && l !== null) {
      for (const [k, { value, key }] of this.entries(l, `${where}.labels`, null)) {
        if (!LABEL_NAME.test(k) || k.startsWith('__')) this.fail(`${where}.labels: '${k}' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`, key);
        if (RESERVED_LABELS.includes(k)) this.fail(`${where}.labels: '${k}' is a label netdiag sets itself (reserved: ${RESERVED_LABELS.join(', ')})`, key);
        const v = this.scalar(value);
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') this.fail(`${where}.labels.${k} must be a text`, value ?? key);
        const text = String(v);
        if (text.length > 1024) this.fail(`${where}.labels.${k} is longer than 1024 characters`, value);
        labels[k] = text;
      }
    }
    const resolveInterval = this.duration(e.get('resolve_interval')?.value, `${where}.resolve_interval`, 300_000, 1000);
    return { ...settings, hostTexts: texts, hosts, labels, resolveInterval };
  }

  private probe(node: YamlNode): ServeConfig['probe'] {
    const e = this.entries(node, 'probe', ['allow', 'modules']);
    const allow: string[] = [];
    const a = e.get('allow')?.value;
    if (a !== undefined && a !== null) {
      if (!isSeq(a)) this.fail('probe.allow must be a list of addresses, CIDRs and names', a);
      if (a.items.length > MAX_ALLOW_ENTRIES) this.fail(`probe.allow has more than ${MAX_ALLOW_ENTRIES} entries`, a);
      for (const item of a.items as YamlNode[]) {
        const v = this.scalar(item);
        if (typeof v !== 'string') this.fail('probe.allow holds something that is not an address, CIDR or name', item);
        if (v.includes('/')) {
          const c = parseCidr(v);
          if (typeof c === 'string') this.fail(`probe.allow: '${v}': ${c}`, item);
        } else {
          const r = hostEntries(v);
          if (typeof r === 'string') this.fail(`probe.allow: '${v}': ${r}`, item);
        }
        allow.push(v);
      }
    }
    const modules: Record<string, ProbeModule> = {};
    const m = e.get('modules')?.value;
    if (m !== undefined && m !== null) {
      for (const [name, { value, key }] of this.entries(m, 'probe.modules', null)) {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) this.fail(`probe.modules: '${name}' is not a usable module name (letters, digits, _ . -)`, key);
        const where = `probe.modules.${name}`;
        const me = this.entries(value ?? key, where, MODULE_KEYS);
        const settings = this.settings(me, where, { interval: 1000, timeout: 5000 });
        const count = me.get('count') === undefined ? 1 : this.integer(me.get('count')!.value, `${where}.count`, 1, MAX_PROBE_COUNT);
        modules[name] = { ...settings, count };
      }
    } else {
      modules.icmp = defaultModule();
    }
    return { allow, modules };
  }

  private choice<T extends string>(node: YamlNode | null | undefined, where: string, allowed: readonly T[], dflt: T): T {
    if (node === undefined || node === null) return dflt;
    const v = this.scalar(node);
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(`${where} must be one of ${allowed.join(', ')}`, node);
    return v as T;
  }

  private integer(node: YamlNode | null | undefined, where: string, min: number, max: number): number {
    let v = this.scalar(node);
    // 0x10, 0b1010, 0o17 (smokeping's tos may be written so; YAML 1.2 reads only some as numbers)
    if (typeof v === 'string' && /^0[xob][0-9a-f]+$/i.test(v)) v = Number(v);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`${where} must be a whole number from ${min} to ${max}`, node);
    return v;
  }

  private duration(node: YamlNode | null | undefined, where: string, dflt: number, minMs: number): number {
    if (node === undefined || node === null) return dflt;
    const ms = parseDuration(this.scalar(node));
    if (ms === null || ms < minMs || ms > 2 ** 31 - 1) this.fail(`${where} must be a duration such as 1s, 500ms, 1m (or a number of seconds), at least ${minMs} ms`, node);
    return ms;
  }
}

function defaultModule(): ProbeModule {
  return {
    method: 'icmp', port: null, tcpMethod: 'auto', interval: 1000, timeout: 5000, size: 56, ttl: null, tos: 0, source: null,
    family: null, socket: 'auto', count: 1,
  };
}
