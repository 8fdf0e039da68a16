#!/usr/bin/env bash
# The end-to-end suite: the built web app in Debian's headless Chromium (driven by playwright-core from npm, never a
# downloaded browser) against a real centre with the demo town. Installs what it needs if it is missing (Chromium,
# the suite's npm packages), builds the app (scripts/build-web.sh → target/web) and the centre (debug), then runs
# tests/e2e/staff.mjs and tests/e2e/coordinator.mjs. Screenshots and figures: target/e2e-screens/{staff,coordinator}/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if [ ! -x /usr/bin/chromium ]; then
  step "apt-get install chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# CJK glyphs for the screenshots (the app is Chinese first).
if ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
  step "apt-get install fonts-wqy-microhei"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei
fi

# npm packages: installed again when node_modules is missing or older than the manifest or the lock.
e2e=tests/e2e
if [ ! -d "$e2e/node_modules/playwright-core" ] \
  || [ "$e2e/package.json" -nt "$e2e/node_modules/.package-lock.json" ] \
  || { [ -f "$e2e/package-lock.json" ] && [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; }; then
  step "npm packages for the e2e suite"
  if [ -f "$e2e/package-lock.json" ]; then
    (cd "$e2e" && npm ci --silent --no-audit --no-fund)
  else
    (cd "$e2e" && npm install --silent --no-audit --no-fund)
  fi
fi

step "building the web app"
bash scripts/build-web.sh   # installs what it needs itself (wasm32 target, wasm-bindgen-cli, clang)

step "building the centre"
cargo build --workspace --bins

step "staff e2e suite"
node tests/e2e/staff.mjs
node tests/e2e/coordinator.mjs
