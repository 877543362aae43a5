// A worker_threads module of src/, compiled to JavaScript for tests that run src/ from its
// TypeScript source: Node 20 cannot start a worker from a .ts file, and vitest's module
// runner does not reach into worker threads. The module and the local modules it imports
// are transpiled (types dropped, nothing bundled) into one temporary directory, removed at exit.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { repoRoot } from './built-package.js';

/** The file URL of `entry` compiled, with `imports` (its local imports, paths in the repo) next to it. */
export function compiledWorker(entry: string, imports: string[] = []): URL {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-worker-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const file of [entry, ...imports]) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, basename(file).replace(/\.ts$/, '.js')), out.outputText);
  }
  return pathToFileURL(join(dir, basename(entry).replace(/\.ts$/, '.js')));
}
