#!/usr/bin/env bash
# Installs the Debian 12 packages ashlar builds against, skipping those already present.
# Runs as root, or through sudo when available. Nothing else is downloaded.
#   install-deps.sh        the build's packages
#   install-deps.sh fuzz   clang and its libFuzzer runtime, for `make fuzz` only
set -euo pipefail

fuzz_packages=(clang-14 libclang-rt-14-dev)

packages=(
  build-essential cmake pkg-config
  liblmdb-dev lmdb-utils
  libzmq3-dev cppzmq-dev
  capnproto libcapnp-dev
  libfmt-dev catch2 libsodium-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libbenchmark-dev libsqlite3-dev
  python3 python3-zmq
  nats-server libnats-dev
)
if [ "${1:-}" = fuzz ]; then
  packages=("${fuzz_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: missing packages (${missing[*]}) and neither root nor sudo is available" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
