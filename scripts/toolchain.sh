#!/usr/bin/env bash
# Makes sure a Rust toolchain that can build wasm32-wasip1 is available and prints, on stdout,
# the environment assignments the wasm build needs (one per line, for `eval` or `env`).
#
# Two paths (see ../shared/TOOLCHAIN.md in the project notes and docs/building.md):
#   1. rustup already has the wasm32-wasip1 target          -> plain `cargo build --target ...`
#   2. otherwise: Debian's rustc-web + rust-web-src + wasi-libc + lld-19, with -Zbuild-std.
#      The packages are installed only when missing.
# Progress goes to stderr so that stdout stays machine-readable.
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }

# The size flags of .cargo/config.toml's [target.wasm32-wasip1] rustflags (opt-level s, no
# symbol names), repeated because CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS replaces that setting.
WASM_SIZE_FLAGS="-C opt-level=s -C strip=symbols"

sysroot=$(rustc --print sysroot 2>/dev/null || true)
if [ -n "$sysroot" ] && [ -d "$sysroot/lib/rustlib/wasm32-wasip1" ]; then
  say "wasm toolchain: rustup target wasm32-wasip1 found in $sysroot"
  echo "WASM_CARGO=cargo"
  echo "WASM_BUILD_STD="
  exit 0
fi

debian_packages=(rustc-web cargo-web rust-web-src lld-19 wasi-libc)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "wasm toolchain: rustup has no wasm32-wasip1 target; installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
else
  say "wasm toolchain: Debian rustc-web $(/usr/bin/rustc --version | cut -d' ' -f2) with build-std"
fi

if command -v rustup >/dev/null 2>&1; then
  if ! rustup toolchain list | grep -q '^debian'; then
    say "linking Debian's toolchain into rustup as 'debian'"
    rustup toolchain link debian /usr >&2
  fi
  echo "WASM_CARGO=cargo +debian"
else
  echo "WASM_CARGO=/usr/bin/cargo"
fi
echo "WASM_BUILD_STD=-Zbuild-std=std,panic_abort"
echo "RUSTC_BOOTSTRAP=1"
# Only the wasm target gets these flags: native code built in the same run (build scripts,
# proc-macros) and the native host build never see them.
echo "CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS=-C linker=wasm-ld-19 -C link-self-contained=no -L /usr/lib/wasm32-wasi $WASM_SIZE_FLAGS"
