// One training run of the build's code caches (scripts/build-code-cache.mjs): runs the CLI of
// the bundle named first with the arguments after it through the cache loader and, at exit,
// writes back the caches of the chunks it loaded, now holding every function the run compiled.
'use strict';
const { join } = require('node:path');
const { CodeCacheLoader, cacheDirOf } = require('../bin/code-cache-loader.js');

const bundle = process.argv.splice(2, 1)[0];
const loader = new CodeCacheLoader(cacheDirOf(bundle));
process.on('exit', () => loader.save());
loader.load(join(bundle, 'cli.js')).main();
