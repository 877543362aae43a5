#!/usr/bin/env node
// The installed command. The CLI is one CommonJS bundle (dist/bin/, written by npm run build;
// bin/package.json makes this file CommonJS too), so no run starts Node's ESM loader. Node's
// on-disk compile cache (Node >= 22.1) spares the parse of it on every later run.
'use strict';
require('node:module').enableCompileCache?.();
let cli;
try {
  cli = require('../dist/bin/cli.js');
} catch (e) {
  process.stderr.write(`netdiag: cannot load the compiled CLI: ${String(e.message).split('\n')[0]} (run npm run build)\n`);
  process.exitCode = 2;
}
cli?.main();
