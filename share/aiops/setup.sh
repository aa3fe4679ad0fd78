#!/usr/bin/env bash
# Prepare a Debian 12 machine to build and test aiops, then build it.
#
# Installs, with apt-get and only when missing, the Debian packages aiops
# needs, then configures (CMake preset "default", build directory build/)
# and builds everything. Safe to run again: it installs nothing that is
# present and rebuilds only what changed.
#
# Usage: share/aiops/setup.sh [--no-build]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Build: compiler, CMake, and the libraries (Boost.Interprocess and Asio are
# header-only, so libboost-dev is all of Boost that is needed; libssl-dev
# for libcrypto's SHA-256).
# Tests: mandoc (man page lint), jq (reading --json output in shell tests),
# and real NBD clients for the NBD front-end: qemu-io (qemu-utils), nbdinfo
# and nbdcopy (libnbd-bin), nbdsh (python3-libnbd), fio with its nbd engine;
# nbdkit is a reference NBD server (tests/bench/nbd_peers.sh also wants
# nbd-server, which it asks for itself).
packages=(
  build-essential cmake pkg-config
  libcli11-dev libboost-dev libarmadillo-dev libtomlplusplus-dev doctest-dev
  nlohmann-json3-dev libxxhash-dev libssl-dev
  mandoc jq
  qemu-utils libnbd-bin python3-libnbd nbdkit fio
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

[[ ${1:-} == --no-build ]] && exit 0

cd "$root"
mkdir -p build
if ! cmake --preset default >build/configure.log 2>&1; then
  cat build/configure.log >&2
  echo "setup: configuring failed (output above)" >&2
  exit 1
fi
echo "setup: building in $root/build (log: build/build.log)" >&2
if ! cmake --build build -j "$(nproc)" >build/build.log 2>&1; then
  grep -E 'error|Error' -A5 build/build.log >&2 || tail -50 build/build.log >&2
  echo "setup: build failed (full log: build/build.log)" >&2
  exit 1
fi
