// The CLI as one bundle (npm run build:cli): one entry plus one chunk per command, so a run
// parses only the code of its command. The bundle is CommonJS: Node loads it synchronously,
// without starting its ESM loader (~10 ms of every run on Node 20, ~5 ms on 24); a
// package.json beside the chunks says so, since the package itself is "type": "module".
// The library (import 'netdiag') stays the typed ESM modules tsc writes to dist/.
// The /proc reader's worker thread is a second entry: the sockets code starts it as
// new URL('./proc-reader-worker.js', import.meta.url), which in the bundle resolves next to
// the chunk that holds that code, in dist/bin/, as in tsc's dist/sockets/.
const commonjsMarker = {
  name: 'commonjs-marker',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'package.json', source: '{ "type": "commonjs" }\n' });
  },
};

export default {
  input: { cli: 'src/cli/main.ts', 'proc-reader-worker': 'src/sockets/proc-reader-worker.ts' },
  platform: 'node',
  // node-gyp-build stays a runtime dependency: it finds the addon next to the package
  external: [/^node:/, 'node-gyp-build'],
  plugins: [commonjsMarker],
  output: {
    dir: 'dist/bin',
    format: 'cjs',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    // import('node:dns/promises') and the like become require(): a chunk loaded through a
    // code cache has no import() (bin/code-cache-loader.js), and require starts no ESM loader
    dynamicImportInCjs: false,
  },
};
