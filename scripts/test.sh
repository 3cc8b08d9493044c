#!/usr/bin/env bash
# `make test`: formatting, lints, unit tests, the host's own tests, per-component tests and the
# end-to-end suite — against real PostgreSQL and Redis, installing what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/native.sh

started=$SECONDS
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - started))" "$*"; }

step "formatting (cargo fmt --check)"
cargo fmt --all --check

step "wasm components (scripts/build-wasm.sh)"
scripts/build-wasm.sh

step "lints (cargo clippy -D warnings; first run compiles wasmtime's metadata: ~3 min)"
cargo clippy --release --workspace --all-targets -- -D warnings

step "local host (first build compiles wasmtime: ~6 min on 2 cores)"
cargo build --release "${NATIVE_PACKAGES[@]}" --lib --bins

step "PostgreSQL and Redis"
source scripts/env.sh
export SPINCART_TEST_DB_URL=${SPINCART_TEST_DB_URL:-$SPIN_VARIABLE_DB_URL}
export SPINCART_TEST_REDIS_URL=${SPINCART_TEST_REDIS_URL:-$SPIN_VARIABLE_REDIS_URL}
# Test databases of earlier runs (spincart_t_*) are dropped; the migrated template is kept.
if command -v psql >/dev/null 2>&1; then
  psql "$SPINCART_TEST_DB_URL" -qtAc "SELECT 'DROP DATABASE ' || quote_ident(datname) || ';' FROM pg_database WHERE datname LIKE 'spincart\_t\_%'" \
    | psql "$SPINCART_TEST_DB_URL" -q >/dev/null 2>&1 || true
fi

step "unit tests (domain, platform, host)"
cargo test --release "${NATIVE_PACKAGES[@]}" --lib --bins

step "doc tests"
cargo test --release "${NATIVE_PACKAGES[@]}" --doc

step "host tests (test guests on the real host)"
cargo test --release "${NATIVE_PACKAGES[@]}" --test host

step "component tests (one component at a time, through the harness)"
cargo test --release "${NATIVE_PACKAGES[@]}" --test components

step "end-to-end tests (the whole app${SPINCART_BASE_URL:+ at $SPINCART_BASE_URL})"
cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e

step "all tests passed"
