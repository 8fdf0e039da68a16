#!/usr/bin/env bash
# Builds the web app into target/web: the staff page (Dioxus, pkg/), the coordinator's desk (desk/, desk.html), the
# engine's dedicated worker (worker/: store, sync, photos, QR), index.html, and the service worker that keeps them
# for offline starts. Installs what it needs itself (the wasm32 target, wasm-bindgen-cli matching Cargo.lock, clang
# for SQLite's C).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_rust_target wasm32-unknown-unknown
ensure_wasm_bindgen
ensure_clang

profile="${WEB_PROFILE:-web}"
step "web build ($profile profile): the page and the engine's worker"
cargo build --profile "$profile" --target wasm32-unknown-unknown -p jing-xiaoer --features web
cargo build --profile "$profile" --target wasm32-unknown-unknown -p jx-worker
bin="target/wasm32-unknown-unknown/$profile"
out=target/web
rm -rf "$out" && mkdir -p "$out"
# Without the name and producers sections: ~12 % less to download (measured: 2.09 → 1.83 MB gzipped).
bindgen=(wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section)
"${bindgen[@]}" --out-dir "$out/pkg" "$bin/jing-xiaoer.wasm"
# The coordinator's desk is its own module and page (desk.html), so a staff phone never downloads it.
"${bindgen[@]}" --out-dir "$out/desk" "$bin/jx-desk.wasm"
"${bindgen[@]}" --out-dir "$out/worker" "$bin/jx_worker.wasm"
cp web/index.html web/desk.html web/worker.js web/boot.js "$out/"
cp web/desk-boot.js "$out/desk/boot.js"

# The service worker's list of files (the staff app's: the desk is cached as it is loaded) and a build stamp, so a
# new build replaces the old cache.
files=$(cd "$out" && find . -type f ! -name sw.js ! -name desk.html ! -path './desk/*' | sed 's|^\.||' | sort | awk 'BEGIN{printf "[\"/\""} {printf ",\"%s\"", $0} END{printf "]"}')
stamp=$(cd "$out" && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
sed -e "s|__FILES__|$files|" -e "s|__BUILD__|$stamp|" web/sw.js > "$out/sw.js"
step "web app in $out: $(du -sh "$out" | cut -f1), build $stamp"
