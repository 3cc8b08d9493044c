#!/usr/bin/env bash
# Builds every Spin component (components/*) and the host's test guests
# (crates/spincart-host/test-guests/*) for wasm32-wasip1, into target/wasm32-wasip1/release,
# which is where spin.toml's `source` paths point (the same place `spin build` writes to).
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain_env=$(scripts/toolchain.sh)
WASM_CARGO=""; WASM_BUILD_STD=""
while IFS= read -r line; do
  key=${line%%=*}; value=${line#*=}
  case "$key" in
    WASM_CARGO) WASM_CARGO=$value ;;
    WASM_BUILD_STD) WASM_BUILD_STD=$value ;;
    *) export "$key=$value" ;;
  esac
done <<<"$toolchain_env"

packages=()
for dir in components/*/ crates/spincart-host/test-guests/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  packages+=(-p "$(basename "$dir")")
done
echo "==> building $(( ${#packages[@]} / 2 )) wasm components (first build compiles std: ~2-4 min)" >&2
# shellcheck disable=SC2086 # WASM_CARGO / WASM_BUILD_STD are word lists on purpose
$WASM_CARGO build $WASM_BUILD_STD --target wasm32-wasip1 --release "${packages[@]}"
