# Sourced by scripts that run the app: starts the embedded services when needed and exports the
# SPIN_VARIABLE_* settings the app reads. Values already in the environment win.

scripts/services.sh start
while IFS= read -r line; do export "${line?}"; done < <(scripts/services.sh env)

# allowed_outbound_hosts need host:port; derive them from the URLs unless given.
host_port() { # host_port <url> <default-port>
  local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; rest=${rest%%\?*}
  case "$rest" in *:*) echo "$rest" ;; *) echo "$rest:$2" ;; esac
}
export SPIN_VARIABLE_DB_HOST=${SPIN_VARIABLE_DB_HOST:-$(host_port "$SPIN_VARIABLE_DB_URL" 5432)}
export SPIN_VARIABLE_REDIS_HOST=${SPIN_VARIABLE_REDIS_HOST:-$(host_port "$SPIN_VARIABLE_REDIS_URL" 6379)}

# A signing key per checkout, generated once, unless one is given.
if [ -z "${SPIN_VARIABLE_JWT_SECRET:-}" ]; then
  mkdir -p .spincart
  [ -s .spincart/jwt_secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .spincart/jwt_secret
  SPIN_VARIABLE_JWT_SECRET=$(cat .spincart/jwt_secret)
  export SPIN_VARIABLE_JWT_SECRET
fi
# The token the host's scheduled sweep presents (generated once, like the signing key).
if [ -z "${SPIN_VARIABLE_MAINTENANCE_TOKEN:-}" ]; then
  [ -s .spincart/maintenance_token ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > .spincart/maintenance_token
  SPIN_VARIABLE_MAINTENANCE_TOKEN=$(cat .spincart/maintenance_token)
  export SPIN_VARIABLE_MAINTENANCE_TOKEN
fi
