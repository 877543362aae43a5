#!/usr/bin/env bash
# Installs, on Debian 12 as root, what the build and the test suite need: the compiler and
# headers for the addon, the tools the tests compare against (iputils ping, fping,
# traceroute, mtr, ss, netstat, hping3 and nping for TCP ping, scamper and dublin-traceroute
# for multipath traces), nftables and iproute2 for test
# namespaces, Prometheus, smokeping_prober and blackbox_exporter for netdiag serve's tests and
# benchmark (their binaries are run directly by the tests, never as services), and the cross
# compiler and qemu for the arm64 prebuild.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "setup-debian.sh: run as root (it installs Debian packages)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# Packages must not start their daemons (a Prometheus on :9090 scraping, a smokeping_prober
# pinging): a policy-rc.d that refuses every start, unless the machine already has one.
guard=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' > "$guard"
  chmod 755 "$guard"
  trap 'rm -f "$guard"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential python3 cmake ninja-build \
  iproute2 nftables iputils-ping fping traceroute mtr-tiny net-tools hping3 nmap \
  scamper dublin-traceroute \
  libcap2-bin util-linux procps \
  prometheus prometheus-smokeping-prober prometheus-blackbox-exporter \
  qemu-user-static g++-aarch64-linux-gnu binutils-aarch64-linux-gnu \
  debian-archive-keyring ca-certificates >/dev/null
echo "setup-debian.sh: packages installed"
