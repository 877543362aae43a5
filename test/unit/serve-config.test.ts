// netdiag serve's config: YAML and JSON, smokeping_prober's own file, and refusals that name
// the key and the line.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/serve/config-error.js';
import { configOfHosts, parseConfigObject, parseConfigText } from '../../src/serve/config.js';
import { parseDuration } from '../../src/serve/duration.js';
import { expandCidr, hostEntries } from '../../src/serve/host-list.js';

function failure(text: string): ConfigError {
  try {
    parseConfigText(text, 'serve.yml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('the config was accepted');
}

describe('serve config', () => {
  it("loads smokeping_prober's example file unchanged", () => {
    // smokeping_prober.yml as its repository ships it (every key it knows)
    const c = parseConfigText([
      '---',
      'targets:',
      '- hosts:',
      '  - localhost',
      '  interval: 1s # Duration, Default 1s.',
      '  network: ip # One of ip, ip4, ip6. Default: ip (automatic IPv4/IPv6)',
      '  protocol: icmp # One of icmp, udp. Default: icmp (Requires privileged operation)',
      '  size: 56 # Packet data size in bytes. Default 56 (Range: 24 - 65535)',
      '  source: 127.0.1.1 # Souce IP address to use. Default: None (automatic selection)',
      '  tos: 0x00 # Packet ToS field in decimal, hexadecimal or binary format. Default: 0 (Range: 0-255)',
      '',
    ].join('\n'));
    expect(c.targets).toHaveLength(1);
    const g = c.targets[0]!;
    expect(g.hosts).toEqual([{ kind: 'name', host: 'localhost' }]);
    expect(g).toMatchObject({ interval: 1000, timeout: 1000, family: null, socket: 'auto', size: 56, source: '127.0.1.1', tos: 0, method: 'icmp' });
  });

  it('reads the contract example (names, addresses, CIDRs, labels, probe modules)', () => {
    const c = parseConfigText([
      'targets:',
      '  - hosts: [127.0.0.1, db.internal, 10.0.0.0/30]',
      '    interval: 500ms',
      '    method: icmp',
      '    labels: {group: web}',
      '  - host: ::1',
      '    interval: 2',
      '    tos: 0x10',
      '    network: ip6',
      '    protocol: udp',
      'probe:',
      '  allow: [127.0.0.0/8, "::1", db.internal]',
      '  modules:',
      '    icmp: {method: icmp, count: 1, timeout: 5s}',
      '    icmp5: {count: 5, timeout: 2.5s, ttl: 9}',
    ].join('\n'));
    expect(c.targets[0]!.hosts.map((h) => h.host)).toEqual(['127.0.0.1', 'db.internal', '10.0.0.1', '10.0.0.2']);
    expect(c.targets[0]!.labels).toEqual({ group: 'web' });
    expect(c.targets[0]!.interval).toBe(500);
    expect(c.targets[1]).toMatchObject({ interval: 2000, tos: 16, family: 6, socket: 'dgram', hostTexts: ['::1'] });
    expect(c.probe.allow).toEqual(['127.0.0.0/8', '::1', 'db.internal']);
    expect(c.probe.modules.icmp5).toMatchObject({ count: 5, timeout: 2500, ttl: 9 });
  });

  it('keeps the host as written and the address as Node prints it', () => {
    const c = parseConfigText('targets:\n  - hosts: ["::0", "2001:DB8::1", "::1"]\n');
    expect(c.targets[0]!.hosts).toEqual([
      { kind: 'address', host: '::0', address: '::', family: 6 },
      { kind: 'address', host: '2001:DB8::1', address: '2001:db8::1', family: 6 },
      { kind: 'address', host: '::1', address: '::1', family: 6 },
    ]);
  });

  it('reads JSON', () => {
    const c = parseConfigText('{"targets": [{"hosts": ["127.0.0.2"], "interval": "1s", "labels": {"dc": "x"}}]}');
    expect(c.targets[0]!.hosts[0]).toMatchObject({ kind: 'address', address: '127.0.0.2', family: 4 });
  });

  it('names an unknown key and its line', () => {
    const e = failure('targets:\n  - hosts: [127.0.0.1]\n    intervall: 1s\n');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^serve\.yml:3: unknown key 'intervall' in targets\[0\]/);
    const top = failure('targets: []\nprobes: {}\n');
    expect(top.line).toBe(2);
    expect(top.message).toContain("unknown key 'probes'");
    const mod = failure('probe:\n  modules:\n    icmp:\n      count: 2\n      colour: red\n');
    expect(mod.line).toBe(5);
    expect(mod.message).toContain("unknown key 'colour' in probe.modules.icmp");
  });

  it('names the line of a bad value, a bad host and a YAML error', () => {
    expect(failure('targets:\n- hosts: [127.0.0.1]\n  interval: soon\n')).toMatchObject({ line: 3 });
    expect(failure('targets:\n- hosts:\n  - 127.0.0.1\n  - "bad host"\n')).toMatchObject({ line: 4 });
    expect(failure('targets:\n- hosts: [10.0.0.0/8]\n').message).toContain('more than the 65536');
    expect(failure('targets:\n- hosts: [127.0.0.1]\n  labels: {target: x}\n').message).toContain("'target' is a label netdiag sets itself");
    expect(failure('targets:\n- hosts: [127.0.0.1]\n  method: tcp\n').message).toContain('give a port');
    expect(failure('targets: [\n').line).not.toBeNull();
    expect(failure('a: 1\na: 2\n').message).toContain('not valid YAML');
  });

  it('checks library objects the same way, without lines', () => {
    expect(() => parseConfigObject({ targets: [{ hosts: ['127.0.0.1'], bogus: 1 }] })).toThrow(/^config: unknown key 'bogus'/);
    expect(configOfHosts(['127.0.0.1', '::1']).targets[0]!.hosts).toHaveLength(2);
  });

  it('parses durations as Go and Prometheus write them', () => {
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250us')).toBe(0.25);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration(2)).toBe(2000);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('1 s')).toBeNull();
    expect(parseDuration('-1s')).toBeNull();
  });

  it('expands CIDR blocks like fping -g', () => {
    expect(expandCidr('192.0.2.0/30')).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(expandCidr('192.0.2.4/31')).toEqual(['192.0.2.4', '192.0.2.5']);
    expect(expandCidr('2001:db8::/126')).toEqual(['2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3']);
    expect(expandCidr('127.1.0.0/16')).toHaveLength(65534);
    expect(expandCidr('::/64')).toMatch(/more than/);
  });
});

describe('host addresses', () => {
  it('are kept as Node prints them; a zone only on a link-local address, as ping takes it', () => {
    expect(hostEntries('2001:DB8::0001')).toEqual([{ kind: 'address', host: '2001:DB8::0001', address: '2001:db8::1', family: 6 }]);
    expect(hostEntries('FE80::0001%eth0')).toEqual([{ kind: 'address', host: 'FE80::0001%eth0', address: 'fe80::1%eth0', family: 6 }]);
    // a fuzz finding: '::%0' was kept as written, a second spelling of '::' with a zone it cannot have
    expect(hostEntries('::%0')).toMatch(/a %zone only applies to link-local IPv6 addresses .*drop the %0/);
    expect(hostEntries('2001:db8::1%eth0')).toMatch(/link-local/);
  });
});

describe('config errors', () => {
  it('are one line even when the file put a newline inside a key (a fuzz finding)', () => {
    let error: unknown;
    try {
      parseConfigText('{"tar\\ngets": []}', 'serve.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toMatch(/[\x00-\x1f]/);
    expect((error as Error).message).toMatch(/^serve\.json(:\d+)?: unknown key 'tar\\ngets'/);
  });
});
