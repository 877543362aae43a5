// The program runFunction() starts inside a namespace: a function's source, called with its
// JSON argument, the result printed after a marker line. Only the source travels, so the
// function imports what it needs itself; when it was defined in a vitest file, vitest has
// rewritten its import() into a call of its own loader, with the specifier possibly resolved to
// a dev-server path (/@fs/<abs>, /@id/<mod>, /<path from the project root>, ?v= queries):
// the child gets a loader that maps those back to files.
const VITEST_IMPORT_SHIM = `
import { existsSync as __ndExists } from 'node:fs';
import { resolve as __ndResolve } from 'node:path';
globalThis.__vite_ssr_dynamic_import__ = (spec) => {
  let s = String(spec).replace(/[?#].*$/, '');
  if (s.startsWith('/@fs/')) s = s.slice(4);
  else if (s.startsWith('/@id/')) s = s.slice(5).replace(/^__x00__/, '');
  if (s.startsWith('/') && !__ndExists(s)) s = __ndResolve(process.cwd(), '.' + s);
  return import(s);
};
`;

/** Source of an ES module that runs `fnSource` and writes `marker` + JSON of its result. */
export function functionScript(fnSource: string, marker: string): string {
  return (
    VITEST_IMPORT_SHIM +
    `const fn = (${fnSource});\n` +
    `Promise.resolve(fn(JSON.parse(process.argv[1]), { import: (s) => import(s) })).then(\n` +
    `  (r) => { process.stdout.write('\\n${marker}' + JSON.stringify(r === undefined ? null : r) + '\\n'); },\n` +
    `  (e) => { console.error(e && e.stack ? e.stack : String(e)); process.exitCode = 1; });\n`
  );
}
