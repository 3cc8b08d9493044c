#!/usr/bin/env bash
# `make bench`: load-test the app on the local host and print requests/s and p50/p90/p99 per
# scenario (report also in target/bench-report.md). Pass options through BENCH_ARGS, e.g.
#   make bench BENCH_ARGS="--seconds 20 --concurrency 64 --only carts"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/native.sh
source scripts/env.sh
export SPINCART_TEST_DB_URL=${SPINCART_TEST_DB_URL:-$SPIN_VARIABLE_DB_URL}
export SPINCART_TEST_REDIS_URL=${SPINCART_TEST_REDIS_URL:-$SPIN_VARIABLE_REDIS_URL}
echo "==> building the load generator"
cargo build --release -q "${NATIVE_PACKAGES[@]}" --lib --bins
# shellcheck disable=SC2086 # BENCH_ARGS is a word list
exec target/release/spincart-bench ${BENCH_ARGS:-}
