#!/usr/bin/env bash
# Sets how many shards the checkout saga runs on. Every saga event goes to the channel of its
# shard (`cart.checkout_requested.3`: the saga id modulo `saga_shards`), and every saga consumer
# runs once per shard, as a component of its own (`on-checkout-requested-s3`) on a Redis
# connection of its own: one saga's events stay in order, different sagas' run side by side,
# and shards can be deployed on different processes or nodes (`scripts/components.sh shard 3`).
#
#   scripts/saga-shards.sh N        rewrite spin.toml for N shards (the generated block between
#                                   the `# >>> saga shards` markers, and the saga_shards default)
#   scripts/saga-shards.sh          render again with the current count (after editing the
#                                   template, scripts/saga-shards.toml.in)
#   scripts/saga-shards.sh --check  fail when spin.toml is not what the template and its
#                                   saga_shards default give (run by `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."

manifest=spin.toml
template=scripts/saga-shards.toml.in
current=$(sed -n 's/^saga_shards = { default = "\([0-9]*\)".*$/\1/p' "$manifest")
[ -n "$current" ] || { echo "$manifest has no 'saga_shards = { default = \"N\", … }' variable" >&2; exit 1; }

mode=write
shards=$current
case "${1:-}" in
  --check) mode=check ;;
  "") ;;
  *[!0-9]* | 0) echo "usage: $0 [N >= 1 | --check]" >&2; exit 2 ;;
  *) shards=$1 ;;
esac
if [ "$shards" -gt 64 ]; then
  echo "$shards shards: at most 64 (each is a Redis connection and a pool per consumer)" >&2
  exit 2
fi

block=$(mktemp) rendered=$(mktemp)
trap 'rm -f "$block" "$rendered"' EXIT
for ((k = 0; k < shards; k++)); do
  echo "# --- shard $k of $shards ---"
  echo
  sed "s/@SHARD@/$k/g" "$template"
  echo
done >"$block"

awk -v block="$block" -v shards="$shards" '
  /^saga_shards = \{ default = "[0-9]*"/ { sub(/"[0-9]*"/, "\"" shards "\""); print; next }
  /^# >>> saga shards/ { print; while ((getline line < block) > 0) print line; skipping = 1; next }
  /^# <<< saga shards/ { skipping = 0 }
  !skipping { print }
' "$manifest" >"$rendered"
grep -q '^# <<< saga shards' "$rendered" || { echo "$manifest has no '# >>> saga shards' … '# <<< saga shards' markers" >&2; exit 1; }

if [ "$mode" = check ]; then
  if ! diff -u "$manifest" "$rendered" >&2; then
    echo "spin.toml's saga shards are out of date: run scripts/saga-shards.sh" >&2
    exit 1
  fi
  echo "spin.toml: $shards saga shards, as rendered from $template"
else
  cp "$rendered" "$manifest"
  echo "spin.toml: $shards saga shards (was $current)"
fi
