// netdiag serve's config parser (src/serve/config.ts, YAML or JSON): only ConfigError escapes,
// its message is one line naming where, and a config that passes keeps its own caps (target
// count, ports, TTL/TOS ranges, positive times). Nothing is resolved or probed here.
import { isIP, SocketAddress } from 'node:net';
import { ConfigError } from '../../../src/serve/config-error.js';
import { MAX_SERVE_TARGETS, parseConfigText, type ProbeSettings } from '../../../src/serve/config.js';
import { check, onlyTypedErrors } from '../invariants.js';

function checkSettings(where: string, s: ProbeSettings): void {
  check(s.method === 'icmp' || s.method === 'tcp', `${where}: method ${String(s.method)}`);
  if (s.port !== null) check(Number.isInteger(s.port) && s.port >= 1 && s.port <= 65535, `${where}: port ${s.port}`);
  check(Number.isFinite(s.interval) && s.interval > 0, `${where}: interval ${s.interval}`);
  check(Number.isFinite(s.timeout) && s.timeout > 0, `${where}: timeout ${s.timeout}`);
  check(Number.isInteger(s.size) && s.size >= 0 && s.size <= 65535, `${where}: size ${s.size}`);
  if (s.ttl !== null) check(Number.isInteger(s.ttl) && s.ttl >= 1 && s.ttl <= 255, `${where}: ttl ${s.ttl}`);
  check(Number.isInteger(s.tos) && s.tos >= 0 && s.tos <= 255, `${where}: tos ${s.tos}`);
}

export function fuzz(data: Buffer): void {
  let error: Error | undefined;
  const config = onlyTypedErrors(() => {
    try {
      return parseConfigText(data.toString('utf8'), 'fuzz.yml');
    } catch (e) {
      if (e instanceof Error) error = e;
      throw e;
    }
  }, [ConfigError], 'parseConfigText');
  if (error) check(!error.message.includes('\n') && error.message.startsWith('fuzz.yml'), `config error not one line naming the file: ${JSON.stringify(error.message)}`);
  if (!config) return;
  let total = 0;
  config.targets.forEach((g, i) => {
    checkSettings(`targets[${i}]`, g);
    total += g.hosts.length;
    for (const h of g.hosts) {
      if (h.kind !== 'address') continue;
      // a zone stays only on a link-local address, after the address as Node prints it
      const [plain, zone] = h.address.split('%') as [string, string | undefined];
      const family = isIP(plain);
      check(family !== 0 && new SocketAddress({ address: plain, family: family === 6 ? 'ipv6' : 'ipv4' }).address === plain, `targets[${i}]: address ${h.address} is not how Node prints it`);
      check(zone === undefined || (family === 6 && /^fe[89ab]/.test(plain)), `targets[${i}]: a zone on ${h.address}, which is not link-local`);
    }
  });
  check(total <= MAX_SERVE_TARGETS, `${total} targets passed the cap of ${MAX_SERVE_TARGETS}`);
  for (const [name, m] of Object.entries(config.probe.modules)) {
    checkSettings(`modules.${name}`, m);
    check(Number.isInteger(m.count) && m.count >= 1, `modules.${name}: count ${m.count}`);
  }
}
