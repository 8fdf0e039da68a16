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

# A throwaway PostgreSQL cluster under a temp dir, on a free loopback port, stopped when the script exits.
# Exports JX_TEST_POSTGRES (an admin URL) for the centre's conformance tests.
start_throwaway_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    step "apt-get install postgresql"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  PG_DIR=$(mktemp -d /tmp/jx-pg.XXXXXX)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 >/dev/null
  # fsync off: a test cluster that dies with the run needs no durability, and the suite runs faster.
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=200" \
    start >/dev/null
  PG_CTL=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop)
  trap 'stop_throwaway_postgres' EXIT
  export JX_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  step "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway, $PG_DIR)"
}

stop_throwaway_postgres() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_CTL[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=
  fi
}

# A C compiler for wasm32: SQLite is compiled from source for the web build (rusqlite's sqlite-wasm-rs back end).
ensure_clang() {
  if ! command -v clang >/dev/null; then
    step "apt-get install clang (SQLite for wasm32 is compiled from C)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
  fi
}

# The desktop build's system libraries (WebKitGTK, GTK 3, libxdo): only to prove in CI that it compiles.
ensure_desktop_libs() {
  if ! pkg-config --exists webkit2gtk-4.1 gtk+-3.0 2>/dev/null || [ ! -e /usr/include/xdo.h ]; then
    step "apt-get install the desktop build's libraries (WebKitGTK, GTK 3, libxdo)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev >/dev/null
  fi
}

# OpenSSL's headers and libcrypto: the phone's store is SQLCipher, which uses them natively.
ensure_openssl_dev() {
  if ! pkg-config --exists openssl 2>/dev/null; then
    step "apt-get install libssl-dev (SQLCipher's crypto on native builds)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev pkg-config >/dev/null
  fi
}
