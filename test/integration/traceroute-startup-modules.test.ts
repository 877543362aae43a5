// What `netdiag traceroute` loads at start-up (issue 9: a trace within Node's floor + 40 ms). A
// plain trace must not load node:crypto (its module load alone costs some 3–4 ms) nor parse
// the report's or multipath discovery's code; --report and --mda load theirs when asked for.
// A preload records, at exit, Node's built-in modules and the CLI bundle's chunk files loaded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cliPath } from '../helpers/built-package.js';
import { describeWith } from '../helpers/requirements.js';
import { useLoopbackNamespace } from '../helpers/topology.js';

const MARK = 'netdiag-startup-modules:';
const dir = mkdtempSync(join(tmpdir(), 'netdiag-trace-startup-'));
const preload = join(dir, 'record-modules.cjs');
// chunks come through Node's require or, where the build left code caches, through the loader
writeFileSync(preload, `process.on('exit', () => {
  const loader = Object.keys(require.cache).find((f) => f.endsWith('/bin/code-cache-loader.js'));
  const viaLoader = loader ? require.cache[loader].exports.loadedChunks() : [];
  const chunks = [...Object.keys(require.cache).filter((f) => f.includes('/dist/bin/')), ...viaLoader];
  require('node:fs').writeSync(2, ${JSON.stringify(MARK)} + JSON.stringify({ builtins: process.moduleLoadList, chunks }) + '\\n');
});\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  builtins: string[];
  /** the source files (rolldown's "// src/..." region comments) in the chunks that were loaded */
  sources: Set<string>;
}

describeWith(['root', 'net_admin', 'net_raw', 'tool:ip'], 'traceroute start-up loads only what the run needs', () => {
  const lo = useLoopbackNamespace({ prefix: 'ndts' });

  async function loaded(args: string[]): Promise<Loaded> {
    const r = await lo.run(lo.ns, process.execPath, ['-r', preload, cliPath(), ...args], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith(MARK));
    expect(line, r.stderr).toBeDefined();
    const got = JSON.parse(line!.slice(MARK.length)) as { builtins: string[]; chunks: string[] };
    const sources = new Set(got.chunks.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^\/\/ (src\/\S+\.ts)$/gm)].map((m) => m[1]!)));
    return { builtins: got.builtins, sources };
  }

  for (const method of [[], ['-I']]) {
    it(`traceroute -n ${method.join(' ')}: no node:crypto, no report or multipath code`, async () => {
      const l = await loaded(['traceroute', '-n', '-q', '1', ...method, '127.0.0.1']);
      expect(l.sources.has('src/traceroute/trace-run.ts'), [...l.sources].join(' ')).toBe(true);
      expect(l.builtins).not.toContain('NativeModule crypto');
      expect([...l.sources].filter((s) => s.startsWith('src/traceroute/mda/') || /report|route-history|route-changes/.test(s))).toEqual([]);
    });
  }

  it('traceroute --report loads the report code when asked for', async () => {
    const l = await loaded(['traceroute', '--report', '--cycles', '1', '-I', '-n', '127.0.0.1']);
    expect(l.sources.has('src/traceroute/report-run.ts')).toBe(true);
    expect(l.sources.has('src/traceroute/mda/discovery.ts')).toBe(false);
  });

  it('traceroute --mda loads multipath discovery when asked for', async () => {
    const l = await loaded(['traceroute', '--mda', '-I', '-n', '127.0.0.1']);
    expect(l.sources.has('src/traceroute/mda/discovery.ts')).toBe(true);
  });
});
