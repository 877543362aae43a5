#!/usr/bin/env bash
# The whole suite: build (addon with node-gyp + dist/ with tsc), then every vitest file.
#   npm run test:all [-- vitest args]            (README: the full-suite command)
# As root every privileged test runs; set NETDIAG_REQUIRE_ALL=1 (CI does) to turn a skipped
# privileged test into a failure. NETDIAG_JSON_REPORT=FILE also writes vitest's JSON report.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
# node-gyp finds the node headers offline through this (see build-recipes.md)
export npm_config_nodedir=${npm_config_nodedir:-/usr}

echo "[test-all] npm run build" >&2
npm run build

args=(run --reporter=default)
if [ -n "${NETDIAG_JSON_REPORT:-}" ]; then
  mkdir -p "$(dirname "$NETDIAG_JSON_REPORT")"
  rm -f "$NETDIAG_JSON_REPORT"
  args+=(--reporter=json "--outputFile.json=$NETDIAG_JSON_REPORT")
fi
echo "[test-all] vitest ${args[*]} $* (NETDIAG_REQUIRE_ALL=${NETDIAG_REQUIRE_ALL:-0})" >&2
exec "$root/node_modules/.bin/vitest" "${args[@]}" "$@"
