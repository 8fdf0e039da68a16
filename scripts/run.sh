#!/usr/bin/env bash
# Runs the product on this machine with nothing set up by hand: builds the app for the web, writes the demo town
# (JSON and GeoJSON) under data/demo, and starts the centre on 127.0.0.1 with the demo town in data/centre
# (embedded SQLite, photos on disk), serving the API at /api/v1 and the app at /. Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_openssl_dev
PORT="${PORT:-7878}"

step "demo town → data/demo"
cargo run --quiet --release -p jx-core --example demo-town -- data/demo

bash scripts/build-web.sh
out=target/web

step "building the centre"
cargo build --release -p jx-centre

step "starting the centre with the demo town: http://127.0.0.1:$PORT/ (Ctrl-C stops it)"
exec target/release/jx-centre --demo --demo-assigned --listen "127.0.0.1:$PORT" --data-dir data/centre --app-dir "$out"
