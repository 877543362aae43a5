// One training run of the build's code caches (scripts/build-code-cache.mjs): runs the CLI
// with these arguments through the cache loader and, at exit, writes back the caches of the
// chunks it loaded, now holding every function the run compiled.
'use strict';
const { join } = require('node:path');
const { CodeCacheLoader, cacheDirOf } = require('../bin/code-cache-loader.js');

const bundle = join(__dirname, '../dist/bin');
const loader = new CodeCacheLoader(cacheDirOf(bundle));
process.on('exit', () => loader.save());
loader.load(join(bundle, 'cli.js')).main();
