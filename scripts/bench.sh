#!/usr/bin/env bash
# Runs every benchmark and prints its tables: the device store, and the centre on SQLite and on a throwaway
# PostgreSQL cluster. Pass --quick for shorter runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
step "resident code hash"
cargo bench -p jx-core --bench code
step "walking routes against TSPLIB optima"
cargo bench -p jx-core --bench route
step "assignment by neighbourhood"
cargo bench -p jx-core --bench assign
step "photos: our pipeline vs the naive one (time, peak memory)"
cargo bench -p jx-proof --bench photo
step "QR scanning strategies vs plain rqrr"
cargo bench -p jx-proof --bench scan
step "device store"
cargo bench -p jx-store --bench store -- "$@"
step "sync engine"
cargo bench -p jx-sync --bench sync
start_throwaway_postgres
step "centre (SQLite and PostgreSQL)"
cargo bench -p jx-centre --bench centre -- "$@"
step "centre replicas: ingest from 200 phones, SQLite and PostgreSQL through 1, 2 and 4 replicas"
cargo bench -p jx-centre --bench replicas -- "$@"
