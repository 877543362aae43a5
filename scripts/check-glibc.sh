#!/usr/bin/env bash
# Checks that the prebuilt binaries load on old distributions: for each prebuilds/*/*.node
# (netdiag.node, and netdiag_test.node: the TUN addon of netdiag/testing, which must be there too)
# (or the files given), prints the highest GLIBC_ symbol version it needs, any GLIBCXX_/CXXABI_
# requirement (a shared libstdc++) and its NEEDED libraries; lists each symbol above the floor.
# Fails when a binary needs a GLIBC_ version above $GLIBC_FLOOR (default 2.28, e.g. RHEL 8,
# Debian 10, Ubuntu 18.10), or any GLIBCXX_/CXXABI_ version, or libstdc++.so.6.
# readelf is used because it reads any ELF arch (the arm64 binary too).
# Last line: `glibc: N passed, N failed` (one check per binary).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
floor=${GLIBC_FLOOR:-2.28}
command -v readelf >/dev/null || { echo "check-glibc: readelf not found: apt-get install binutils" >&2; exit 2; }

if [ $# -gt 0 ]; then files=("$@"); else
  shopt -s nullglob
  files=("$root"/prebuilds/*/*.node)
  shopt -u nullglob
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "FAIL no prebuilds/*/*.node found (run npm run prebuild first)"
  echo "glibc: 0 passed, 1 failed"
  exit 1
fi

newer() {  # is version $1 > $2 ?
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1)" = "$1" ]
}

passed=0 failed=0
if [ $# -eq 0 ]; then
  # every arch ships both addons
  for d in "$root"/prebuilds/*/; do
    [ -f "$d/netdiag_test.node" ] || { echo "FAIL ${d#"$root"/}netdiag_test.node missing (the TUN addon of netdiag/testing; npm run prebuild)"; failed=$((failed + 1)); }
  done
fi
for f in "${files[@]}"; do
  rel=${f#"$root"/}
  if [ ! -f "$f" ]; then echo "FAIL $rel: no such file"; failed=$((failed + 1)); continue; fi
  # undefined dynamic symbols with their version: "name@GLIBC_2.34" (readelf -W prints
  # "name@VERSION (n)" for references)
  syms=$(readelf --dyn-syms -W "$f" | awk '$7 == "UND" && $8 ~ /@/ { sub(/ .*/, "", $8); print $8 }')
  machine=$(readelf -h "$f" | sed -n 's/^ *Machine: *//p')
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')
  glibc_max=$(printf '%s\n' "$syms" | sed -n 's/.*@GLIBC_\([0-9.]*\)$/\1/p' | sort -uV | tail -n 1)
  cxx=$(printf '%s\n' "$syms" | sed -n 's/.*@\(\(GLIBCXX\|CXXABI\)_[0-9.]*\)$/\1/p' | sort -uV | tr '\n' ' ' | sed 's/ $//')
  gcc=$(printf '%s\n' "$syms" | sed -n 's/.*@GCC_\([0-9.]*\)$/\1/p' | sort -uV | tail -n 1)
  problems=()
  above=()
  while IFS= read -r s; do
    [ -n "$s" ] || continue
    v=${s##*@GLIBC_}
    if newer "$v" "$floor"; then above+=("$s"); fi
  done < <(printf '%s\n' "$syms" | grep '@GLIBC_[0-9]' || true)
  [ ${#above[@]} -eq 0 ] || problems+=("needs GLIBC_$glibc_max > $floor: ${above[*]}")
  [ -z "$cxx" ] || problems+=("needs the shared libstdc++ ($cxx)")
  case " $needed " in *" libstdc++.so.6 "*) problems+=("links libstdc++.so.6 dynamically") ;; esac
  echo "$rel ($machine, $(stat -c %s "$f") bytes): highest GLIBC_${glibc_max:-none}; GLIBCXX/CXXABI: ${cxx:-none}; GCC_ (libgcc_s): ${gcc:-none}; NEEDED: ${needed:-none}"
  if [ ${#problems[@]} -eq 0 ]; then
    echo "PASS $rel: loads with glibc >= $floor, no libstdc++ needed"
    passed=$((passed + 1))
  else
    for p in "${problems[@]}"; do echo "FAIL $rel: $p"; done
    failed=$((failed + 1))
  fi
done
echo "glibc: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
