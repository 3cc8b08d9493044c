#!/usr/bin/env bash
# `make up`: start the embedded PostgreSQL and Redis (unless SPIN_VARIABLE_DB_URL /
# SPIN_VARIABLE_REDIS_URL point elsewhere), apply migrations, and serve the app on
# 127.0.0.1:3000 (SPINCART_LISTEN to change) — with the local Spin-compatible host, or with a
# real Spin binary when SPINCART_RUNTIME names one (`make up SPINCART_RUNTIME=/path/to/spin`).
# The maintenance sweep runs every SPINCART_SWEEP_EVERY (default 15s), as a CronJob would in
# production.
set -euo pipefail
cd "$(dirname "$0")/.."
# Whether the database is the embedded one (decided before env.sh fills the default in).
own_database=${SPIN_VARIABLE_DB_URL:+no}
source scripts/env.sh

# Locally, the GraphQL explorer is on (production keeps the default: off).
export SPIN_VARIABLE_GRAPHQL_EXPLORER=${SPIN_VARIABLE_GRAPHQL_EXPLORER:-true}

listen=${SPINCART_LISTEN:-127.0.0.1:3000}
every=${SPINCART_SWEEP_EVERY:-15s}
runtime=${SPINCART_RUNTIME:-local}

echo "==> applying migrations"
target/release/spincart-host migrate --dir migrations

# The local admin: made as an operator makes one (spincart-admin), once, with a generated
# password kept in .spincart/admin_password. A database of your own gets no admin from here:
# make one with `target/release/spincart-admin create --email you@example.com`.
admin_email=${SPINCART_ADMIN_EMAIL:-admin@spincart.local}
if [ -z "$own_database" ]; then
  mkdir -p .spincart
  [ -s .spincart/admin_password ] ||
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > .spincart/admin_password)
  echo "==> $(target/release/spincart-admin create --email "$admin_email" --password-file .spincart/admin_password --full-name "Local Admin")"
  admin_line="    admin: $admin_email, password: $(cat .spincart/admin_password) (kept in .spincart/admin_password)"
else
  admin_line="    admin: none made here (your own database): target/release/spincart-admin create --email you@example.com"
fi

if [ "$runtime" = local ]; then
  echo "==> starting spincart on the local host at http://$listen (Ctrl-C to stop)"
  echo "$admin_line"
  exec target/release/spincart-host up --manifest spin.toml --listen "$listen" \
    --schedule "$every POST /api/v1/admin/maintenance/run" \
    --schedule-header 'X-Maintenance-Token: {{ maintenance_token }}'
fi

[ -x "$runtime" ] || { echo "SPINCART_RUNTIME=$runtime is not an executable Spin binary" >&2; exit 1; }
echo "==> starting spincart on $("$runtime" --version) at http://$listen (Ctrl-C to stop)"
echo "$admin_line"
echo "    the Redis trigger exits when Redis goes away, and Spin stops HTTP with it: for the"
echo "    API to outlive Redis, run two processes (docs/real-spin.md)"
# Spin has no scheduler: the sweep is called from here, as the CronJob does in production.
(
  while sleep "$every"; do
    curl -s -o /dev/null -X POST -H "X-Maintenance-Token: $SPIN_VARIABLE_MAINTENANCE_TOKEN" \
      "http://$listen/api/v1/admin/maintenance/run" || true
  done
) &
sweeper=$!
trap 'kill $sweeper 2>/dev/null || true' EXIT
"$runtime" up --from spin.toml --listen "$listen"
