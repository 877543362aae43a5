#!/usr/bin/env bash
# npm run prebuild: Node-API prebuilds for linux-x64 (native) and linux-arm64 (cross-compiled)
#   -> prebuilds/linux-x64/netdiag.node, prebuilds/linux-arm64/netdiag.node      (the library)
#      prebuilds/linux-x64/netdiag_test.node, prebuilds/linux-arm64/netdiag_test.node
#         (the TUN addon that only netdiag/testing loads, src/testing/tun-addon.ts; native/testing/)
# netdiag.node must hold no test code: a build whose netdiag.node mentions /dev/net/tun fails.
# Stripped; libstdc++ is linked statically (binding.gyp's ldflags), so each binary needs only
# libc, libm, libgcc_s and the dynamic loader. scripts/check-glibc.sh checks the glibc floor.
# Installs nothing: the cross toolchain comes from apt (g++-aarch64-linux-gnu).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
log() { printf '[prebuild] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# npm treats a script named "prebuild" as the pre-hook of "build": `npm run build` would run
# this first (30+ s, the cross compiler, and rm -rf build). The environment is the same either
# way, so look at the npm process that started us: only `npm run prebuild` names "prebuild".
if [ "${npm_lifecycle_event:-}" = prebuild ] && [ "${NETDIAG_PREBUILD_AS_HOOK:-0}" != 1 ]; then
  pid=$PPID
  for _ in 1 2 3 4 5; do
    cmd=" $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) " || break
    case "$cmd" in
      *" npm "*|*"/npm "*|*npm-cli.js*)
        case "$cmd" in *" prebuild "*) break ;; esac
        log "skipped: npm ran this as the pre-hook of 'npm run build'; npm run prebuild builds the prebuilds"
        exit 0 ;;
    esac
    pid=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f2)
    [ -n "$pid" ] && [ "$pid" -gt 1 ] || break
  done
fi

# node-gyp (run by prebuildify) must find the node headers locally: without a nodedir it
# downloads them from nodejs.org (and prebuildify --napi asks for the newest Node's headers).
# /usr/include/node comes with the nodesource/Debian node; Node-API headers do not depend
# on the target arch, so the same headers serve the arm64 build.
export npm_config_nodedir=${npm_config_nodedir:-/usr}
[ -f "$npm_config_nodedir/include/node/node_api.h" ] ||
  die "no Node headers in $npm_config_nodedir/include/node (set npm_config_nodedir to a Node install that has include/node)"

need() { command -v "$1" >/dev/null || die "$1 not found: apt-get install $2"; }
need g++ g++
need make make
need readelf binutils
for t in gcc g++ ar strip; do need "aarch64-linux-gnu-$t" "g++-aarch64-linux-gnu binutils-aarch64-linux-gnu"; done
prebuildify=node_modules/.bin/prebuildify   # not npx: npm would warn about npm_config_nodedir
[ -x "$prebuildify" ] || die "$prebuildify missing: run npm ci first"
export JOBS=${JOBS:-max}                     # node-gyp: make -j<cores>
# One node-gyp build per arch makes both addons (binding.gyp). prebuildify moves the first
# *.node of build/Release (readdir order: netdiag.node before netdiag_test.node) to
# prebuilds/linux-<arch>/netdiag.node and strips it; the test addon is stripped and moved here.
export npm_config_netdiag_test_addon=true
move_test_addon() {  # arch, strip binary
  local dir=prebuilds/linux-$1 built=build/Release/netdiag_test.node
  [ -f "$built" ] || die "$built was not built (binding.gyp's netdiag_test target)"
  # what prebuildify moved must be the library: the test addon is the one that opens /dev/net/tun
  grep -qaF /dev/net/tun "$dir/netdiag.node" && die "$dir/netdiag.node holds the TUN code (prebuildify moved the test addon?)"
  grep -qaF /dev/net/tun "$built" || die "$built does not hold the TUN code"
  "$2" --strip-all -o "$dir/netdiag_test.node" "$built" || die "$2 failed on $built"
  rm -f "$built"
  local others
  others=$(find build -name '*.node' ! -path '*/obj.target/*')
  [ -z "$others" ] || die "the build made other addons besides netdiag.node and netdiag_test.node: $(echo $others)"
}

# Each binary may need only these (readelf -d NEEDED). libstdc++.so.6 means -static-libstdc++
# did not apply. libgcc_s.so.1 is allowed: every glibc system has it (glibc itself dlopens it
# for pthread_cancel), and linking it dynamically is how the unwinder avoids GCC 12's
# _dl_find_object@GLIBC_2.35 (static libgcc_eh); see scripts/check-glibc.sh.
allowed='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'
check_binary() {  # file, expected machine text from readelf -h
  local f=$1 machine=$2 needed bad
  [ -f "$f" ] || die "$f was not produced"
  readelf -h "$f" | grep -q "Machine:.*$machine" || die "$f is not a $machine ELF: $(readelf -h "$f" | grep Machine:)"
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(printf '%s\n' "$needed" | grep -vE "$allowed" || true)
  [ -z "$bad" ] || die "$f needs $(echo $bad) besides libc/libm/libgcc_s/ld-linux (is -static-libstdc++ in binding.gyp?)"
  if readelf -S "$f" | grep -q '\.symtab'; then die "$f is not stripped"; fi
  log "ok $f: $(stat -c %s "$f") bytes, $machine, needs $(echo $needed)"
}

buildlog=$(mktemp "${TMPDIR:-/tmp}/netdiag-prebuild.XXXXXX")
trap 'rm -f "$buildlog"' EXIT
run() {  # quiet unless it fails (node-gyp is chatty)
  "$@" >"$buildlog" 2>&1 || { tail -n 60 "$buildlog" >&2; die "failed: $*"; }
  grep -E 'warning:' "$buildlog" >&2 || true
}

rm -rf prebuilds/linux-x64 prebuilds/linux-arm64
t0=$SECONDS
log "linux-x64 (g++ $(g++ -dumpversion))"
run "$prebuildify" --napi --strip
move_test_addon x64 strip
check_binary prebuilds/linux-x64/netdiag.node 'X86-64'
check_binary prebuilds/linux-x64/netdiag_test.node 'X86-64'

t1=$SECONDS
log "linux-arm64 (aarch64-linux-gnu-g++ $(aarch64-linux-gnu-g++ -dumpversion), cross)"
# --strip-bin: the host strip cannot handle aarch64 ELF files ("strip exited with 1")
run env CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  "$prebuildify" --napi --strip --arch arm64 --strip-bin aarch64-linux-gnu-strip
move_test_addon arm64 aarch64-linux-gnu-strip
check_binary prebuilds/linux-arm64/netdiag.node 'AArch64'
check_binary prebuilds/linux-arm64/netdiag_test.node 'AArch64'

# build/Release now holds the *arm64* netdiag.node, and node-gyp-build prefers build/ over
# prebuilds/: on x64, loading the package from this checkout would then fail with a misleading
# "cannot open shared object file". Remove it; the x64 prebuild serves this checkout from now
# on (npm run build:native makes a local build again, which then takes precedence).
rm -rf build
log "done in $((SECONDS - t0)) s (x64 $((t1 - t0)) s, arm64 $((SECONDS - t1)) s); removed build/ (it held the arm64 build)"
ls -l prebuilds/*/*.node
