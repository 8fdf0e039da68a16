#!/usr/bin/env bash
# Runs the product on this machine with nothing set up by hand: builds the app for the web and serves it on
# 127.0.0.1, and writes the demo town (JSON and GeoJSON) under data/demo. Installs what it needs itself.
# (The centre joins this command when it exists: see the README.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
PORT="${PORT:-8080}"

ensure_rust_target wasm32-unknown-unknown
ensure_wasm_bindgen

step "demo town → data/demo"
cargo run --quiet --release -p jx-core --example demo-town -- data/demo

step "building the web app"
cargo build --release --target wasm32-unknown-unknown -p jing-xiaoer --features web
out=target/web
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" \
  target/wasm32-unknown-unknown/release/jing-xiaoer.wasm
cp web/index.html "$out/"

step "serving the app at http://127.0.0.1:$PORT/ (Ctrl-C stops it)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$out"
