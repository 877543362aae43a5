// /probe's allow-list (addresses, CIDRs, names never resolved).
import { describe, expect, it } from 'vitest';
import { AllowList } from '../../src/serve/allow-list.js';
import { refuseProbe } from '../../src/serve/probe-endpoint.js';
import { parseConfigObject } from '../../src/serve/config.js';

describe('serve allow-list', () => {
  const allow = new AllowList(['127.0.0.0/8', '::1', '2001:db8::/126', 'DB.internal.']);

  it('admits addresses inside listed addresses and blocks, and listed names only', () => {
    expect(allow.refusal('127.9.9.9')).toBeNull();
    expect(allow.refusal('::1')).toBeNull();
    expect(allow.refusal('2001:db8::3')).toBeNull();
    expect(allow.refusal('db.internal')).toBeNull();
    expect(allow.refusal('2001:db8::4')).toMatch(/not inside probe\.allow/);
    expect(allow.refusal('128.0.0.1')).toMatch(/not inside probe\.allow/);
    expect(allow.refusal('::ffff:127.0.0.1')).toMatch(/IPv4-mapped/);
    // a name is not resolved to decide, even one that would resolve inside a listed block
    expect(allow.refusal('localhost')).toMatch(/not listed in probe\.allow/);
    expect(new AllowList([]).refusal('127.0.0.1')).not.toBeNull();
  });

  it('checks /probe requests before anything is sent', () => {
    const c = parseConfigObject({ probe: { allow: ['127.0.0.1'], modules: { icmp: { count: 2 } } } });
    const ctx = { modules: c.probe.modules, allow: new AllowList(c.probe.allow), reserve: null as never, resolve: null as never };
    const req = (target: string | null, extra: { module?: string; count?: string } = {}) => refuseProbe({ target, module: extra.module ?? null, count: extra.count ?? null, scrapeTimeout: null }, ctx);
    expect(req('127.0.0.1')).toBeNull();
    expect(req(null)).toMatchObject({ status: 400 });
    expect(req('127.0.0.1', { module: 'http_2xx' })).toMatchObject({ status: 400, body: "unknown module 'http_2xx' (the config has: icmp)\n" });
    expect(req('127.0.0.1', { count: '0' })).toMatchObject({ status: 400 });
    expect(req('127.0.0.1', { count: '101' })).toMatchObject({ status: 400 });
    expect(req('127.0.0.1', { count: '100' })).toBeNull();
    expect(req('127.0.0.2')).toMatchObject({ status: 403, body: 'target 127.0.0.2 is not inside probe.allow of the config\n' });
    expect(req('a b')).toMatchObject({ status: 400 });
  });
});
