#!/usr/bin/env node
// The installed command. The CLI is one CommonJS bundle (dist/bin/, written by npm run build;
// bin/package.json makes this file CommonJS too), so no run starts Node's ESM loader. Where
// the build left V8 code caches for this Node, the bundle's chunks load through them;
// elsewhere Node's own compile cache (Node >= 22.1) spares the parse on later runs. That cache
// lives in the package: Node's default, under os.tmpdir(), is a directory any user can create
// first, and a privileged run would then take bytecode planted there. The package directory is
// as trusted as the code in it. Only a run by the package's owner keeps it: a sudo run of a
// user's own install would leave files there the user cannot remove. Other runs go without.
'use strict';
const { join } = require('node:path');
const bundle = join(__dirname, '../dist/bin');
let cli;
try {
  const cached = require('./code-cache-loader.js').codeCacheLoaderFor(bundle);
  if (cached) cli = cached.load(join(bundle, 'cli.js'));
  else {
    if (require('node:fs').statSync(bundle).uid === process.geteuid()) {
      require('node:module').enableCompileCache?.(join(bundle, 'compile-cache'));
    }
    cli = require('../dist/bin/cli.js');
  }
} catch (e) {
  process.stderr.write(`netdiag: cannot load the compiled CLI: ${String(e.message).split('\n')[0]} (run npm run build)\n`);
  process.exitCode = 2;
}
cli?.main();
