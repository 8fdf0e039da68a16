#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against the centre's own OpenAPI document, on a throwaway demo centre started from
# the debug build, with a coordinator's token, for a bounded time. Any 5xx answer fails the run. Installs
# schemathesis into target/schemathesis-venv once (python3-venv from Debian if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

SECONDS_BUDGET="${JX_SCHEMATHESIS_SECONDS:-120}"
VENV=target/schemathesis-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    step "apt-get install python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi

cargo build -q --workspace --bins
DATA=$(mktemp -d /tmp/jx-st.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/debug/jx-centre --demo --listen "127.0.0.1:$PORT" --data-dir "$DATA" >"$DATA/centre.log" 2>&1 &
CENTRE=$!
trap 'kill $CENTRE 2>/dev/null || true; rm -rf "$DATA"' EXIT
TOKEN=$(python3 - "$PORT" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}/api/v1"
for _ in range(240):
    try:
        urllib.request.urlopen(base + "/health", timeout=2)
        break
    except OSError:
        time.sleep(0.5)
req = urllib.request.Request(base + "/auth/login", data=json.dumps({"login": "c2", "password": "jx-demo-2026"}).encode(),
                             headers={"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=30))["token"])
PY
)
# /auth/refresh, /auth/logout and ending a member's sessions are left out: each can retire the token the run uses (the
# hardening tests cover them).
status=0
"$VENV/bin/schemathesis" run crates/centre/openapi.json --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $TOKEN" --checks not_a_server_error --exclude-path /api/v1/auth/refresh --exclude-path /api/v1/auth/logout --exclude-path "/api/v1/staff/{staff}/sessions/end" \
  --max-examples 25 --max-time "$SECONDS_BUDGET" --seed 20261129 --no-color >"$DATA/schemathesis.log" 2>&1 || status=$?
tail -25 "$DATA/schemathesis.log"
if grep -q "internal error" "$DATA/centre.log"; then
  echo "the centre logged internal errors:"; grep "internal error" "$DATA/centre.log" | head -20
  exit 1
fi
exit "$status"
