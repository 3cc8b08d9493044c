#!/usr/bin/env bash
# `make bench`: load-test the app and print requests/s and p50/p99 per scenario, the checkout
# saga's throughput and latency, and the PostgreSQL connections held — on the local host and
# on every real Spin in SPIN_BINS (or a `spin` on PATH), side by side from one run; and what the
# zero-row guard costs a statement. Report also in target/bench-report.md. Options go through
# BENCH_ARGS, e.g.
#   make bench SPIN_BINS="target/spin/spin-4.0.2 target/spin/spin-3.6.3"
#   make bench BENCH_ARGS="--seconds 20 --concurrency 64 --only carts"
#   make bench BENCH_ARGS="--url http://127.0.0.1:3000 --admin-email admin@spincart.local"
#   make bench BENCH_ARGS="--only saga --layout halves"   # the saga's shards on two processes
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/native.sh
source scripts/env.sh
export SPINCART_TEST_DB_URL=${SPINCART_TEST_DB_URL:-$SPIN_VARIABLE_DB_URL}
export SPINCART_TEST_REDIS_URL=${SPINCART_TEST_REDIS_URL:-$SPIN_VARIABLE_REDIS_URL}
if [ -z "${SPIN_BINS:-}" ] && command -v spin >/dev/null 2>&1; then
  export SPIN_BINS=$(command -v spin)
fi
echo "==> runtimes: local host${SPIN_BINS:+ and $SPIN_BINS}"
echo "==> building the load generator"
cargo build --release -q "${NATIVE_PACKAGES[@]}" --lib --bins
# shellcheck disable=SC2086 # BENCH_ARGS is a word list
exec target/release/spincart-bench ${BENCH_ARGS:-}
