#!/usr/bin/env bash
# Installs, on Debian 12 as root, what the build and the test suite need: the compiler and
# headers for the addon, the tools the tests compare against (iputils ping, fping,
# traceroute, mtr, ss, netstat), nftables and iproute2 for test namespaces, and the cross
# compiler and qemu for the arm64 prebuild.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "setup-debian.sh: run as root (it installs Debian packages)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential python3 cmake ninja-build \
  iproute2 nftables iputils-ping fping traceroute mtr-tiny net-tools \
  libcap2-bin util-linux procps \
  qemu-user-static g++-aarch64-linux-gnu binutils-aarch64-linux-gnu \
  debian-archive-keyring ca-certificates >/dev/null
echo "setup-debian.sh: packages installed"
