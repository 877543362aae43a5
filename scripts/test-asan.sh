#!/usr/bin/env bash
# npm run test:asan [-- vitest args, e.g. test/unit/foo.test.ts]
#
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer through cmake-js
# (CMakeLists.txt, -DNETDIAG_SANITIZE=ON) into build-asan/ and runs the vitest suite against
# that binary (src/native.ts loads NETDIAG_ADDON instead of the normal build; the test addon
# netdiag_test.node is built and loaded from the same directory).
#
# Environment:
#   NETDIAG_JSON_REPORT=FILE   also write vitest's JSON report there (CI counts tests from it)
#   NETDIAG_ASAN_OUT=DIR       build directory (default: build-asan)
# Any sanitizer report fails the run, even one printed by a child process that a test spawned.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
log() { printf '[test-asan] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

# offline header resolution for cmake-js/node-gyp (see build-recipes.md); never rely on ~/.npmrc
export npm_config_nodedir=${npm_config_nodedir:-/usr}
out=${NETDIAG_ASAN_OUT:-build-asan}
case "$out" in build|build/*|./build|./build/*) die "NETDIAG_ASAN_OUT must not be build/: node-gyp-build would pick the sanitized addon up for every run" ;; esac

command -v cmake >/dev/null || die "cmake not found (apt-get install cmake ninja-build)"
asan_rt=$(gcc -print-file-name=libasan.so)
[ -f "$asan_rt" ] || die "libasan.so not found via gcc -print-file-name (apt-get install g++)"

log "building the sanitized addon into $out/ (cmake-js, NETDIAG_SANITIZE=ON)"
start=$SECONDS
mkdir -p "$out"
"$root/node_modules/.bin/cmake-js" compile --out "$out" --CDNETDIAG_SANITIZE=ON >"$out/cmake-js.log" 2>&1 || {
  tail -n 40 "$out/cmake-js.log" >&2; die "cmake-js build failed (full log: $out/cmake-js.log)"; }
case "$out" in /*) outdir=$out ;; *) outdir=$root/$out ;; esac
addon=$(find "$outdir" -name netdiag.node -type f -print -quit)
[ -n "$addon" ] || die "no netdiag.node under $out/"
readelf -d "$addon" | grep -q 'NEEDED.*libasan' || die "$addon is not linked against libasan (stale build dir?)"
# the test addon (TUN devices for the simulator tests): src/testing/tun-addon.ts loads it from
# the directory of NETDIAG_ADDON, so it is sanitized too
test_addon=$(dirname "$addon")/netdiag_test.node
[ -f "$test_addon" ] || die "no netdiag_test.node next to $addon (CMakeLists.txt builds both)"
readelf -d "$test_addon" | grep -q 'NEEDED.*libasan' || die "$test_addon is not linked against libasan (stale build dir?)"
log "built $addon and $test_addon in $((SECONDS - start)) s"

# CLI tests run bin/netdiag.js, which imports dist/: keep it in step with src/. A type error
# is test-all's business (npm run build); here it only warns, and the CLI tests say the rest.
if [ "${NETDIAG_SKIP_TSC:-0}" != 1 ]; then
  npm run --silent build:ts >&2 || log "warning: npm run build:ts failed; dist/ may be stale"
fi

export NETDIAG_ADDON="$addon"
# Tests see this and skip what cannot work under a preloaded sanitizer runtime, printing why:
# a binary with file capabilities (setcap'd node copy) runs in AT_SECURE mode, where ld.so
# ignores LD_PRELOAD; node would then load the sanitized addon without the ASan runtime first
# in the library list and abort ("ASan runtime does not come first in initial library list").
export NETDIAG_ASAN=1
# node itself is not instrumented, so the ASan runtime must be the first library loaded.
# Only libasan is preloaded: libubsan comes in as a DT_NEEDED of the addon at dlopen time,
# and UBSan works from there (checked: a shift by 40 and a heap overflow both halt node).
export LD_PRELOAD="$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}"
# detect_leaks=0: LeakSanitizer checks the whole process at exit, and node/V8 deliberately
# leave allocations unfreed at exit (checked: `node -e` that starts a worker_thread and calls
# process.exit() already reports dozens of direct leaks, all in node's own code), and
# vitest's fork workers end through process.exit. The reports would be node's, not the addon's.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# halt_on_error: UBSan otherwise prints and carries on; print_stacktrace: say where.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

args=(run --passWithNoTests --reporter=default)
if [ -n "${NETDIAG_JSON_REPORT:-}" ]; then
  mkdir -p "$(dirname "$NETDIAG_JSON_REPORT")"
  rm -f "$NETDIAG_JSON_REPORT"
  args+=(--reporter=json "--outputFile.json=$NETDIAG_JSON_REPORT")
fi

logfile=$(mktemp "${TMPDIR:-/tmp}/netdiag-asan.XXXXXX")
trap 'rm -f "$logfile"' EXIT
log "vitest ${args[*]} $* (NETDIAG_ADDON=$addon, LD_PRELOAD=$LD_PRELOAD)"
set +e
# node_modules/.bin/vitest directly: npx would be one more (harmless) preloaded process
"$root/node_modules/.bin/vitest" "${args[@]}" "$@" 2>&1 | tee "$logfile"
rc=${PIPESTATUS[0]}
set -e

if grep -qE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$logfile"; then
  log "sanitizer reports found in the output:"
  grep -nE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: .*Sanitizer' "$logfile" | head -n 20 >&2
  [ "$rc" -ne 0 ] || rc=1
fi
if [ "$rc" -eq 0 ]; then log "PASS: the suite is clean under ASan+UBSan"; else log "FAIL (exit $rc)"; fi
exit "$rc"
