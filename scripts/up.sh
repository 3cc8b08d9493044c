#!/usr/bin/env bash
# `make up`: start the embedded PostgreSQL and Redis (unless SPIN_VARIABLE_DB_URL /
# SPIN_VARIABLE_REDIS_URL point elsewhere), apply migrations, and serve the app with the local
# Spin-compatible host on 127.0.0.1:3000 (SPINCART_LISTEN to change). The host runs the
# maintenance sweep every SPINCART_SWEEP_EVERY (default 15s), as a CronJob would in production.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

echo "==> applying migrations"
target/release/spincart-host migrate --dir migrations
echo "==> starting spincart on http://${SPINCART_LISTEN:-127.0.0.1:3000} (Ctrl-C to stop)"
exec target/release/spincart-host up --manifest spin.toml --listen "${SPINCART_LISTEN:-127.0.0.1:3000}" \
  --schedule "${SPINCART_SWEEP_EVERY:-15s} POST /api/v1/admin/maintenance/run" \
  --schedule-header 'X-Maintenance-Token: {{ maintenance_token }}'
