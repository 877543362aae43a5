#!/usr/bin/env bash
# Runs the linux-arm64 prebuild under qemu-user with an arm64 Node 24 (scripts/arm64-smoke.cjs):
# raw ICMP ping of 127.0.0.1, SEQPACKET round trip with fd passing, errno mapping; then the test
# addon beside it (netdiag_test.node: loads, packet I/O).
#   scripts/test-arm64.sh [path/to/netdiag.node]    (default prebuilds/linux-arm64/netdiag.node)
# Builds the sysroot on first use (scripts/arm64-sysroot.sh, .sysroot/arm64; ARM64_SYSROOT
# overrides). Needs qemu-user-static and CAP_NET_RAW (root). Last line: `arm64: N passed, N failed`.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
addon=$(realpath -m "${1:-$root/prebuilds/linux-arm64/netdiag.node}")
sysroot=${ARM64_SYSROOT:-$root/.sysroot/arm64}
qemu=${QEMU_AARCH64:-qemu-aarch64-static}

fail() { echo "FAIL $*"; echo "arm64: 0 passed, 1 failed"; exit 1; }
[ -f "$addon" ] || fail "$addon not found (run npm run prebuild first)"
[ -f "$(dirname "$addon")/netdiag_test.node" ] || fail "$(dirname "$addon")/netdiag_test.node not found (run npm run prebuild first)"
command -v "$qemu" >/dev/null || fail "$qemu not found (apt-get install qemu-user-static)"
node=$(bash "$root/scripts/arm64-sysroot.sh" "$sysroot") || fail "could not build the arm64 sysroot in $sysroot"

start=$SECONDS
# No binfmt_misc needed: qemu runs the arm64 node directly and the smoke test spawns no
# child processes. -L makes the sysroot the root for the dynamic loader and the libraries.
"$qemu" -L "$sysroot" "$node" "$root/scripts/arm64-smoke.cjs" "$addon"
rc=$?
echo "[test-arm64] emulated run took $((SECONDS - start)) s" >&2
exit "$rc"
