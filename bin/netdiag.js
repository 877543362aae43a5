#!/usr/bin/env node
// The installed command: the compiled CLI lives in dist/ (npm run build:ts).
import('../dist/cli/main.js').then(
  (m) => m.main(),
  (e) => {
    process.stderr.write(`netdiag: cannot load the compiled CLI: ${e.message} (run npm run build)\n`);
    process.exitCode = 2;
  },
);
