#!/usr/bin/env bash
# `make test`: formatting, lints, unit tests, the host's own tests, per-component tests and the
# end-to-end suite — against real PostgreSQL and Redis, installing what is missing.
#
# The end-to-end suite (fault tests included) runs on the local host (strict profile), then once
# more on every real Spin binary given: SPIN_BINS="/path/to/spin-4.0.2 /path/to/spin-3.6.3", or
# else a `spin` on PATH. Without any, it says it skipped them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/native.sh

started=$SECONDS
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - started))" "$*"; }

step "formatting (cargo fmt --check)"
cargo fmt --all --check

step "wasm components (scripts/build-wasm.sh)"
scripts/build-wasm.sh

step "storefront (scripts/storefront.sh build: npm ci from the lockfile, vue-tsc, vite)"
# spin.toml mounts storefront/dist into the storefront component: every app start needs it.
scripts/storefront.sh build

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

step "schemathesis for the contract test (PyPI, pinned, into target/venv)"
SCHEMATHESIS_VERSION=4.32.5
if ! target/venv/bin/st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv target/venv 2>/dev/null || {
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv target/venv
  }
  target/venv/bin/pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
target/venv/bin/st --version

step "deploy/: SpinKube manifests against the CRD schemas, Kubernetes objects strict, consistent with spin.toml"
# jsonschema and pyyaml are schemathesis's own versions; kubernetes-validate is added beside them.
DEPLOY_PY_PACKAGES=("jsonschema==4.26.0" "pyyaml==6.0.3" "kubernetes-validate==1.37.0")
if ! target/venv/bin/python - "${DEPLOY_PY_PACKAGES[@]}" 2>/dev/null <<'PY'
import sys, importlib.metadata as m
sys.exit(any(m.version(p.split("==")[0]) != p.split("==")[1] for p in sys.argv[1:]))
PY
then
  target/venv/bin/pip install -q "${DEPLOY_PY_PACKAGES[@]}"
fi
target/venv/bin/python deploy/validate.py
target/venv/bin/python deploy/validate.py --self-test

step "unit tests (every native crate: domain, platform, contexts, host)"
cargo test --release "${NATIVE_PACKAGES[@]}" --lib --bins

step "doc tests"
cargo test --release "${NATIVE_PACKAGES[@]}" --doc

step "host tests (test guests on the real host)"
cargo test --release "${NATIVE_PACKAGES[@]}" --test host

step "component tests (one component at a time, through the harness)"
cargo test --release "${NATIVE_PACKAGES[@]}" --test components

if [ -n "${SPINCART_BASE_URL:-}" ]; then
  step "end-to-end tests (the app at $SPINCART_BASE_URL)"
  cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e
  step "all tests passed"
  exit 0
fi

step "end-to-end tests on the local host (strict profile)"
SPINCART_RUNTIME=local cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e

spin_bins=${SPIN_BINS:-}
if [ -z "$spin_bins" ] && command -v spin >/dev/null 2>&1; then
  spin_bins=$(command -v spin)
fi
if [ -z "$spin_bins" ]; then
  step "end-to-end tests on real Spin: SKIPPED (no SPIN_BINS and no spin on PATH)"
else
  for bin in $spin_bins; do
    [ -x "$bin" ] || { echo "SPIN_BINS: $bin is not an executable" >&2; exit 1; }
    step "end-to-end tests on real Spin: $("$bin" --version 2>/dev/null || echo "$bin")"
    SPINCART_RUNTIME=$bin cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e
  done
fi

step "all tests passed"
