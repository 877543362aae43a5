// Loads the CLI bundle's chunks (dist/bin/, CommonJS) through V8 code caches that the build
// wrote for the Node that built them (dist/bin/code-cache/<node version>-<arch>/). V8 then
// reads each chunk's bytecode instead of parsing and compiling it: some 15 ms of every run on
// Node 20, which has no compile cache of its own. The caches sit beside the code they stand
// for and only the build writes them, never a run (a privileged one must not take bytecode
// from a directory others can write, as a cache under /tmp would be).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');

function cacheDirOf(bundleDir) {
  return path.join(bundleDir, 'code-cache', `${process.version}-${process.arch}`);
}

class CodeCacheLoader {
  constructor(cacheDir) {
    this.cacheDir = cacheDir;
    /** chunk file -> module, as require.cache holds them */
    this.modules = new Map();
    /** chunk file -> its compiled script (for save) */
    this.scripts = new Map();
    /** chunks whose cache V8 refused (another V8 build or flags): they were compiled */
    this.rejected = [];
    /** Node's require, for what chunks import from outside the bundle */
    this.outside = null;
  }

  /** require() of a chunk: its exports, loading it once. */
  load(file) {
    const loaded = this.modules.get(file);
    if (loaded) return loaded.exports;
    const module = { exports: {}, filename: file, loaded: false };
    this.modules.set(file, module);
    const cachedData = readIfPresent(this.cacheFileOf(file));
    const script = compileChunk(file, cachedData);
    if (cachedData && script.cachedDataRejected) this.rejected.push(file);
    this.scripts.set(file, script);
    const dir = path.dirname(file);
    // chunks name each other as ./name.js; anything else (node:*, node-gyp-build) is Node's,
    // resolved from the bundle's one directory by one require made when first needed
    const requireChunk = (id) => (id.startsWith('./') ? this.load(path.join(dir, id)) : (this.outside ??= createRequire(file))(id));
    try {
      script.runInThisContext()(module.exports, requireChunk, module, file, dir);
    } catch (e) {
      this.modules.delete(file); // as Node's require: a chunk that failed is not half-loaded next time
      throw e;
    }
    module.loaded = true;
    return module.exports;
  }

  /** The chunk files loaded so far. */
  loadedChunks() {
    return [...this.modules.keys()];
  }

  /**
   * Writes each loaded chunk's cache as it now stands: its top level plus every function the
   * run compiled, read back from the cache it was loaded with or compiled since (the build's
   * training runs call this at exit).
   */
  save() {
    for (const [file, script] of this.scripts) {
      const to = this.cacheFileOf(file);
      fs.writeFileSync(`${to}.${process.pid}`, script.createCachedData());
      fs.renameSync(`${to}.${process.pid}`, to);
    }
  }

  cacheFileOf(file) {
    return path.join(this.cacheDir, `${path.basename(file)}.cache`);
  }
}

/**
 * A chunk compiled as Node wraps a CommonJS module, from its cache when one is given. It gets
 * no import(): on Node 20 a script read from a code cache loses its import() callback, so the
 * bundle turns every import() into require() (rolldown.config.mjs).
 */
function compileChunk(file, cachedData) {
  return new vm.Script(wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
}

function readIfPresent(file) {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

const loaders = [];

/** The loader for bundleDir when the build left caches for this Node, else null. */
function codeCacheLoaderFor(bundleDir) {
  const cacheDir = cacheDirOf(bundleDir);
  if (!fs.existsSync(cacheDir)) return null;
  const loader = new CodeCacheLoader(cacheDir);
  loaders.push(loader);
  return loader;
}

/** Every chunk file this module's loaders have loaded (what require.cache shows for the others). */
function loadedChunks() {
  return loaders.flatMap((l) => l.loadedChunks());
}

module.exports = { CodeCacheLoader, codeCacheLoaderFor, cacheDirOf, compileChunk, loadedChunks };
