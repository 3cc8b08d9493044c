#!/usr/bin/env bash
# Lists spin.toml's components by trigger, as `--component-id` flags for Spin's selective
# deployment (`spin up -c …`), so the API and the event consumers can run as separate processes:
#
#   spin up --listen 0.0.0.0:3000 $(scripts/components.sh http)   # the HTTP components
#   spin up $(scripts/components.sh redis)                         # the Redis-triggered ones
#   spin up $(scripts/components.sh shard 2)                       # the saga's consumers of shard 2
#
#   scripts/components.sh http|redis|shard K [--ids]   (--ids: bare ids, one per line)
#   scripts/components.sh count    (how many there are, by trigger: the figures the docs quote)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 http|redis|shard K [--ids] | count" >&2; exit 2; }
if [ "${1:-}" = count ]; then
  http=$("$0" http --ids | wc -l)
  redis=$("$0" redis --ids | wc -l)
  shards=$(awk -F'"' '/^saga_shards[[:space:]]*= *\{/ { print $2; exit }' spin.toml)
  echo "$((http + redis)) components: $http HTTP, $redis Redis-triggered (saga_shards = $shards)"
  echo "PostgreSQL connections one Spin 4 process may open: $((http + redis)) x 64 = $(((http + redis) * 64))"
  echo "max_connections of the embedded PostgreSQL (scripts/services.sh): $(((http + redis) * 64)) + 200 = $(((http + redis) * 64 + 200))"
  exit 0
fi
trigger=${1:-}
shard=
case "$trigger" in
  http | redis) shift ;;
  shard)
    trigger=redis shard=${2:-}
    case "$shard" in "" | *[!0-9]*) usage ;; esac
    shift 2
    ;;
  *) usage ;;
esac
format=flags
[ "${1:-}" = "--ids" ] && format=ids

# Component ids of every [[trigger.<trigger>]] table (with a shard: whose channel is of that
# shard, `….<shard>`), in manifest order, each once.
awk -v want="[[trigger.$trigger]]" -v shard="$shard" '
  function value(line) { sub(/^[^"]*"/, "", line); sub(/".*$/, "", line); return line }
  function take() {
    if (id != "" && (shard == "" || channel ~ ("\\." shard "$")) && !(id in seen)) {
      seen[id] = 1; print id
    }
    id = ""; channel = ""
  }
  /^\[/ { take(); inside = ($0 == want) }
  inside && /^component[[:space:]]*=/ { id = value($0) }
  inside && /^channel[[:space:]]*=/ { channel = value($0) }
  END { take() }
' spin.toml | while read -r id; do
  if [ "$format" = ids ]; then echo "$id"; else printf -- '-c %s ' "$id"; fi
done
[ "$format" = ids ] || echo
