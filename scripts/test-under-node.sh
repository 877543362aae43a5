#!/usr/bin/env bash
# Runs the whole vitest suite under an official Node build of another release line, loading
# the x64 prebuild (never a build for that version: one Node-API binary serves them all).
#   scripts/test-under-node.sh 24 [vitest args]
# Needs npm run prebuild (prebuilds/linux-x64/netdiag.node, and netdiag_test.node beside it:
# the TUN addon of netdiag/testing, which src/testing/tun-addon.ts loads from NETDIAG_ADDON's
# directory, so the simulator tests run on the shipped test addon too).
# The Node build comes from scripts/official-node.sh (npm registry, cached, integrity-checked).
# NETDIAG_JSON_REPORT=FILE also writes vitest's JSON report (CI counts tests from it).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
log() { printf '[test-under-node] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

line=${1:-}
[[ "$line" =~ ^[0-9]+$ ]] || die "usage: test-under-node.sh MAJOR [vitest args], e.g. test-under-node.sh 24"
shift
addon=$root/prebuilds/linux-x64/netdiag.node
[ -f "$addon" ] || die "$addon not found (run npm run prebuild first)"
[ -f "$(dirname "$addon")/netdiag_test.node" ] || die "$(dirname "$addon")/netdiag_test.node not found (run npm run prebuild first)"
[ -d dist ] || die "dist/ not found (run npm run build:ts)"
node=$(bash "$root/scripts/official-node.sh" "$line") || die "no official Node $line build"

# vitest and every process the tests start by name (node, npm's shebang) run on this Node
export PATH="$(dirname "$node"):$PATH"
export NETDIAG_ADDON=$addon
log "node $(node -v) ($node), addon $addon"
args=(run --reporter=default)
if [ -n "${NETDIAG_JSON_REPORT:-}" ]; then
  mkdir -p "$(dirname "$NETDIAG_JSON_REPORT")"
  rm -f "$NETDIAG_JSON_REPORT"
  args+=(--reporter=json "--outputFile.json=$NETDIAG_JSON_REPORT")
fi
exec node "$root/node_modules/vitest/vitest.mjs" "${args[@]}" "$@"
