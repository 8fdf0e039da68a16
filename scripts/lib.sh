# Helpers shared by the project's scripts: each installs what it needs only if it is missing.

step() { printf '\n==> %s\n' "$*"; }

ensure_rust_target() {
  if ! rustup target list --installed | grep -qx "$1"; then
    step "rustup target add $1"
    rustup target add "$1"
  fi
}

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    step "cargo install wasm-bindgen-cli $want"
    # Its own lock file pins crates that can be yanked later; then resolve afresh.
    cargo install wasm-bindgen-cli --version "$want" --locked || cargo install wasm-bindgen-cli --version "$want"
  fi
}
