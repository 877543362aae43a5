#!/usr/bin/env node
// Makes Jazzer.js's libFuzzer addon load on Debian 12 (glibc 2.36), offline.
//
//   node scripts/fuzz-prepare.mjs      prints the LD_PRELOAD path to use (may be empty)
//
// @jazzer.js/fuzzer 4.0.0 ships only prebuilt addons (no C++ sources, no build script in the
// npm package); the linux-x64 one was linked against glibc 2.38 / GCC 13 and asks for exactly
// three symbols newer than Debian 12 has: __isoc23_strtol and __isoc23_strtoul (GLIBC_2.38,
// the C23 strtol variants that also accept a 0b prefix; libFuzzer reads its numeric flags
// with them) and std::ios_base_library_init (GLIBCXX_3.4.32, GCC 13's hook that makes sure
// std::cout is initialised; node has already loaded libstdc++ and initialised it). Older
// Jazzer.js releases build from source but download LLVM from GitHub, which CI cannot reach.
// So, when the addon does not load and that is the only reason:
//   1. those two version requirements are marked weak (VER_FLG_WEAK: ld.so then tolerates
//      their absence), and the three symbols lose their version binding (versym 1 = global);
//   2. a three-function shim (strtol/strtoul forwarders, an ios_base::Init) is built with g++
//      and preloaded.
// The patched file keeps a backup next to it (.orig) and the step is idempotent.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const log = (m) => process.stderr.write(`[fuzz-prepare] ${m}\n`);

const fuzzerPackage = dirname(require.resolve('@jazzer.js/fuzzer/package.json'));
const addonPath = join(fuzzerPackage, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
const shimDir = join(root, 'node_modules', '.cache', 'netdiag-fuzz');
const shimPath = join(shimDir, 'libjazzer-compat.so');
const NEWER_VERSIONS = ['GLIBC_2.38', 'GLIBCXX_3.4.32'];
const SHIMMED_SYMBOLS = ['__isoc23_strtol', '__isoc23_strtoul', '_ZSt21ios_base_library_initv'];

function loadError(preload) {
  const code = `require(${JSON.stringify(addonPath)})`;
  try {
    execFileSync(process.execPath, ['-e', code], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LD_PRELOAD: preload },
    });
    return null;
  } catch (e) {
    return String(e.stderr ?? e.message);
  }
}

/** Section headers of an ELF64 little-endian file. */
function sections(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error('not an ELF64 LE file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const out = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    out.push({
      type: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
      link: buf.readUInt32LE(o + 0x28),
      entsize: Number(buf.readBigUInt64LE(o + 0x38)),
    });
  }
  return out;
}

const cString = (buf, at) => buf.toString('latin1', at, buf.indexOf(0, at));

function patchAddon(buf) {
  const SHT_DYNSYM = 11;
  const SHT_GNU_VERNEED = 0x6ffffffe;
  const SHT_GNU_VERSYM = 0x6fffffff;
  const VER_FLG_WEAK = 2;
  const all = sections(buf);
  const verneed = all.find((s) => s.type === SHT_GNU_VERNEED);
  const dynsym = all.find((s) => s.type === SHT_DYNSYM);
  const versym = all.find((s) => s.type === SHT_GNU_VERSYM);
  if (!verneed || !dynsym || !versym) throw new Error('no version sections');
  const verStr = all[verneed.link].offset;
  const symStr = all[dynsym.link].offset;

  // 1. weak requirements for the newer versions; remember their version indexes
  const weakIndexes = new Set();
  let vn = verneed.offset;
  for (;;) {
    const cnt = buf.readUInt16LE(vn + 2);
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let i = 0; i < cnt; i++) {
      if (NEWER_VERSIONS.includes(cString(buf, verStr + buf.readUInt32LE(aux + 8)))) {
        buf.writeUInt16LE(buf.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
        weakIndexes.add(buf.readUInt16LE(aux + 6) & 0x7fff);
      }
      const next = buf.readUInt32LE(aux + 12);
      if (!next) break;
      aux += next;
    }
    const next = buf.readUInt32LE(vn + 12);
    if (!next) break;
    vn += next;
  }
  // 2. the symbols bound to it become unversioned, so the preloaded shim satisfies them
  const count = dynsym.size / dynsym.entsize;
  for (let i = 0; i < count; i++) {
    const idx = versym.offset + i * 2;
    if (!weakIndexes.has(buf.readUInt16LE(idx) & 0x7fff)) continue;
    const name = cString(buf, symStr + buf.readUInt32LE(dynsym.offset + i * dynsym.entsize));
    if (!SHIMMED_SYMBOLS.includes(name)) throw new Error(`unexpected symbol of a newer version: ${name}`);
    buf.writeUInt16LE(1, idx);
  }
  return buf;
}

function buildShim() {
  if (existsSync(shimPath)) return;
  mkdirSync(shimDir, { recursive: true });
  const src = join(shimDir, 'jazzer-compat.cc');
  // glibc 2.36 has no C23 strtol; the 0b prefix is the only difference and libFuzzer's flags
  // are decimal. ios_base_library_init only has to leave std::cout usable.
  writeFileSync(
    src,
    '#include <cstdlib>\n#include <ios>\n' +
      'extern "C" long __isoc23_strtol(const char *s, char **e, int b) { return std::strtol(s, e, b); }\n' +
      'extern "C" unsigned long __isoc23_strtoul(const char *s, char **e, int b) { return std::strtoul(s, e, b); }\n' +
      'namespace std { void ios_base_library_init() { static ios_base::Init init; } }\n',
  );
  execFileSync('g++', ['-O2', '-shared', '-fPIC', '-o', shimPath, src], { stdio: 'inherit' });
}

// Once patched, the addon loads without the shim (lazy binding) but fails at the first strtol:
// the backup marks that the shim is needed.
const backup = `${addonPath}.orig`;
if (!existsSync(backup)) {
  const first = loadError('');
  if (first === null) {
    process.stdout.write('\n');
    process.exit(0);
  }
  if (!/(GLIBC_2\.38|GLIBCXX_3\.4\.32)' not found/.test(first)) {
    log(`the Jazzer.js addon does not load, and not for the known glibc reason:\n${first}`);
    process.exit(1);
  }
  copyFileSync(addonPath, backup);
  writeFileSync(addonPath, patchAddon(readFileSync(backup)));
  log(`patched ${addonPath} (${NEWER_VERSIONS.join(', ')} made weak; shim ${shimPath})`);
}
buildShim();
const last = loadError(shimPath);
if (last !== null) {
  log(`the Jazzer.js addon still does not load:\n${last}`);
  process.exit(1);
}
process.stdout.write(`${shimPath}\n`);
