#!/usr/bin/env bash
# Lists spin.toml's components by trigger, as `--component-id` flags for Spin's selective
# deployment (`spin up -c …`), so the API and the event consumers can run as separate processes:
#
#   spin up --listen 0.0.0.0:3000 $(scripts/components.sh http)   # the HTTP components
#   spin up $(scripts/components.sh redis)                         # the Redis-triggered ones
#
#   scripts/components.sh http|redis [--ids]   (--ids: bare ids, one per line)
set -euo pipefail
cd "$(dirname "$0")/.."

trigger=${1:-}
case "$trigger" in
  http | redis) ;;
  *) echo "usage: $0 http|redis [--ids]" >&2; exit 2 ;;
esac
format=flags
[ "${2:-}" = "--ids" ] && format=ids

# Component ids of every [[trigger.<trigger>]] table, in manifest order, each once.
awk -v want="[[trigger.$trigger]]" '
  /^\[/ { inside = ($0 == want) }
  inside && /^component[[:space:]]*=/ {
    id = $0; sub(/^[^"]*"/, "", id); sub(/".*$/, "", id)
    if (!(id in seen)) { seen[id] = 1; print id }
  }
' spin.toml | while read -r id; do
  if [ "$format" = ids ]; then echo "$id"; else printf -- '-c %s ' "$id"; fi
done
[ "$format" = ids ] || echo
