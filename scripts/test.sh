#!/usr/bin/env bash
# Runs every check of the project on a fresh machine of this kind: formatting, lints, every test of every crate,
# the centre's API suite on both storage back ends (SQLite, and a throwaway PostgreSQL cluster), the desktop build,
# and the web build of the app driven end to end in headless Chromium. Installs what it needs itself, idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# A clean run gains nothing from incremental compilation and its caches cost gigabytes of disk (CI once ran out).
export CARGO_INCREMENTAL=0

ensure_rust_target wasm32-unknown-unknown
ensure_clang
ensure_openssl_dev

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (workspace; the centre on SQLite)"
cargo test --workspace -- --skip killed_at_random_moments --skip randomised_faults

step "crash and fault-injection suites (they print what they did)"
# --workspace everywhere: one feature set for every build, so nothing is compiled twice (-p alone unifies features
# differently and rebuilds the dependency tree).
cargo test --workspace --test kill -- --nocapture
cargo test --workspace --test faults randomised_faults -- --nocapture

step "schemathesis against the centre's OpenAPI document (bounded; any 5xx fails)"
bash scripts/schemathesis.sh

start_throwaway_postgres
step "the centre's conformance suite again, on PostgreSQL"
JX_TEST_POSTGRES="$JX_TEST_POSTGRES" cargo test --workspace --test api --test proof --test geo --test hardening --test coordinator --test doorcard --test household --test schema --test feed --test attack
step "three replicas on one PostgreSQL, twenty phones, SIGKILLs (it prints what it did)"
JX_TEST_POSTGRES="$JX_TEST_POSTGRES" cargo test --workspace --test replicas -- --nocapture

step "the desktop build compiles"
ensure_desktop_libs
cargo check -p jing-xiaoer --features desktop

step "end to end in a real browser: the staff app against a real centre (builds the web app)"
bash scripts/e2e.sh

step "all checks passed"
