#!/usr/bin/env bash
# Time to a 503 and back to 201 across a database outage, on the release binary (BENCHMARKS.md).
#
# PostgreSQL sits behind HAProxy in TCP mode; stopping that HAProxy closes every connection and
# refuses new ones (a cut: a crashed or restarted database server), starting it again brings the
# database back. A client fires one message every 100 ms for 4 s, each on its own session, then
# retries every 100 ms after the database is back until a 201.
#
# Needs PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres), haproxy, curl, and
# `cargo build --release`. Usage: ops/bench/database-outage.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CBLN_BIN:-${CARGO_TARGET_DIR:-target}/release/cbln}
RUNS=${1:-3}
PG_PROXY_PORT=${PG_PROXY_PORT:-15432}
APP_PORT=${APP_PORT:-18090}
[ -x "$BIN" ] || { echo "build the release binary first: cargo build --release" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "install haproxy: apt-get install -y haproxy" >&2; exit 1; }

work=$(mktemp -d)
database="cbln_outage_$$"
proxy="" app=""
cleanup() {
  [ -n "$app" ] && kill "$app" 2>/dev/null && wait "$app" 2>/dev/null
  [ -n "$proxy" ] && kill "$proxy" 2>/dev/null && wait "$proxy" 2>/dev/null
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/pg.cfg" <<CFG
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 1s
    timeout client 1h
    timeout server 1h
listen postgres
    bind 127.0.0.1:$PG_PROXY_PORT
    server postgres 127.0.0.1:5432
CFG
start_proxy() { haproxy -db -f "$work/pg.cfg" >/dev/null 2>&1 & proxy=$!; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
post() { # token → status
  curl -s -o /dev/null -w '%{http_code}' -m 30 -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -d '{"content":"hôm nay mình thấy hơi mệt"}' \
    "http://127.0.0.1:$APP_PORT/api/v1/messages"
}

psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $database" >/dev/null
start_proxy
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PROXY_PORT/$database" \
  ENCRYPTION_KEY=$("$BIN" keys generate) SECRET_KEY=$("$BIN" keys generate) PORT=$APP_PORT \
  CBLN__RATE_LIMIT__ENABLED=false CBLN__DATABASE__STATEMENT_TIMEOUT_MS=1000 \
  CBLN__LOG__LEVEL=error "$BIN" serve >"$work/cbln.log" 2>&1 &
app=$!
until curl -sf "http://127.0.0.1:$APP_PORT/health/ready" >/dev/null; do sleep 0.1; done

echo "run  first-503-after-cut-ms  answers(503/other)  slowest-ms  first-201-after-restore-ms"
for run in $(seq 1 "$RUNS"); do
  tokens=()
  for _ in $(seq 1 41); do
    tokens+=("$(curl -s -H 'Content-Type: application/json' -d '{}' \
      "http://127.0.0.1:$APP_PORT/api/v1/sessions" | sed -n 's/.*"session_token":"\([^"]*\)".*/\1/p')")
  done
  [ "$(post "${tokens[0]}")" = 201 ] || { echo "no 201 before the cut" >&2; exit 1; }
  sleep 1

  kill "$proxy"; wait "$proxy" 2>/dev/null || true
  cut=$(now_ms) first_503="" unavailable=0 other=0 slowest=0
  for i in $(seq 1 40); do
    sent=$(now_ms)
    status=$(post "${tokens[$i]}")
    answered=$(now_ms)
    took=$((answered - sent))
    [ "$took" -gt "$slowest" ] && slowest=$took
    if [ "$status" = 503 ]; then
      unavailable=$((unavailable + 1))
      [ -z "$first_503" ] && first_503=$((answered - cut))
    else
      other=$((other + 1))
    fi
    pause=$(( 100 - took )); [ "$pause" -gt 0 ] && sleep "0.$(printf '%03d' "$pause")"
  done

  start_proxy
  restored=$(now_ms)
  until [ "$(post "${tokens[1]}")" = 201 ]; do sleep 0.1; done
  back=$(( $(now_ms) - restored ))
  echo "$run    ${first_503:-none}    $unavailable/$other    $slowest    $back"
done
