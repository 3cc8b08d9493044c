#!/usr/bin/env bash
# `make test`: formatting, lints, unit tests, the host's own tests, per-component tests and the
# end-to-end suite — against real PostgreSQL and Redis, installing what is missing.
#
# The end-to-end suite (fault tests included) runs on the local host (strict profile), then once
# more on every real Spin binary given: SPIN_BINS="/path/to/spin-4.0.2 /path/to/spin-3.6.3", or
# else a `spin` on PATH. Without any, it says it skipped them — and under CI=true that fails.
#
# Every suite runs under a wall-clock limit and fails with its name when it passes it (a hung app
# must not hang `make test`). Tests that cannot run where they are say so (SPINCART_SKIP_LOG);
# the closing summary lists them with the number of tests each suite passed, and under CI=true a
# skip is a failure. After each end-to-end suite, an app that restarted without a fault test
# expecting it fails the run (target/test-apps/unexpected-restarts.log).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/native.sh

started=$SECONDS
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - started))" "$*"; }
in_ci() { [ "${CI:-}" = "true" ]; }

mkdir -p target/test-logs target/test-apps
export SPINCART_SKIP_LOG=$PWD/target/test-logs/skipped.log
restarts_log=target/test-apps/unexpected-restarts.log
rm -f "$SPINCART_SKIP_LOG" "$restarts_log"
summary=()

# run_suite <name> <limit in seconds> <command...>: runs a suite under its limit, keeps its
# output in target/test-logs/<name>.log, and adds its count of passed tests to the summary.
run_suite() {
  local name=$1 limit=$2
  shift 2
  local log="target/test-logs/${name// /-}.log" status
  set +e
  timeout --kill-after=30 "$limit" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "FAILED: the suite '$name' did not finish within its limit of ${limit}s (a hung app or test; its output: $log)" >&2
    exit 1
  fi
  if [ "$status" -ne 0 ]; then
    echo "FAILED: the suite '$name' (its output: $log)" >&2
    exit "$status"
  fi
  if [ -s "$restarts_log" ]; then
    echo "FAILED: in the suite '$name', an app restarted without a fault test expecting it:" >&2
    cat "$restarts_log" >&2
    exit 1
  fi
  local passed
  passed=$(grep -o 'test result: ok\. [0-9]* passed' "$log" | awk '{ n += $4 } END { print n + 0 }')
  summary+=("$name: $passed tests passed")
}

# The closing lines: what ran, what did not, and why.
finish() {
  step "summary"
  printf '  %s\n' "${summary[@]}"
  local skipped=0
  if [ -s "$SPINCART_SKIP_LOG" ]; then
    skipped=$(grep -c '^SKIPPED' "$SPINCART_SKIP_LOG" || true)
    echo "  not run here ($(wc -l <"$SPINCART_SKIP_LOG") tests: $skipped skipped, the rest not applicable to their runtime):"
    sed 's/^/    /' "$SPINCART_SKIP_LOG"
  fi
  if [ "$skipped" -gt 0 ] && in_ci; then
    echo "FAILED: under CI=true every test must run" >&2
    exit 1
  fi
  step "$1"
}

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
run_suite "unit" 900 cargo test --release "${NATIVE_PACKAGES[@]}" --lib --bins

step "doc tests"
run_suite "doc" 600 cargo test --release "${NATIVE_PACKAGES[@]}" --doc

step "host tests (test guests on the real host)"
run_suite "host" 600 cargo test --release "${NATIVE_PACKAGES[@]}" --test host

step "component tests (one component at a time, through the harness)"
run_suite "components" 900 cargo test --release "${NATIVE_PACKAGES[@]}" --test components

if [ -n "${SPINCART_BASE_URL:-}" ]; then
  step "end-to-end tests (the app at $SPINCART_BASE_URL)"
  run_suite "e2e on $SPINCART_BASE_URL" 1800 cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e
  finish "all tests passed"
  exit 0
fi

step "end-to-end tests on the local host (strict profile)"
SPINCART_RUNTIME=local run_suite "e2e on the local host" 1500 cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e

spin_bins=${SPIN_BINS:-}
if [ -z "$spin_bins" ] && command -v spin >/dev/null 2>&1; then
  spin_bins=$(command -v spin)
fi
if [ -z "$spin_bins" ]; then
  step "end-to-end tests on real Spin: SKIPPED (no SPIN_BINS and no spin on PATH)"
  summary+=("e2e on real Spin: SKIPPED, no SPIN_BINS and no spin on PATH")
  if in_ci; then
    echo "FAILED: under CI=true the end-to-end suite must run on real Spin (.ci/run unpacks ../shared/spin/*.xz; none was found)" >&2
    exit 1
  fi
else
  for bin in $spin_bins; do
    [ -x "$bin" ] || { echo "SPIN_BINS: $bin is not an executable" >&2; exit 1; }
    version=$("$bin" --version 2>/dev/null || echo "$bin")
    step "end-to-end tests on real Spin: $version"
    SPINCART_RUNTIME=$bin run_suite "e2e on $version" 1500 cargo test --release "${NATIVE_PACKAGES[@]}" --test e2e
  done
fi

finish "all tests passed"
