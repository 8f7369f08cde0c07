#!/usr/bin/env bash
# Installs the Debian 12 packages ashlar builds against, skipping those already present.
# Runs as root, or through sudo when available. Nothing else is downloaded.
#   install-deps.sh        the build's packages, and the OpenAPI validator the HTTP test
#                          runs (an npm package, pinned, into $OPENAPI_VALIDATOR_DIR)
#   install-deps.sh fuzz   clang and its libFuzzer runtime, for `make fuzz` only
#   install-deps.sh bench  wrk, for `make bench` only
set -euo pipefail

fuzz_packages=(clang-14 libclang-rt-14-dev)
bench_packages=(wrk)

# tests/http/CMakeLists.txt runs $OPENAPI_VALIDATOR_DIR/node_modules/.bin/validate-api.
OPENAPI_VALIDATOR_DIR=/usr/local/lib/ashlar-npm
OPENAPI_VALIDATOR=@seriousme/openapi-schema-validator@2.11.0

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
case "${1:-}" in
  fuzz) packages=("${fuzz_packages[@]}") ;;
  bench) packages=("${bench_packages[@]}") ;;
  *)
    # node and npm, for the validator: Debian's, unless the machine has a node already.
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
validator_missing=false
if [ -z "${1:-}" ] && ! [ -x "$OPENAPI_VALIDATOR_DIR/node_modules/.bin/validate-api" ]; then
  validator_missing=true
fi
[ ${#missing[@]} -eq 0 ] && [ "$validator_missing" = false ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: missing packages (${missing[*]}) and neither root nor sudo is available" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$validator_missing" = true ]; then
  echo "installing: $OPENAPI_VALIDATOR (npm) into $OPENAPI_VALIDATOR_DIR"
  "${sudo[@]}" npm install --no-audit --no-fund --no-save --prefix "$OPENAPI_VALIDATOR_DIR" "$OPENAPI_VALIDATOR"
fi
