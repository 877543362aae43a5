#!/usr/bin/env bash
# Packs netdiag as it would be published and installs the tarball into an empty folder with
# PREBUILDS_ONLY=1 and no compiler reachable, then runs the installed package:
#   - the tarball holds dist/, bin/, both prebuilds (netdiag.node, and netdiag_test.node: the
#     TUN addon that only netdiag/testing loads), and no build/ output; netdiag.node holds no
#     TUN code;
#   - npm install runs the package's install script (node-gyp-build), which must find the
#     x64 prebuild: gcc/g++/cc/c++/make/cmake/ninja on PATH are traps that record any call,
#     CC/CXX=false, and node-gyp-build with PREBUILDS_ONLY=1 never falls back to a build;
#   - `npx netdiag doctor --json` reports the addon loaded from
#     node_modules/netdiag/prebuilds/linux-x64, and so does the library import (which maps
#     netdiag.node alone);
#   - netdiag/testing's TUN path simulator runs on the installed x64 test addon prebuild (root
#     and /dev/net/tun needed: without them the check says SKIP and counts nothing).
# Needs the prebuilds (npm run prebuild) and the npm registry (for netdiag's dependencies).
# Last line: `packed: N passed, N failed`.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "packed: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netdiag-packed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export npm_config_nodedir=${npm_config_nodedir:-/usr}
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

for a in x64 arm64; do
  for f in netdiag.node netdiag_test.node; do
    [ -f "$root/prebuilds/linux-$a/$f" ] || { fail "prebuilds/linux-$a/$f missing (run npm run prebuild first)"; finish; }
  done
done

# ---- pack (prepack compiles dist/ with tsc)
cd "$root" || exit 2
if npm pack --json --pack-destination "$tmp" >"$tmp/pack.json" 2>"$tmp/pack.err"; then
  tgz=$(node -e 'const r=require(process.argv[1]); console.log(r[0].filename)' "$tmp/pack.json" 2>/dev/null)
  tgz=$tmp/${tgz##*/}
fi
if [ -z "${tgz:-}" ] || [ ! -f "$tgz" ]; then
  tail -n 30 "$tmp/pack.err"
  fail "npm pack (prepack runs npm run build:ts)"
  finish
fi
pass "npm pack: $(basename "$tgz"), $(stat -c %s "$tgz") bytes"

listing=$(tar -tzf "$tgz")
missing=()
for f in package/package.json package/bin/netdiag.js package/dist/index.js package/dist/index.d.ts \
         package/dist/bin/cli.js package/prebuilds/linux-x64/netdiag.node \
         package/prebuilds/linux-arm64/netdiag.node package/prebuilds/linux-x64/netdiag_test.node \
         package/prebuilds/linux-arm64/netdiag_test.node package/dist/testing/index.js \
         package/binding.gyp package/native/addon.cc package/native/testing/tun.cc; do
  grep -qxF "$f" <<<"$listing" || missing+=("${f#package/}")
done
# no build output; the test addon only as the two prebuilds
stray=$(grep -E '^package/(build|build-[^/]*|node_modules|\.sysroot)/' <<<"$listing" | head -n 5)
stray_test=$(grep -E 'netdiag_test\.node$' <<<"$listing" | grep -vxE 'package/prebuilds/linux-(x64|arm64)/netdiag_test\.node' | head -n 5)
if [ ${#missing[@]} -eq 0 ] && [ -z "$stray$stray_test" ]; then
  pass "tarball holds dist/, bin/, prebuilds/linux-x64 and linux-arm64 with both addons ($(wc -l <<<"$listing") files, no build output)"
else
  fail "tarball: missing ${missing[*]:-nothing}; stray: ${stray:-none} ${stray_test}"
fi
# the library's binary carries no test code: the TUN open lives in netdiag_test.node only
for a in x64 arm64; do
  if grep -qaF /dev/net/tun "$root/prebuilds/linux-$a/netdiag.node"; then
    fail "prebuilds/linux-$a/netdiag.node holds TUN code (/dev/net/tun)"
  elif ! grep -qaF /dev/net/tun "$root/prebuilds/linux-$a/netdiag_test.node"; then
    fail "prebuilds/linux-$a/netdiag_test.node holds no TUN code"
  else
    pass "prebuilds/linux-$a: the TUN code is in netdiag_test.node, not in netdiag.node"
  fi
done

# ---- install into an empty folder, no compiler
app=$tmp/app
traps=$tmp/no-compiler
mkdir -p "$app" "$traps"
for t in gcc g++ cc c++ make cmake ninja; do
  printf '#!/bin/sh\necho "%s $*" >> %s/calls\necho "test-packed: %s was called, but the install must not compile" >&2\nexit 1\n' \
    "$t" "$tmp" "$t" > "$traps/$t"
  chmod 755 "$traps/$t"
done
printf '{ "name": "netdiag-packed-test", "version": "1.0.0", "private": true }\n' > "$app/package.json"
(
  cd "$app" &&
  PATH="$traps:$PATH" CC=false CXX=false PREBUILDS_ONLY=1 npm_config_build_from_source=false \
    npm install --no-audit --no-fund --foreground-scripts "$tgz"
) >"$tmp/install.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -f "$app/node_modules/netdiag/prebuilds/linux-x64/netdiag.node" ]; then
  pass "npm install of the tarball with PREBUILDS_ONLY=1"
else
  tail -n 30 "$tmp/install.log"
  fail "npm install of the tarball (exit $rc)"
fi
if [ -f "$tmp/calls" ]; then
  fail "the install invoked a compiler: $(tr '\n' ';' < "$tmp/calls")"
elif [ -e "$app/node_modules/netdiag/build" ]; then
  fail "the install created node_modules/netdiag/build"
else
  pass "no compiler was invoked and no build/ was made (the install script found the prebuild)"
fi

want="$app/node_modules/netdiag/prebuilds/linux-x64/netdiag.node"

# ---- the CLI: npx netdiag doctor --json
(cd "$app" && PATH="$traps:$PATH" PREBUILDS_ONLY=1 npx --no-install netdiag doctor --json) >"$tmp/doctor.json" 2>"$tmp/doctor.err"
rc=$?
# the report must say the addon came from the installed x64 prebuild
verdict=$(node -e '
  const fs = require("fs");
  const [file, want] = process.argv.slice(1);
  let r;
  try { r = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) { console.log("no JSON report: " + e.message); process.exit(1); }
  const a = r.addon || {};
  if (!a.loaded) { console.log("addon not loaded: " + (a.error || JSON.stringify(a))); process.exit(1); }
  if (fs.realpathSync(a.path) !== fs.realpathSync(want) || a.source !== "prebuild" || a.arch !== "x64") {
    console.log(`addon ${a.path} (${a.source}, ${a.arch}), expected ${want} (prebuild, x64)`); process.exit(1);
  }
  const bad = (r.checks || []).filter((c) => !c.ok).map((c) => c.name);
  console.log(`addon ${a.source} ${a.arch} napi ${a.napi} from node_modules/netdiag/prebuilds/linux-x64; ok=${r.ok}${bad.length ? " checks not ok: " + bad.join(",") : ""}`);
' "$tmp/doctor.json" "$want" 2>&1)
vrc=$?
if [ $vrc -eq 0 ]; then
  pass "npx netdiag doctor --json (exit $rc): $verdict"
  if [ $rc -eq 0 ]; then pass "doctor finds nothing missing"; else fail "doctor exits $rc: $verdict"; fi
else
  head -c 2000 "$tmp/doctor.err"
  fail "npx netdiag doctor --json (exit $rc): $verdict"
fi

# ---- the library: import('netdiag') loads that same binary (ground truth: /proc/self/maps)
lib=$(cd "$app" && PREBUILDS_ONLY=1 node --input-type=module -e '
  const m = await import("netdiag");
  const info = typeof m.addonInfo === "function" ? m.addonInfo() : null;
  const { readFileSync } = await import("node:fs");
  const mapped = [...new Set(readFileSync("/proc/self/maps", "utf8").split("\n")
    .map((l) => l.split(/\s+/)[5]).filter((p) => p && p.endsWith(".node")))];
  console.log(JSON.stringify({ exports: Object.keys(m).length, info, mapped }));
' 2>&1)
rc=$?
verdict=$(node -e '
  const fs = require("fs");
  const [out, want] = process.argv.slice(1);
  let r;
  try { r = JSON.parse(out.trim().split("\n").pop()); } catch { console.log("import failed: " + out.slice(0, 500)); process.exit(1); }
  const real = fs.realpathSync(want);
  if (!r.mapped.some((p) => p === real)) { console.log(`mapped .node files: ${r.mapped.join(", ") || "none"}; expected ${want}`); process.exit(1); }
  if (r.mapped.some((p) => p !== real)) { console.log(`other .node files mapped too: ${r.mapped.join(", ")}`); process.exit(1); }
  console.log(`${r.exports} exports; mapped ${r.mapped.join(", ").replace(/.*\/node_modules\//, "node_modules/")}`);
' "$lib" "$want" 2>&1)
vrc=$?
if [ $rc -eq 0 ] && [ $vrc -eq 0 ]; then pass "import('netdiag') + addonInfo(): $verdict"; else fail "import('netdiag') (exit $rc): $verdict"; fi

# ---- netdiag/testing: the TUN simulator on the installed test addon prebuild
want_test="$app/node_modules/netdiag/prebuilds/linux-x64/netdiag_test.node"
sim=$(cd "$app" && PATH="$traps:$PATH" PREBUILDS_ONLY=1 node --input-type=module -e '
  const t = await import("netdiag/testing");
  const support = t.testNetworkSupport({ tun: true });
  if (!support.ok) { console.log(JSON.stringify({ skip: support.reason })); process.exit(0); }
  const { readFileSync } = await import("node:fs");
  const sim = await t.createSimulatedPath();
  try {
    sim.setScenario(sim.scenario(3));
    const ping = await sim.ns.run(sim.ns.ns, "ping", ["-c1", "-W2", sim.destination.v4]);
    const mapped = [...new Set(readFileSync("/proc/self/maps", "utf8").split("\n")
      .map((l) => l.split(/\s+/)[5]).filter((p) => p && p.endsWith(".node")))];
    console.log(JSON.stringify({ mapped, ping: ping.code, seen: sim.responder.seen.length }));
  } finally { await sim.close(); }
' 2>&1)
rc=$?
verdict=$(node -e '
  const fs = require("fs");
  const [out, want, wantTest] = process.argv.slice(1);
  let r;
  try { r = JSON.parse(out.trim().split("\n").pop()); } catch { console.log("FAIL netdiag/testing failed: " + out.slice(0, 500)); process.exit(1); }
  if (r.skip) { console.log("SKIP " + r.skip); process.exit(0); }
  const real = [fs.realpathSync(want), fs.realpathSync(wantTest)].sort();
  const got = [...r.mapped].sort();
  if (JSON.stringify(got) !== JSON.stringify(real)) { console.log(`FAIL mapped .node files: ${got.join(", ")}; expected ${real.join(", ")}`); process.exit(1); }
  if (r.ping !== 0 || r.seen < 1) { console.log(`FAIL ping through the simulated path exited ${r.ping}, the responder saw ${r.seen} packets`); process.exit(1); }
  console.log(`PASS mapped ${got.map((p) => p.replace(/.*\/node_modules\//, "node_modules/")).join(" and ")}; ping through the path answered`);
' "$sim" "$want" "$want_test" 2>&1)
case "$verdict" in
  PASS*) pass "netdiag/testing createSimulatedPath() on the test addon prebuild: ${verdict#PASS }" ;;
  SKIP*) echo "SKIP netdiag/testing createSimulatedPath(): ${verdict#SKIP } (needs root and /dev/net/tun)" ;;
  *) fail "netdiag/testing createSimulatedPath() (exit $rc): ${verdict#FAIL }" ;;
esac

finish
