#!/usr/bin/env node
// The installed command. The CLI is one bundle (dist/bin/, written by npm run build); Node's
// on-disk compile cache (Node >= 22.1) spares the parse of it on every later run.
import module from 'node:module';

module.enableCompileCache?.();
import('../dist/bin/cli.js').then(
  (m) => m.main(),
  (e) => {
    process.stderr.write(`netdiag: cannot load the compiled CLI: ${e.message} (run npm run build)\n`);
    process.exitCode = 2;
  },
);
