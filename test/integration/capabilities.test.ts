// Capability handling in the addon: reading the sets, raising CAP_NET_RAW from permitted to
// effective, and dropping everything (what the CLI does once its sockets are open).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith } from '../helpers/requirements.js';
import { repoRoot, worldReadablePath } from '../helpers/built-package.js';
import { addonInfo } from '../../src/native.js';

const NET_RAW = 1n << 13n;
const mask = (hex: string) => BigInt('0x' + hex);

const script = (unprivileged: boolean) => {
  const inRepo = join(repoRoot, 'test/fixtures/native/caps-probe.cjs');
  return unprivileged ? worldReadablePath(inRepo) : inRepo;
};

function probe(node: string, action: string, prefix: string[] = [], addon = addonInfo().path) {
  const r = spawnSync(prefix[0] ?? node, [...prefix.slice(1), ...(prefix.length ? [node] : []), script(prefix.length > 0), addon, action], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`caps-probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { before: Record<string, string>; rawBefore: string; raised: boolean | null; after: Record<string, string>; rawAfter: string };
}

describeWith(['root', 'tool:setpriv', 'tool:setcap'], 'capabilities', () => {
  it('dropCapabilities empties every set and raw sockets fail afterwards', () => {
    const r = probe(process.execPath, 'drop');
    expect(mask(r.before.effective!) & NET_RAW).toBe(NET_RAW);
    expect(r.rawBefore).toBe('ok');
    expect(r.after).toMatchObject({ effective: '0000000000000000', permitted: '0000000000000000', inheritable: '0000000000000000', ambient: '0000000000000000' });
    expect(r.rawAfter).toBe('EPERM');
  });

  it('dropCapabilities reaches every thread (libuv pool included) but one that blocks all signals', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'test/fixtures/native/drop-all-threads.cjs'), addonInfo().path], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { before: { capEff: string }[]; result: { threads: number; asked: number; dropped: number; skipped: number[] }; after: { tid: string; capEff: string; sigBlk: string }[]; lookupError: string | null };
    expect(out.before.filter((t) => mask(t.capEff) & NET_RAW).length).toBeGreaterThan(4);
    const kept = out.after.filter((t) => t.capEff !== '0000000000000000');
    // only a thread that blocks the real-time signal may keep its set (Node's SIGUSR1 watcher)
    for (const t of kept) expect(mask(t.sigBlk) & (1n << 36n), `thread ${t.tid} kept ${t.capEff}`).not.toBe(0n);
    expect(kept.length).toBeLessThanOrEqual(1);
    expect(out.result.dropped).toBe(out.result.threads - kept.length);
    expect(out.lookupError).toBeNull(); // the pool still works after the drop
  });

  it('dropCapabilities asks only the threads able to answer and never waits for one that blocks the signal', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'test/fixtures/native/drop-all-threads.cjs'), addonInfo().path], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { result: { threads: number; asked: number; dropped: number; skipped: number[] }; after: { tid: string; sigBlk: string }[] };
    const { threads, asked, dropped, skipped } = out.result;
    // Node's SIGUSR1 watcher blocks every signal: it is skipped, not asked
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(asked + skipped.length).toBe(threads);
    // every thread asked answered, so the wait ended on answers, not on its bound
    expect(dropped).toBe(asked);
    for (const tid of skipped) {
      const t = out.after.find((a) => Number(a.tid) === tid);
      expect(t, `skipped thread ${tid} exists`).toBeDefined();
      expect(mask(t!.sigBlk) & (1n << 36n), `skipped thread ${tid} blocks the drop signal`).not.toBe(0n);
    }
  });

  it('ambient cap_net_raw for an unprivileged user shows up as effective and ambient', () => {
    const addon = worldReadablePath(addonInfo().path);
    const r = probe(process.execPath, 'none', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_raw', '--ambient-caps=+net_raw'], addon);
    expect(mask(r.before.effective!)).toBe(NET_RAW);
    expect(mask(r.before.ambient!)).toBe(NET_RAW);
    expect(r.rawBefore).toBe('ok');
  });

  // a file-capability binary runs in secure-execution mode and ignores LD_PRELOAD, so the
  // sanitizer build cannot load there
  const asan = process.env.NETDIAG_ASAN === '1';
  if (asan) process.stderr.write('[skipped] setcap +p test: the ASan run cannot preload into a file-capability binary\n');
  it.skipIf(asan)('raiseCapability makes a permitted-only cap_net_raw effective (setcap +p on a node copy)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-cap-'));
    try {
      chmodSync(dir, 0o755);
      const node = join(dir, 'node');
      copyFileSync(process.execPath, node);
      chmodSync(node, 0o755);
      const set = spawnSync('setcap', ['cap_net_raw+p', node], { encoding: 'utf8' });
      expect(set.status, set.stderr).toBe(0);
      const addon = worldReadablePath(addonInfo().path);
      const r = probe(node, 'raise', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], addon);
      expect(mask(r.before.permitted!)).toBe(NET_RAW);
      expect(mask(r.before.effective!) & NET_RAW).toBe(0n);
      expect(r.rawBefore).toBe('EPERM');
      expect(r.raised).toBe(true);
      expect(mask(r.after.effective!)).toBe(NET_RAW);
      expect(r.rawAfter).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
