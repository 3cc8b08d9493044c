#!/usr/bin/env bash
# The storefront and admin console (Vue 3 + TypeScript in storefront/, served by the
# `storefront` component at /, talking to the GraphQL gateway at /graphql).
#
#   scripts/storefront.sh build        install Node.js if missing, `npm ci` when node_modules is
#                                      stale, type-check and build storefront/dist
#   scripts/storefront.sh test [URL]   the Playwright browser tests (storefront/tests) against a
#                                      running app (default http://127.0.0.1:3000), in the system
#                                      Chromium (installed with apt when missing; no download).
#                                      Failure screenshots: target/playwright/; deliberate ones:
#                                      target/screenshots/. Extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "$0")/.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
export CHROMIUM_PATH

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  echo "==> installing $* (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  # Vite 8 and Playwright need Node.js 20.19 or newer.
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "storefront: Node.js $(node --version) is too old; 20.19 or newer is needed (e.g. from NodeSource)" >&2
    exit 1
  fi
}

# `npm ci` when node_modules is missing or older than package-lock.json.
ensure_deps() {
  local stamp=storefront/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ storefront/package-lock.json -nt "$stamp" ]; then
    echo "==> installing the storefront's npm packages (npm ci)"
    (cd storefront && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

build() {
  ensure_node
  ensure_deps
  echo "==> building the storefront (vue-tsc + vite) into storefront/dist"
  (cd storefront && npm run --silent build -- --logLevel warn)
  echo "    storefront/dist ready ($(find storefront/dist -type f | wc -l) files)"
}

run_tests() {
  local url=${1:-${SPINCART_URL:-http://127.0.0.1:3000}}
  shift || true
  ensure_node
  ensure_deps
  if [ ! -x "$CHROMIUM_PATH" ]; then
    apt_install chromium
  fi
  mkdir -p target/playwright target/screenshots
  echo "==> browser tests against $url ($("$CHROMIUM_PATH" --version 2>/dev/null | head -1))"
  (cd storefront && SPINCART_URL=$url npx playwright test "$@")
}

case "${1:-}" in
  build) build ;;
  test) shift; run_tests "$@" ;;
  *) echo "usage: scripts/storefront.sh build | test [URL] [playwright args…]" >&2; exit 2 ;;
esac
