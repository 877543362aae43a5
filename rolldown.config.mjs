// The CLI as one bundle (npm run build:cli): one entry plus one chunk per command, so a run
// parses only the code of its command and the ESM loader resolves a handful of files instead
// of ~100. The library (import 'netdiag') stays the typed ESM modules tsc writes to dist/.
export default {
  input: { cli: 'src/cli/main.ts' },
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
