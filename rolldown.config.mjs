// The CLI as one bundle (npm run build:cli): one entry plus one chunk per command, so a run
// parses only the code of its command and the ESM loader resolves a handful of files instead
// of ~100. The library (import 'netdiag') stays the typed ESM modules tsc writes to dist/.
// The /proc reader's worker thread is a second entry: the sockets code starts it as
// new URL('./proc-reader-worker.js', import.meta.url), which in the bundle resolves next to
// the chunk that holds that code, in dist/bin/, as in tsc's dist/sockets/.
export default {
  input: { cli: 'src/cli/main.ts', 'proc-reader-worker': 'src/sockets/proc-reader-worker.ts' },
  platform: 'node',
  // node-gyp-build stays a runtime dependency: it finds the addon next to the package
  external: [/^node:/, 'node-gyp-build'],
  output: {
    dir: 'dist/bin',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
  },
};
