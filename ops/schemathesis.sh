#!/usr/bin/env bash
# Runs schemathesis (`--checks all`) against a fresh server on SQLite: once without a token, then
# with a session's token. Usage, from the repository root after `cargo build`:
#
#   ops/schemathesis.sh [MAX_EXAMPLES [MAX_TIME]]
#
# MAX_EXAMPLES: examples per operation and pass (default 100). MAX_TIME: seconds each pass may
# run; with it, schemathesis keeps fuzzing until the time is spent (default: until done).
#
# Needs `schemathesis` on PATH (or SCHEMATHESIS=/path/to/schemathesis); the binary is taken from
# CARGO_TARGET_DIR (default ./target), debug build unless PROFILE=release. The rate limits stay
# on (a 429 is part of the contract), raised so that the pipeline is reached more than 25 times a
# minute. ops/schemathesis_hooks.py ties each Idempotency-Key to its body, as a client does. Exits
# non-zero when any pass reports a failure; the server's log and schemathesis'
# reports stay in the printed directory.
set -euo pipefail

examples="${1:-100}"
time_budget=()
if [ -n "${2:-}" ]; then time_budget=(--max-time "$2"); fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
binary="${CARGO_TARGET_DIR:-$repo/target}/${PROFILE:-debug}/cbln"
schemathesis="${SCHEMATHESIS:-schemathesis}"
port="${PORT:-18765}"
base="http://127.0.0.1:$port"
work="$(mktemp -d /tmp/cbln-schemathesis.XXXXXX)"
echo "working directory: $work"

(
    cd "$work"
    CBLN_CONFIG_DIR="$repo/config" \
        DATABASE_URL="sqlite://$work/cbln.db" \
        CBLN__SERVER__PORT="$port" \
        CBLN__RATE_LIMIT__MESSAGES_PER_MINUTE=600 \
        CBLN__RATE_LIMIT__MESSAGE_BURST=100 \
        CBLN__RATE_LIMIT__SESSIONS_PER_MINUTE=120 \
        CBLN__RATE_LIMIT__SESSION_BURST=20 \
        exec "$binary" >"$work/server.log" 2>&1
) &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fsS "$base/health/ready" >/dev/null

run() {
    local name="$1"
    shift
    echo "== $name"
    PYTHONPATH="$repo/ops${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks \
        "$schemathesis" run "$base/openapi.json" --checks all --max-examples "$examples" \
        --workers 2 --no-color --generation-database :memory: \
        --report junit --report-dir "$work/$name" "${time_budget[@]}" "$@"
}

new_token() {
    curl -fsS -X POST "$base/api/v1/sessions" | python3 -c \
        'import json, sys; print(json.load(sys.stdin)["session"]["session_token"])'
}

status=0
# Without a token, and without generated credentials: schemathesis would otherwise put a token
# the API issued earlier in the run (it opens sessions too) where a credential goes, and report
# that valid token's 200 as "generated auth accepted". The passes with a token probe the refusals
# of missing and invalid credentials on every operation.
run no-token --generation-with-security-parameters false || status=1
# With a token: the operations that end the session get a session of their own, after the rest.
# `GET /api/v1/events` is left out: its stream does not end, so a request/response fuzzer can only
# time out on it (tests/api/events.rs covers it; the no-token pass covers its refusals).
run token -H "Authorization: Bearer $(new_token)" \
    --exclude-path /api/v1/events --exclude-method DELETE \
    --exclude-path /api/v1/sessions/exit || status=1
run token-delete -H "Authorization: Bearer $(new_token)" --include-method DELETE || status=1
run token-exit -H "Authorization: Bearer $(new_token)" \
    --include-path /api/v1/sessions/exit || status=1
echo "requests served: $(grep -c 'request completed\|request failed' "$work/server.log")"
if grep -q 'panicked' "$work/server.log"; then
    echo "the server panicked: see $work/server.log"
    status=1
fi
exit "$status"
