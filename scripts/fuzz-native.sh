#!/usr/bin/env bash
# bash scripts/fuzz-native.sh [--time SECONDS] [TARGET...]
#
# The fuzz targets that reach the addon (test/fuzz/targets/seqpacket-native.ts by default),
# run against the ASan + UBSan build of the addon, so a memory or UB error in native code
# aborts the run with a sanitizer report instead of passing unseen. The sanitized addon is
# built as scripts/test-asan.sh builds it (cmake-js, -DNETDIAG_SANITIZE=ON, build-asan/) and
# loaded through NETDIAG_ADDON; the ASan runtime is preloaded first, then Jazzer.js's shim.
# The last line is the count line of scripts/fuzz.mjs (`fuzz: N passed, N failed, N skipped`);
# a sanitizer report anywhere in the output fails the run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
log() { printf '[fuzz-native] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

time=20
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time=$2; shift 2 ;;
    --time=*) time=${1#--time=}; shift ;;
    -*) die "unknown option $1 (use --time SECONDS and target names)" ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(seqpacket-native)

export npm_config_nodedir=${npm_config_nodedir:-/usr}
out=${NETDIAG_ASAN_OUT:-build-asan}
asan_rt=$(gcc -print-file-name=libasan.so)
[ -f "$asan_rt" ] || die "libasan.so not found via gcc -print-file-name (apt-get install g++)"

log "building the sanitized addon into $out/ (cmake-js, NETDIAG_SANITIZE=ON)"
mkdir -p "$out"
flock /tmp/netdiag-build.lock "$root/node_modules/.bin/cmake-js" compile --out "$out" --CDNETDIAG_SANITIZE=ON >"$out/cmake-js.log" 2>&1 || {
  tail -n 40 "$out/cmake-js.log" >&2; die "cmake-js build failed (full log: $out/cmake-js.log)"; }
case "$out" in /*) outdir=$out ;; *) outdir=$root/$out ;; esac
addon=$(find "$outdir" -name netdiag.node -type f -print -quit)
[ -n "$addon" ] || die "no netdiag.node under $out/"
readelf -d "$addon" | grep -q 'NEEDED.*libasan' || die "$addon is not linked against libasan (stale build dir?)"

export NETDIAG_ADDON="$addon"
export LD_PRELOAD="$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}"
# leaks: node/V8 leave allocations at exit (see test-asan.sh); halt_on_error: UBSan must stop
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

logfile=$(mktemp "${TMPDIR:-/tmp}/netdiag-fuzz-native.XXXXXX")
trap 'rm -f "$logfile"' EXIT
log "fuzzing ${targets[*]} for ${time} s each against $addon"
set +e
node scripts/fuzz.mjs --ci --time "$time" "${targets[@]}" 2>&1 | tee "$logfile"
rc=${PIPESTATUS[0]}
set -e
if grep -qE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$logfile"; then
  log "sanitizer reports found:"
  grep -nE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: .*Sanitizer' "$logfile" | head -n 20 >&2
  [ "$rc" -ne 0 ] || rc=1
  echo "fuzz: 0 passed, ${#targets[@]} failed, 0 skipped"
fi
exit "$rc"
